"""Run harness jobs in a fresh Python process (candidates patch things; pytest's process stays clean).

As a script: reads `[[job_type, payload], ...]` as JSON on stdin, prints the replies as a JSON list.
Verify jobs go through a real CPU worker pool, as they must: a judge worker and a candidate worker
each (the helper process is the engine); other jobs run in the helper process itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
ADVERSARIAL = ROOT / "samples" / "adversarial"


def run_jobs(
    jobs: list[tuple[str, Any]], env: dict[str, str] | None = None, timeout: float = 240
) -> list[Any]:
    proc = subprocess.run(
        [sys.executable, __file__],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=str(ROOT),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    replies: list[Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return replies


def main() -> None:
    jobs = json.load(sys.stdin)
    # A verify needs the pool (its candidate runs in a worker of its own); so does a memory cap.
    if any(kind == "verify" for kind, _ in jobs) or os.environ.get("KW_TEST_MEMORY_CAP"):
        from kernelwright.engine.job_error import JobError
        from kernelwright.engine.pool import SyncWorkerPool

        replies: list[Any] = []
        from kernelwright.engine.config import WorkerConfig

        cuda = any(str(p.get("device", "auto")).startswith("cuda") for _, p in jobs if isinstance(p, dict))
        # KW_TEST_MEMORY_CAP: the CPU workers' RLIMIT_AS, for problems near the memory limit.
        cap = os.environ.get("KW_TEST_MEMORY_CAP")
        config = WorkerConfig(cpu_memory_cap_bytes=int(cap)) if cap else None
        with SyncWorkerPool("cuda:0" if cuda else "cpu", standby=True, config=config) as pool:
            for kind, payload in jobs:
                try:
                    replies.append(pool.submit(kind, payload))
                except JobError as err:
                    replies.append({"job_error": err.code.value, "message": err.message})
    else:
        from kernelwright.harness.handler import handle

        replies = [handle(kind, payload) for kind, payload in jobs]
    sys.stdout.write("\n" + json.dumps(replies) + "\n")


if __name__ == "__main__":
    main()
