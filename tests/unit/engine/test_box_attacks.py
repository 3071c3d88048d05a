"""Candidates that attack the person's machine (samples/confinement), verified by the real harness in the
real box: each test measures the effect itself (the file not written, the secret absent from every
output, the listener hearing nothing, no process left, the parent alive), not only the verdict.

The person's world is faked in a temporary folder: a workspace with a store and a .git holding secrets,
a home folder (HOME) with an SSH key, and secret variables in the environment the pool inherits.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kernelwright.core.jobs import BenchOptions, CandidateRef, Origin, ProblemRef, VerifyJob
from kernelwright.core.jsonable import to_json
from kernelwright.core.measure import CheckName, Verdict
from kernelwright.core.protocol import ErrorCode
from kernelwright.core.site import ModuleSpec, SiteKind
from kernelwright.engine import client, confinement, leftovers
from kernelwright.engine.config import GiB, WorkerConfig
from kernelwright.engine.freeze import FreezeWatch
from kernelwright.engine.job_error import JobError
from kernelwright.engine.pool import WorkerPool

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "confinement"
ROOT = Path(__file__).resolve().parents[3]

needs_box = pytest.mark.skipif(
    not confinement.support().available, reason=f"no box here: {confinement.support().describe()}"
)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.processes]


@dataclass
class World:
    """The person's machine, faked: where secrets live and what they are."""

    workspace: Path
    home: Path
    reference: Path
    secrets: dict[str, str] = field(default_factory=dict)

    def guesses(self) -> list[str]:
        """Paths an attacker who knows the layout would try."""
        return [
            str(self.home / ".ssh" / "id_rsa"),
            str(self.home),
            str(self.workspace / ".kernelwright"),
            str(self.workspace / ".git" / "config"),
            str(self.workspace / ".env"),
        ]

    def candidate(self, sample: str, **setup: object) -> CandidateRef:
        """The sample, with SETUP filled in, written into the workspace beside the reference."""
        text = (SAMPLES / sample).read_text().replace("SETUP: dict = {}", f"SETUP: dict = {setup!r}", 1)
        path = self.workspace / sample
        path.write_text(text)
        return CandidateRef(str(path), text)

    def honest(self, origin: Origin = Origin.MODEL) -> CandidateRef:
        """The reference itself as a candidate: it passes, and attacks nothing."""
        text = self.reference.read_text().replace("class Model(", "class ModelNew(")
        path = self.workspace / "honest.py"
        path.write_text(text)
        return CandidateRef(str(path), text, origin=origin)

    def job(self, candidate: CandidateRef, **kw: object) -> VerifyJob:
        source = self.reference.read_text()
        ref = ProblemRef(str(self.reference), source, "Model", SiteKind.TORCH_MODULE, ModuleSpec())
        options = BenchOptions(compile_baseline=False, profile_lines=False)
        return VerifyJob(ref, candidate, device="cpu", trials=2, options=options, **kw)  # type: ignore[arg-type]

    def leaked(self, text: str) -> list[str]:
        """The secrets found in `text`, raw or in the encodings the samples use."""
        found = []
        for name, value in self.secrets.items():
            forms = [value, value.encode().hex(), value[::-1], " ".join(value)]
            forms.append(base64.b64encode(value.encode()).decode()[:16])
            if any(f in text for f in forms):
                found.append(name)
        return found


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    workspace, home = tmp_path / "ws", tmp_path / "home"
    (workspace / ".kernelwright").mkdir(parents=True)
    (workspace / ".git").mkdir()
    (home / ".ssh").mkdir(parents=True)
    token = uuid.uuid4().hex
    secrets = {
        "ssh key": f"SSHKEY{token}",
        "store": f"STORE{token}",
        "git token": f"GITTOKEN{token}",
        "dotenv": f"DOTENV{token}",
        "api key": f"sk-ant-{token}",
        "app key": f"APPKEY{token}",
        "database url": f"DBPASS{token}",
    }
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN KEY-----\n{secrets['ssh key']}\n")
    (home / ".bashrc").write_text("# the person's\n")
    (workspace / ".kernelwright" / "kernelwright.db").write_text(secrets["store"])
    (workspace / ".git" / "config").write_text(f"[remote]\n url = https://x:{secrets['git token']}@host\n")
    (workspace / ".env").write_text(f"TOKEN={secrets['dotenv']}\n")
    reference = workspace / "reference.py"
    reference.write_text((SAMPLES / "reference.py").read_text())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", secrets["api key"])
    monkeypatch.setenv("MYAPP_KEY", secrets["app key"])
    monkeypatch.setenv("DATABASE_URL", f"postgres://kw:{secrets['database url']}@db/kw")
    return World(workspace, home, reference, secrets)


