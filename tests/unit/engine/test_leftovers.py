"""Folders named with their owner process, and the sweep that removes those of owners that are gone
(and only those): a killed run's worker, exchange and cache folders, never a live pool's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from kernelwright.engine import leftovers
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.leftovers import Owner, folder_owner, make_folder, sweep
from kernelwright.engine.pool import WorkerPool

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

PREFIXES = (leftovers.WORKER_PREFIX, leftovers.EXCHANGE_PREFIX, leftovers.CACHES_PREFIX)


def _folder_of_a_process_that_exits(base: Path, prefix: str = leftovers.WORKER_PREFIX) -> Path:
    """A real process makes its folder and dies without removing it (as a SIGKILL leaves it)."""
    script = (
        "import os, sys; from pathlib import Path; from kernelwright.engine import leftovers; "
        "print(leftovers.make_folder(sys.argv[1], Path(sys.argv[2])), flush=True); os._exit(0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, prefix, str(base)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.is_dir()
    return folder


def _ours(base: Path, pid: int) -> list[Path]:
    return sorted(p for p in base.iterdir() if (o := folder_owner(p.name)) is not None and o.pid == pid)


def test_a_folder_names_its_owner_and_stays_while_the_owner_lives(tmp_path: Path) -> None:
    folder = make_folder(leftovers.WORKER_PREFIX, tmp_path)
    assert folder_owner(folder.name) == Owner.current()
    assert Owner.current().start and Owner.current().namespace  # read from /proc, not defaults
    assert sweep(tmp_path, PREFIXES) == []
    assert folder.is_dir()


def test_the_folders_of_an_owner_that_is_gone_are_swept(tmp_path: Path) -> None:
    worker = _folder_of_a_process_that_exits(tmp_path)
    (worker / "output.log").write_text("the capture of a worker whose parent was killed\n")
    (worker / "scratch" / "deep").mkdir(parents=True)
    exchange = _folder_of_a_process_that_exits(tmp_path, leftovers.EXCHANGE_PREFIX)
    mine = make_folder(leftovers.CACHES_PREFIX, tmp_path)
    assert sorted(sweep(tmp_path, PREFIXES)) == sorted([worker, exchange])
    assert not worker.exists() and not exchange.exists()
    assert mine.is_dir()


def test_a_reused_pid_is_another_owner(tmp_path: Path) -> None:
    me = Owner.current()
    assert me.start is not None
    # Our own pid, live, but a start time that is not ours: the folder's owner was an earlier process.
    reused = tmp_path / f"{leftovers.WORKER_PREFIX}{me.pid}-{me.start + 1}-{me.namespace}-abcd1234"
    reused.mkdir()
    assert sweep(tmp_path, PREFIXES) == [reused]


def test_what_cannot_be_checked_is_left_alone(tmp_path: Path) -> None:
    gone = _folder_of_a_process_that_exits(tmp_path)
    owner = folder_owner(gone.name)
    assert owner is not None and owner.gone()
    me = Owner.current()
    assert me.namespace is not None
    keep = [
        # the same dead pid in another pid namespace (a container sharing /tmp): not ours to judge
        tmp_path / f"{leftovers.WORKER_PREFIX}{owner.pid}-{owner.start}-{me.namespace + 1}-abcd1234",
        # an owner recorded without /proc (start 0): cannot be told from a reused pid
        tmp_path / f"{leftovers.WORKER_PREFIX}{owner.pid}-0-{me.namespace}-abcd1234",
        # names that are not ours (an older kernelwright's worker folder, someone else's)
        tmp_path / f"{leftovers.WORKER_PREFIX}abcd1234",
        tmp_path / "kernelwright-workers-of-mine",
    ]
    for folder in keep:
        folder.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / f"{leftovers.WORKER_PREFIX}{owner.pid}-{owner.start}-{owner.namespace}-link1234"
    link.symlink_to(target)
    assert sweep(tmp_path, PREFIXES) == [gone]
    assert all(f.is_dir() for f in keep) and link.is_symlink() and target.is_dir()


def test_an_older_exchange_folder_named_by_pid_alone_goes_with_its_process(tmp_path: Path) -> None:
    gone = _folder_of_a_process_that_exits(tmp_path)
    owner = folder_owner(gone.name)
    assert owner is not None
    old_dead = tmp_path / f"{leftovers.EXCHANGE_PREFIX}{owner.pid}-abcd1234"
    old_live = tmp_path / f"{leftovers.EXCHANGE_PREFIX}{os.getpid()}-abcd1234"
    old_dead.mkdir()
    old_live.mkdir()
    assert sorted(sweep(tmp_path, (leftovers.EXCHANGE_PREFIX,))) == [old_dead]
    assert old_live.is_dir()


POOL_SCRIPT = """
import asyncio, sys
sys.path.insert(0, sys.argv[2])
from conftest import fault_config
from pathlib import Path
from kernelwright.engine.pool import WorkerPool

async def main():
    async with WorkerPool(["cpu"], config=fault_config(Path(sys.argv[1])), standby=True) as pool:
        await pool.ready("cpu")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

asyncio.run(main())
"""


@pytest.mark.timeout(240)
async def test_two_live_pools_keep_each_others_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_config: Callable[..., WorkerConfig]
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(leftovers, "SHARED_MEMORY", shm)
    killed = _folder_of_a_process_that_exits(temp)
    here = WorkerPool(["cpu"], config=make_config(), standby=True)
    await here.start()
    try:
        await here.ready("cpu")
        assert not killed.exists()  # this pool's start swept it
        mine = _ours(temp, os.getpid()) + _ours(shm, os.getpid())
        assert any(p.name.startswith(leftovers.WORKER_PREFIX) for p in mine)
        assert any(p.name.startswith(leftovers.EXCHANGE_PREFIX) for p in mine)  # the standby's
        env = {**os.environ, "TMPDIR": str(temp)}
        other = subprocess.Popen(
            [sys.executable, "-c", POOL_SCRIPT, str(tmp_path / "other"), str(Path(__file__).parent)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert other.stdout is not None and other.stdin is not None
            line = other.stdout.readline()
            assert line.strip() == "ready", other.stderr.read() if other.stderr else ""
            theirs = _ours(temp, other.pid)
            assert any(p.name.startswith(leftovers.WORKER_PREFIX) for p in theirs)
            assert all(p.exists() for p in mine)  # their pool's start left ours alone
            third = WorkerPool(["cpu"], config=make_config(), standby=False)
            await third.start()  # sweeps again, with their pool live
            await third.close()
            assert all(p.exists() for p in theirs)
            assert all(p.exists() for p in mine)
            other.stdin.write("\n")
            other.stdin.flush()
            assert other.wait(timeout=60) == 0
            assert _ours(temp, other.pid) == []  # a pool that closes removes its own
        finally:
            if other.poll() is None:
                other.kill()
                other.wait()
    finally:
        await here.close()
    assert _ours(temp, os.getpid()) == [] and _ours(shm, os.getpid()) == []
