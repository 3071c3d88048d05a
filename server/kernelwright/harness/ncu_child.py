"""Run one bench job's problem a few times without timing: the process that ncu profiles."""

from __future__ import annotations

import json
import sys

from kernelwright.core.jobs import BenchJob
from kernelwright.core.jsonable import from_json
from kernelwright.harness.bench import load_problem
from kernelwright.harness.device import resolve


def main(job_file: str) -> int:
    with open(job_file, encoding="utf-8") as f:
        job = from_json(BenchJob, json.load(f))
    target = resolve(job.device)
    problem = load_problem(job, target)
    args = problem.draw(1)
    for _ in range(2):
        problem(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