@pytest.fixture
async def pool(world: World) -> AsyncIterator[WorkerPool]:
    config = WorkerConfig(cpu_memory_cap_bytes=4 * GiB, scratch_bytes=64 * 2**20)
    async with WorkerPool(["cpu"], config=config, standby=False) as p:
        yield p


async def verify(pool: WorkerPool, world: World, candidate: CandidateRef) -> Verdict:
    return await client.verify(pool, world.job(candidate), timeout=300)


# -- the filesystem --------------------------------------------------------------------------------


@needs_box
async def test_the_reference_file_cannot_be_overwritten_or_deleted(pool: WorkerPool, world: World) -> None:
    before = world.reference.read_bytes()
    verdict = await verify(
        pool, world, world.candidate("overwrite_reference.py", reference=str(world.reference))
    )
    assert verdict.passed, verdict.message
    assert world.reference.read_bytes() == before
    assert sorted(p.name for p in world.workspace.glob("*.moved")) == []
    assert (world.workspace / "overwrite_reference.py").exists()  # its own file, beside it, too


@needs_box
async def test_nothing_is_written_into_the_workspace_the_home_folder_or_tmp(
    pool: WorkerPool, world: World
) -> None:
    token = f"kw-pwned-{uuid.uuid4().hex[:8]}"
    setup = {"workspace": str(world.workspace), "home": str(world.home), "token": token}
    verdict = await verify(pool, world, world.candidate("write_outside.py", **setup))
    assert verdict.passed, verdict.message
    written = [
        p for p in (world.workspace, world.home, Path("/tmp"), Path.cwd()) for p in p.rglob(f"{token}*")
    ]
    assert written == []
    assert (world.home / ".bashrc").read_text() == "# the person's\n"


# -- secrets ---------------------------------------------------------------------------------------


def _cli_verify(world: World, candidate: CandidateRef, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "server"), os.environ.get("PYTHONPATH", "")]),
    }
    argv = [sys.executable, "-m", "kernelwright", "verify", str(world.reference), candidate.path]
    return subprocess.run(
        [*argv, "--device", "cpu", "--json", *extra], capture_output=True, text=True, env=env, timeout=300
    )


@needs_box
def test_a_candidate_finds_no_secret_to_carry_out_at_load(world: World) -> None:
    candidate = world.candidate("leak_secrets_at_load.py", files=world.guesses())
    done = _cli_verify(world, candidate)
    assert done.returncode == 1, done.stderr  # rejected: it raised at load
    assert '"check": "load"' in done.stdout
    assert "cannot load; context" in done.stdout  # its message did come back...
    assert world.leaked(done.stdout + done.stderr) == []  # ...with nothing of the person's in it


@needs_box
async def test_a_candidate_finds_no_secret_to_carry_out_when_called(pool: WorkerPool, world: World) -> None:
    verdict = await verify(pool, world, world.candidate("leak_secrets_at_run.py", files=world.guesses()))
    assert not verdict.passed and "shape mismatch; debug" in verdict.message
    assert world.leaked(str(to_json(verdict))) == []


# -- the network -----------------------------------------------------------------------------------


