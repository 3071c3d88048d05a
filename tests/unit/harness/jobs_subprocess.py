"""Run harness jobs in a fresh Python process (candidates patch things; pytest's process stays clean).

As a script: reads `[[job_type, payload], ...]` as JSON on stdin, prints the replies as a JSON list.
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
    from kernelwright.harness.jobs import handle

    jobs = json.load(sys.stdin)
    replies = [handle(kind, payload) for kind, payload in jobs]
    sys.stdout.write("\n" + json.dumps(replies) + "\n")


if __name__ == "__main__":
    main()
