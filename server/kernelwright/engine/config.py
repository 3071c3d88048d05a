"""How workers are started and how long jobs may run: one frozen value the pool is built with."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.core.jobs import JobType

# The worker's job handler. A string, not an import: the engine never imports the harness.
HARNESS_HANDLER = "kernelwright.harness.handler:handle"

GiB = 1024**3

# Seconds per job type. Generous: a cold Triton compile, a CUDA extension build (over a minute) or the
# Triton interpreter on the CPU all fit, while a candidate stuck in a loop is still stopped.
DEFAULT_TIMEOUTS: dict[JobType, float] = {
    JobType.PING: 60.0,
    JobType.BENCH: 600.0,
    JobType.VERIFY: 600.0,
    JobType.CALIBRATE: 600.0,
}
FALLBACK_TIMEOUT = 600.0

# Jobs that run candidate code: they need a process that has never loaded other candidate code.
FRESH_JOB_TYPES = frozenset({JobType.VERIFY})


def _default_cpu_memory_cap() -> int | None:
    """Three quarters of physical memory: a runaway CPU job fails with MemoryError, the machine lives."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None
    return max(4 * GiB, int(total * 0.75))


@dataclass(frozen=True)
class WorkerConfig:
    python: str = sys.executable  # the interpreter that has torch (the server's own, by default)
    handler: str = HARNESS_HANDLER  # module:function serving jobs inside the worker
    start_timeout_s: float = 240.0  # importing torch and triton and making a CUDA context
    timeouts: dict[JobType, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    # RLIMIT_AS for CPU workers only: CUDA reserves huge virtual ranges, so a GPU worker cannot have one.
    cpu_memory_cap_bytes: int | None = field(default_factory=_default_cpu_memory_cap)
    nproc_limit: int | None = 4096  # threads count too (torch starts one per core)
    # Processes under one candidate worker, counted by the engine while it runs a job (RLIMIT_NPROC does
    # not bind root, and counts all of a person's processes otherwise); compilers and TorchInductor's
    # compile workers fit well under it.
    process_cap: int | None = 256
    scratch_bytes: int = 4 * GiB  # a boxed candidate's scratch (TMPDIR, HOME): a tmpfs of this size
    # What a candidate worker's exchange folder (memory) may hold at once, in bytes and in entries. The
    # judge removes each outputs file once read, so this is room for one large output. In a box whose
    # tmpfs the judge can read (engine.confinement.box_tmpfs_visible) the folder is a tmpfs of this size,
    # and the kernel stops writes past it; elsewhere it is a folder in /dev/shm. Either way the engine
    # measures it while the candidate runs and kills it past either cap.
    exchange_cap_bytes: int = 8 * GiB
    exchange_cap_entries: int = 1000
    # Bounds every file the worker writes, its captured stdout included: a candidate printing forever
    # dies of SIGXFSZ instead of filling the disk.
    file_size_limit_bytes: int | None = 4 * GiB
    output_tail_bytes: int = 64 * 1024  # how much of a job's stdout/stderr comes back
    # Compile caches (Triton, torch extensions) shared by workers; None: one per worker, deleted with it.
    cache_dir: Path | None = None
    # With cache_dir None, a pool still shares its Triton and TorchInductor caches between its workers,
    # in one directory it deletes on close: both are content-addressed and written atomically, so a
    # reference kernel compiles once per pool instead of once per candidate. (Torch extension builds
    # stay per worker: their lock files outlive a worker killed mid-build, docs/PITFALLS.md 19.)
    share_caches: bool = True
    # Workers started ahead of time per device, ready for the next candidate job. None: 3 on a GPU,
    # where starts (python, torch, CUDA context, warm-up: several seconds) overlap the jobs before,
    # which take one to two seconds each; 1 on the CPU, where a starting worker would compete for
    # the cores being timed: it starts on the cores a judged job does not time on (engine.placement),
    # and a bench job waits for it.
    standby_count: int | None = None
    cwd: Path | None = None  # None: the worker's own temporary directory
    # Folders the problems live in: a candidate worker's box may read them (sibling imports, data the
    # input factory reads); the folder of each verify job's reference is added when it is not among them.
    readable: tuple[Path, ...] = ()
    # Run model-written candidates unconfined where no box can be made (the person accepts the risk);
    # False: such a verify job is refused with the reason and the fix.
    allow_unconfined: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)  # set after scrubbing (e.g. PYTHONPATH)

    def timeout_for(self, job_type: JobType) -> float:
        return self.timeouts.get(job_type, FALLBACK_TIMEOUT)

    def standbys_for(self, is_cpu: bool) -> int:
        if self.standby_count is not None:
            return max(1, self.standby_count)
        return 1 if is_cpu else 3