class Listener:
    """A TCP and a UDP listener on every address of this machine, recording what reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("0.0.0.0", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", self.port))
        self.heard: list[str] = []
        self._stop = False
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._accept, self._receive)]
        for t in self._threads:
            t.start()

    def _accept(self) -> None:
        self.tcp.settimeout(0.2)
        while not self._stop:
            with contextlib.suppress(TimeoutError, OSError):
                conn, peer = self.tcp.accept()
                self.heard.append(f"tcp from {peer}")
                conn.close()

    def _receive(self) -> None:
        self.udp.settimeout(0.2)
        while not self._stop:
            with contextlib.suppress(TimeoutError, OSError):
                _data, peer = self.udp.recvfrom(4096)
                self.heard.append(f"udp from {peer}")

    def close(self) -> None:
        self._stop = True
        for t in self._threads:
            t.join()
        self.tcp.close()
        self.udp.close()


def _host_addresses() -> list[str]:
    found = {"127.0.0.1"}
    with contextlib.suppress(OSError):
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing address
        found.add(probe.getsockname()[0])
    return sorted(found)


@needs_box
async def test_the_network_is_out_of_reach(pool: WorkerPool, world: World) -> None:
    listener = Listener()
    try:
        # The listener works: a connection from here is heard.
        socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
        deadline = time.monotonic() + 5
        while not listener.heard and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.heard, "the listener did not hear the test's own connection"
        listener.heard.clear()
        hosts = _host_addresses()
        verdict = await verify(pool, world, world.candidate("network.py", port=listener.port, hosts=hosts))
        time.sleep(0.5)
    finally:
        listener.close()
    assert verdict.passed, verdict.message
    assert listener.heard == []


# -- processes -------------------------------------------------------------------------------------


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@needs_box
async def test_nothing_it_started_outlives_the_job(pool: WorkerPool, world: World) -> None:
    token = f"kw-daemon-{uuid.uuid4().hex[:8]}"
    try:
        verdict = await verify(pool, world, world.candidate("daemon.py", token=token))
        assert verdict.passed, verdict.message
        deadline = time.monotonic() + 5
        while _processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(token) == []
    finally:
        for pid in _processes_with(token):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@needs_box
async def test_it_cannot_kill_its_parent_or_the_judge(pool: WorkerPool, world: World) -> None:
    warm = await verify(pool, world, world.honest())  # the judge is up now
    assert warm.passed, warm.message
    judge = pool.pids()
    assert judge
    verdict = await verify(pool, world, world.candidate("kill_parent.py", pids=[os.getpid(), *judge]))
    assert verdict.passed, verdict.message
    for pid in judge:
        os.kill(pid, 0)  # raises if the judge is gone
    assert set(judge) <= set(pool.pids())


@needs_box
async def test_a_fork_bomb_is_stopped_at_the_process_cap(pool: WorkerPool, world: World) -> None:
    before = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit())
    verdict = await verify(pool, world, world.candidate("fork_bomb.py"))
    assert not verdict.passed
    assert "over the cap of 256" in verdict.message, verdict.message
    time.sleep(0.5)
    after = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit())
    assert after < before + 20  # every process it started is gone


@needs_box
async def test_the_scratch_folder_is_capped(pool: WorkerPool, world: World) -> None:
    verdict = await verify(pool, world, world.candidate("fill_scratch.py"))
    assert not verdict.passed and "wrote " in verdict.message, verdict.message
    written = int(verdict.message.split("wrote ")[1].split(" bytes")[0])
    assert 0 < written <= 64 * 2**20


@needs_box
async def test_the_box_s_other_memory_folders_are_capped(pool: WorkerPool, world: World) -> None:
    # /tmp, /run and /dev/shm are tmpfs mounts of the box, /dev is bubblewrap's: memory, all of them.
    verdict = await verify(pool, world, world.candidate("fill_box_memory.py"))
    assert not verdict.passed and "wrote " in verdict.message, verdict.message
    said = verdict.message.split("wrote ")[1]
    taken = json.loads(said[: said.index("}") + 1])
    for place, cap in confinement.OTHER_TMPFS_BYTES.items():
        assert 0 < taken[place] <= cap, taken
    assert taken["/dev"] == 0, taken


EXCHANGE_CAP = 64 * 2**20


async def _judge_with_a_small_exchange(world: World, sample: str) -> Verdict:
    config = WorkerConfig(
        cpu_memory_cap_bytes=4 * GiB, exchange_cap_bytes=EXCHANGE_CAP, exchange_cap_entries=500
    )
    async with WorkerPool(["cpu"], config=config, standby=False) as pool:
        verdict = await verify(pool, world, world.candidate(sample))
    assert not verdict.passed, verdict.message
    assert not list(Path("/dev/shm").glob(f"{leftovers.EXCHANGE_PREFIX}*/fill-*")), "the folder is removed"
    return verdict


@needs_box
async def test_the_exchange_folder_s_bytes_are_capped_by_the_kernel(world: World) -> None:
    """A tmpfs of the box, of the cap's size: the writes stop there with ENOSPC, and the sample says how
    much it got in (before, a folder measured every 0.1 s let one poll's worth past the cap)."""
    assert confinement.box_tmpfs_visible()
    verdict = await _judge_with_a_small_exchange(world, "fill_exchange.py")
    assert "wrote " in verdict.message, verdict.message
    written = int(verdict.message.split("wrote ")[1].split(" bytes")[0])
    assert 0 < written <= EXCHANGE_CAP


@needs_box
async def test_the_exchange_folder_s_entries_are_capped(world: World) -> None:
    verdict = await _judge_with_a_small_exchange(world, "fill_exchange_entries.py")
    assert "exchange folder" in verdict.message and "files and folders" in verdict.message, verdict.message


needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="one CPU: there is no other core to move to"
)


