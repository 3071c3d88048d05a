"""Persisting L2 against the harness's flush (docs/PITFALLS.md 5), on a CUDA GPU.

1. The timing loop (`time_cuda`, one process): torch's row sum of samples/adversarial/row_sum_reference's
   24 MiB input, and each persisting-L2 cheat (cheat_persisting_l2_driver.py, cheat_persisting_l2_runtime.py)
   with the flush's release of persisting L2 as it is, with the line reset alone (the set-aside left
   in place: the harness before the give-back) and with no release at all (the control).
2. Another process's pin: a helper that sets aside the device's whole persisting share and pins a buffer
   in it, against this process timing a read that reuses L2 within a call.
3. The judge: both cheats through the pool against row_sum_reference, with their speedups.

    python benchmarks/persisting_l2.py [--json out.json]
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

ADVERSARIAL = ROOT / "samples" / "adversarial"
FORMS = ("driver", "runtime")

# Another process that pins its own buffer in the whole persisting share, as the driver cheat does (its
# _pin), then waits for a line on stdin.
HELPER = r"""
import importlib.util, sys, torch
spec = importlib.util.spec_from_file_location("cheat", sys.argv[2])
cheat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cheat)
y = torch.randn(int(sys.argv[1]) // 4, device="cuda")
cheat._pin(y)
for _ in range(20):
    y.mul_(1.0)
torch.cuda.synchronize()
print("pinned", flush=True)
sys.stdin.readline()
"""


class _LinesOnly:
    """The release as it was before the give-back: persisting lines reset, the set-aside left in place."""

    def __init__(self) -> None:
        self._reset = ctypes.CDLL("libcuda.so.1").cuCtxResetPersistingL2Cache

    def release(self) -> tuple[int, int, int]:
        return int(self._reset()), 0, 0


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timing_loop() -> list[dict[str, Any]]:
    import torch
    from kernelwright.harness import timing
    from kernelwright.harness.device import resolve
    from kernelwright.harness.timing import TimingPlan, time_cuda

    target = resolve("cuda")
    x = torch.randn(1024, 6144, device="cuda")
    plan = TimingPlan(repeats=300)
    release = timing.persisting_l2
    rows = [
        {
            "code": "torch row sum",
            "release": "as is",
            "median_us": time_cuda(lambda a: a[0].sum(-1), [(x,)], target, plan).median_us,
        }
    ]
    for form in FORMS:
        cheat = _load(ADVERSARIAL / f"cheat_persisting_l2_{form}.py")
        for label, driver in (("as is", release), ("lines only", _LinesOnly), ("none", lambda: "none")):
            timing.persisting_l2 = driver
            try:
                stats = time_cuda(lambda a, c=cheat: c.row_sum(a[0]), [(x,)], target, plan)
            finally:
                timing.persisting_l2 = release
            rows.append(
                {
                    "code": f"cheat ({form})",
                    "release": label,
                    "median_us": stats.median_us,
                    "note": timing.l2_note(stats),
                }
            )
    return rows


def other_process() -> dict[str, Any]:
    import torch
    from kernelwright.harness.device import resolve
    from kernelwright.harness.timing import TimingPlan, time_cuda

    target = resolve("cuda")
    most = ctypes.c_int()
    ctypes.CDLL("libcuda.so.1").cuDeviceGetAttribute(ctypes.byref(most), 108, torch.cuda.current_device())
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    z = torch.randn(int(l2 * 0.6) // 4, device="cuda")
    twice = lambda a: (a[0].sum(), a[0].amax())  # noqa: E731  the second read finds the first's lines
    plan = TimingPlan(repeats=300)
    out: dict[str, Any] = {"persisting_share_bytes": most.value, "l2_bytes": l2}
    out["alone_us"] = time_cuda(twice, [(z,)], target, plan).median_us
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER, str(most.value), str(ADVERSARIAL / "cheat_persisting_l2_driver.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert helper.stdout is not None and helper.stdin is not None
    helper.stdout.readline()
    out["beside_a_pin_us"] = time_cuda(twice, [(z,)], target, plan).median_us
    helper.stdin.write("\n")
    helper.stdin.flush()
    helper.wait()
    return out


def judged() -> list[dict[str, Any]]:
    from kernelwright.core.jsonable import from_json, to_json
    from kernelwright.core.measure import Verdict
    from support.adversarial import load_cases
    from unit.harness.jobs_subprocess import run_jobs

    cases = load_cases()
    names = [f"cheat_persisting_l2_{form}.py" for form in FORMS]
    replies = run_jobs([("verify", to_json(cases[n].job("cuda"))) for n in names], timeout=600)
    rows = []
    for name, reply in zip(names, replies, strict=True):
        v = from_json(Verdict, reply)
        s = v.speedup
        rows.append(
            {
                "candidate": name,
                "passed": v.passed,
                "speedup": s and s.ratio,
                "low": s and s.low,
                "high": s and s.high,
                "within_bound": cases[name].within_speedup(v),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("persisting_l2.py needs a CUDA GPU (persisting L2 is a GPU cache's feature); run it on one")
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    loop = timing_loop()
    print("\n| code | release before each flush | median µs | note |\n|---|---|---|---|")
    for r in loop:
        print(f"| {r['code']} | {r['release']} | {r['median_us']:.1f} | {r.get('note') or ''} |")
    other = other_process()
    print(f"\nanother process's pin: {json.dumps(other)}")
    verdicts = judged()
    print(
        "\n| candidate | verdict | speedup (95% interval) | within the catalogue's bound |\n|---|---|---|---|"
    )
    for r in verdicts:
        speed = f"{r['speedup']:.3f}x ({r['low']:.3f}-{r['high']:.3f})" if r["speedup"] else "-"
        print(
            f"| {r['candidate']} | {'passed' if r['passed'] else 'rejected'} | {speed} "
            f"| {r['within_bound']} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"timing_loop": loop, "other_process": other, "judged": verdicts}, indent=1)
        )


if __name__ == "__main__":
    main()
