from __future__ import annotations

import signal

from kernelwright.core.protocol import ErrorCode
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.process import _classify_exit


def test_how_a_death_is_named() -> None:
    config = WorkerConfig()
    assert _classify_exit(-signal.SIGKILL, config)[0] is ErrorCode.OOM  # we did not send it: the OOM killer
    code, what = _classify_exit(-signal.SIGSEGV, config)
    assert code is ErrorCode.CRASH and "segmentation fault" in what
    code, what = _classify_exit(-signal.SIGXFSZ, config)
    assert code is ErrorCode.CRASH and "MiB limit" in what
    code, what = _classify_exit(7, config)
    assert code is ErrorCode.EXIT and "code 7" in what