@needs_box
@needs_two_cpus
async def test_it_cannot_leave_the_core_it_shares_with_the_judge(pool: WorkerPool, world: World) -> None:
    verdict = await verify(pool, world, world.candidate("escape_core.py"))
    assert verdict.passed, verdict.message  # pinned to one CPU, and every way out failed
    for pid in pool.pids():  # the judge has its affinity back
        assert os.sched_getaffinity(pid) == os.sched_getaffinity(0)


# -- the freeze between questions --------------------------------------------------------------------

THAWS = ["thaw_by_timer.py", "thaw_by_file_event.py"]
CONTROL_RUNS = 3


@needs_box
@pytest.mark.parametrize("sample", THAWS)
async def test_a_process_that_runs_while_held_is_rejected(
    pool: WorkerPool, world: World, sample: str
) -> None:
    """The engine's watch sees the helper run while held, before the helper's own confession reaches the
    judge. On a loaded machine the helper can also run in the moment between the watch's last look and
    the thaw (the engine preempted there for longer than the helper's 5 ms test; the judge's work of that
    step is done by then): it confesses and no look saw it (docs/PITFALLS.md 25, not closed). CI once
    showed that, so the watch must name it in one of CONTROL_RUNS runs, and no run may pass."""
    messages: list[str] = []
    for _ in range(CONTROL_RUNS):
        verdict = await verify(pool, world, world.candidate(sample))
        assert not verdict.passed
        if verdict.check is CheckName.TAMPER:
            assert "ran while the engine held its processes stopped" in verdict.message
            assert "ran while frozen" not in verdict.message  # the engine's, not its own confession
            assert verdict.worker_error is ErrorCode.ESCAPED
            return
        assert "ran while frozen" in verdict.message, verdict.message  # seen only by itself
        messages.append(verdict.message)
    pytest.fail(f"the engine's watch never saw the helper in {CONTROL_RUNS} runs: {messages}")


