"""Where a judged CPU job runs: the judge and the candidate's worker share one core, the least busy one.

On the CPU the two sides are timed in alternating blocks, so whatever else runs on the machine hits both.
That holds only while both run where that other work is. On two different cores they meet different
neighbours (another process sharing one of them, its caches), which alternating cannot cancel: on this
project's 2-core VM with one core kept busy, the same torch call in two processes alternating 33-call
blocks read 0.85x-1.06x of each other over 40 blocks when pinned to different cores (block ratios
0.5-1.8), 0.98x-1.01x when pinned to the same core (block ratios 0.8-1.16). A run of 6-10 blocks on
different cores was off by 25-30% now and then, beyond the CPU's systematic floor
(harness/interleave_stats.SYSTEMATIC_FLOOR).

The engine pins both process trees from outside (every thread; threads started later inherit it), and
the box's seccomp filter refuses `sched_setaffinity` inside (engine.confinement), so a candidate cannot
move itself to an idle core while the reference shares a busy one. The judge gets its affinity back after
the job; the candidate's worker is retired anyway.

With the timed core set apart, the next standby (importing torch: about 3 s of one core on a small
machine) starts on the other cores during the job instead of before it, which is most of what a CPU
candidate's evaluation used to wait for. On a GPU the kernels are timed by device events and the host
threads are left where the scheduler puts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field

from kernelwright.engine.process import descendants

# How long the cores' busy time is sampled before one is chosen: /proc/stat counts in ticks of 10 ms.
SAMPLE_S = 0.05
Ticks = dict[int, tuple[int, int]]  # per CPU: (busy ticks, all ticks)


def busy_ticks() -> Ticks:
    """Per CPU, (busy ticks, all ticks) since boot, from /proc/stat; {} where it cannot be read."""
    found: Ticks = {}
    try:
        with open("/proc/stat") as fh:
            lines = fh.readlines()
    except OSError:
        return found
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or not name[3:].isdigit():
            continue
        ticks = [int(v) for v in rest.split()]
        idle = sum(ticks[3:5])  # idle, iowait
        found[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return found


def least_busy(allowed: set[int], before: Ticks, after: Ticks) -> int:
    """The allowed CPU that was busy the smallest share of the time between the two readings (the lowest
    numbered among equals; the lowest allowed where neither reading has it)."""

    def share(cpu: int) -> float:
        if cpu not in before or cpu not in after:
            return 1.0
        busy = after[cpu][0] - before[cpu][0]
        total = after[cpu][1] - before[cpu][1]
        return busy / total if total > 0 else 0.0

    return min(sorted(allowed), key=share)


def pin(root: int, cpus: set[int]) -> int:
    """Set the affinity of every thread of `root` and of every process below it to `cpus`; how many
    threads now have it. The tree is walked twice, so a process forked during the first walk is caught
    (one forked after it inherits its parent's). A thread that is gone, or that we may not touch (a setuid
    bubblewrap's own process), is passed over."""
    done: set[int] = set()
    pinned = 0
    for _ in range(2):
        for pid in [root, *descendants([root])]:
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            except OSError:
                continue
            for tid in tids:
                if tid in done:
                    continue
                done.add(tid)
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(tid, cpus)
                    pinned += os.sched_getaffinity(tid) == cpus
    return pinned


@dataclass
class SharedCore:
    """One judged job's core. `choose` picks it and pins both sides to it; `keep_off` moves a starting
    worker (the next standby, importing torch) to the other cores, so that the job need not wait for it
    to finish starting; `release` gives the judge and those workers the whole machine back. `cpu` is None
    where nothing was pinned (one CPU only, no affinity calls, not permitted)."""

    judge: int
    allowed: set[int]
    cpu: int | None = None
    kept_off: list[int] = field(default_factory=list)

    @classmethod
    async def choose(cls, judge: int, candidate: int) -> SharedCore:
        """Sample the cores for SAMPLE_S, then pin the process trees of `judge` and `candidate` to the
        least busy one. Both or neither: if either could not be pinned, both are put back."""
        if not hasattr(os, "sched_setaffinity"):
            return cls(judge, set())
        allowed = os.sched_getaffinity(0)
        placed = cls(judge, allowed)
        if len(allowed) < 2:
            return placed
        before = busy_ticks()
        await asyncio.sleep(SAMPLE_S)
        cpu = least_busy(allowed, before, busy_ticks())
        if pin(candidate, {cpu}) == 0:
            return placed
        if pin(judge, {cpu}) == 0:
            pin(candidate, allowed)
            return placed
        placed.cpu = cpu
        return placed

    def keep_off(self, root: int) -> None:
        if self.cpu is not None:
            pin(root, self.allowed - {self.cpu})
            self.kept_off.append(root)

    def release(self) -> None:
        if self.cpu is None:
            return
        for root in (self.judge, *self.kept_off):
            pin(root, self.allowed)
        self.cpu = None