@needs_box
@pytest.mark.parametrize("sample", THAWS)
async def test_control_unwatched_the_helper_runs_while_held(
    pool: WorkerPool, world: World, sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch switched off: the helper does run while its worker is stopped, so the test above can
    fail. On a loaded machine the helper may get no CPU while its worker is held in one run (CI once
    passed a run so); the control asks that it escape in one of CONTROL_RUNS."""
    monkeypatch.setattr(FreezeWatch, "look", lambda self, thaw=False: None)
    messages: list[str] = []
    for _ in range(CONTROL_RUNS):
        verdict = await verify(pool, world, world.candidate(sample))
        if not verdict.passed and "ran while frozen" in verdict.message:
            return
        messages.append(verdict.message)
    pytest.fail(f"the helper never ran while held in {CONTROL_RUNS} runs: {messages}")


# -- where no box can be made ------------------------------------------------------------------------


@pytest.fixture
def no_box(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(confinement.BWRAP_ENV, "/nonexistent/bwrap")
    confinement.support.cache_clear()
    yield
    monkeypatch.delenv(confinement.BWRAP_ENV)
    confinement.support.cache_clear()


async def test_without_a_box_a_models_candidate_is_refused_with_the_reason(
    world: World, no_box: None
) -> None:
    assert not confinement.support().available
    assert "bubblewrap" in confinement.support().fix
    async with WorkerPool(["cpu"], config=WorkerConfig(), standby=False) as pool:
        with pytest.raises(JobError) as err:
            await verify(pool, world, world.honest())
        assert err.value.code is ErrorCode.UNCONFINED
        assert "allow_unconfined" in err.value.message and "bubblewrap" in err.value.message
        assert pool.pids() == []  # refused before any worker started


async def test_without_a_box_the_builtin_searchs_candidate_runs_with_a_note(
    world: World, no_box: None
) -> None:
    async with WorkerPool(["cpu"], config=WorkerConfig(), standby=False) as pool:
        verdict = await verify(pool, world, world.honest(Origin.BUILTIN))
    assert verdict.passed, verdict.message
    reason = confinement.support().reason
    assert f"ran unconfined: {reason}" in verdict.notes


def test_without_a_box_the_cli_says_why_and_how_to_fix_it(world: World, no_box: None) -> None:
    done = _cli_verify(world, world.honest())
    assert done.returncode != 0
    assert "cannot be confined" in done.stderr and "--allow-unconfined" in done.stdout + done.stderr
    assert done.stdout.count('"error"') == 1 and "Traceback" not in done.stdout + done.stderr


# -- controls: the same attacks without the box do what they say, so the tests above can fail ----------


@pytest.fixture
async def open_pool(world: World, no_box: None) -> AsyncIterator[WorkerPool]:
    config = WorkerConfig(cpu_memory_cap_bytes=4 * GiB, allow_unconfined=True)
    async with WorkerPool(["cpu"], config=config, standby=False) as p:
        yield p


async def test_control_unconfined_the_reference_is_overwritten(open_pool: WorkerPool, world: World) -> None:
    before = world.reference.read_bytes()
    candidate = world.candidate("overwrite_reference.py", reference=str(world.reference))
    await verify(open_pool, world, candidate)
    assert not world.reference.exists() or world.reference.read_bytes() != before


async def test_control_unconfined_secrets_are_read_and_only_the_raw_ones_redacted(
    open_pool: WorkerPool, world: World
) -> None:
    verdict = await verify(open_pool, world, world.candidate("leak_secrets_at_run.py", files=world.guesses()))
    text = str(to_json(verdict))
    assert "ssh key" in world.leaked(text)  # read: reversed and spaced out, past any filter
    assert world.secrets["ssh key"] not in text  # the raw form is redacted
    # The environment it was given is the allowlist's: the person's variables are not in it.
    assert f"MYAPP_KEY={world.secrets['app key']}" not in text


async def test_control_unconfined_the_listener_hears_it(open_pool: WorkerPool, world: World) -> None:
    listener = Listener()
    try:
        await verify(open_pool, world, world.candidate("network.py", port=listener.port, hosts=[]))
        time.sleep(0.5)
    finally:
        listener.close()
    assert listener.heard


@needs_two_cpus
async def test_control_unconfined_it_leaves_the_shared_core(open_pool: WorkerPool, world: World) -> None:
    verdict = await verify(open_pool, world, world.candidate("escape_core.py"))
    assert not verdict.passed
    assert "escaped the shared core" in verdict.message, verdict.message
