"""The box's parts on their own: its command line, the allowlisted environment, redaction, the seccomp
filter, the process-tree signals, and the probe that says whether a box can be made here."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kernelwright.engine import confinement
from kernelwright.engine.process import signal_tree

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

needs_box = pytest.mark.skipif(not confinement.support().available, reason="no box can be made here")


def test_the_box_can_be_made_where_it_is_required() -> None:
    """CI sets KERNELWRIGHT_REQUIRE_BOX: there the attack tests must run, not skip."""
    if not os.environ.get("KERNELWRIGHT_REQUIRE_BOX"):
        pytest.skip("KERNELWRIGHT_REQUIRE_BOX is not set")
    assert confinement.support().available, confinement.support().describe()


def test_the_environment_is_an_allowlist() -> None:
    parent = {
        "PATH": "/usr/bin",
        "OMP_NUM_THREADS": "1",
        "CUDA_HOME": "/usr/local/cuda",
        "LC_ALL": "C.UTF-8",
        "MYAPP_KEY": "k" * 20,
        "DATABASE_URL": "postgres://u:p@h/d",
        "ANTHROPIC_API_KEY": "sk-ant-x",
        "TRITON_API_TOKEN": "t" * 20,  # allowlisted prefix, secret-looking name: dropped
        "SSH_AUTH_SOCK": "/run/agent",
        "HOME": "/home/person",
        "TMPDIR": "/tmp/box",
    }
    env = confinement.candidate_env(parent, home=Path("/tmp/box"))
    assert set(env) == {"PATH", "OMP_NUM_THREADS", "CUDA_HOME", "LC_ALL", "HOME", "USER", "LOGNAME", "TMPDIR"}
    assert env["HOME"] == "/tmp/box"


def test_secret_values_are_redacted_and_paths_are_not() -> None:
    env = {
        "MYAPP_KEY": "abcdefgh1234",
        "DATABASE_URL": "postgres://u:pw12345678@h",
        "HOME": "/home/p",
        "X": "1",
    }
    values = confinement.secret_values(env)
    assert set(values) == {"abcdefgh1234", "postgres://u:pw12345678@h"}
    text = "key abcdefgh1234 at /home/p, url postgres://u:pw12345678@h"
    assert confinement.redact(text, values) == "key [redacted] at /home/p, url [redacted]"


def test_the_command_line_masks_the_secrets_inside_a_readable_folder(tmp_path: Path) -> None:
    (tmp_path / ".kernelwright").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text("X=1")
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    scratch = tmp_path / "scratch"
    plan = confinement.BoxPlan(
        readable=(tmp_path, tmp_path / "sub-is-dropped"),
        writable=(),
        scratch=scratch,
        chdir=scratch,
        home=tmp_path / "home",
    )
    argv = confinement.box_argv(plan, ["python3"], "bwrap")
    text = " ".join(argv)
    assert f"--ro-bind {tmp_path} {tmp_path}" in text
    for hidden in (".kernelwright", ".git", "home/.ssh"):
        assert f"--tmpfs {tmp_path / hidden} --remount-ro {tmp_path / hidden}" in text
    assert f"--ro-bind /dev/null {tmp_path / '.env'}" in text
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--disable-userns" in argv
    assert f"--size {plan.scratch_bytes} --tmpfs {scratch}" in text
    assert "--ro-bind /etc/shadow" not in text  # /etc comes in by the entry, never whole
    assert argv[-2:] == ["--", "python3"]


def test_an_exchange_folder_in_the_box_is_a_capped_tmpfs_and_no_bind(tmp_path: Path) -> None:
    exchange = tmp_path / "exchange"
    plan = confinement.BoxPlan(
        readable=(),
        writable=(),
        scratch=tmp_path / "scratch",
        chdir=tmp_path,
        exchange=exchange,
        exchange_bytes=12345,
    )
    text = " ".join(confinement.box_argv(plan, ["python3"], "bwrap"))
    assert f"--size 12345 --tmpfs {exchange}" in text
    assert f"--bind {exchange}" not in text


def _python_in_a_box(code: str, scratch: Path, **plan: Any) -> list[str]:
    """bwrap's command line that runs `code` in this interpreter, in a box with `scratch` and `plan`'s
    other parts."""
    binary = confinement.bwrap_path()
    assert binary is not None
    box = confinement.BoxPlan(
        readable=confinement.interpreter_folders(sys.executable),
        writable=(),
        scratch=scratch,
        chdir=scratch,
        **plan,
    )
    return confinement.box_argv(box, [sys.executable, "-c", code], binary)


@needs_box
def test_the_judge_reads_the_box_s_exchange_tmpfs_and_the_kernel_holds_it_to_its_cap(tmp_path: Path) -> None:
    """What a candidate writes in its exchange tmpfs is there for the judge through box_root, not in the
    host folder of that name; a write past the cap fails in the box (ENOSPC), whatever the engine's watch
    would have seen (docs/PITFALLS.md 25)."""
    assert confinement.box_tmpfs_visible()
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cap = 1 << 20
    code = (
        "import os, sys\n"
        f"folder = {str(exchange)!r}\n"
        "open(os.path.join(folder, 'small.out'), 'wb').write(b'outputs')\n"
        "written = 0\n"
        "try:\n"
        "    with open(os.path.join(folder, 'big.out'), 'wb', buffering=0) as fh:\n"
        "        for _ in range(64):\n"
        "            written += fh.write(bytes(64 * 1024))\n"
        "except OSError as exc:\n"
        "    print('stopped', exc.errno, written, flush=True)\n"
        "sys.stdin.readline()\n"
    )
    argv = _python_in_a_box(code, scratch, exchange=exchange, exchange_bytes=cap)
    box = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert box.stdout is not None
        said = box.stdout.readline().split()
        assert said[:2] == ["stopped", str(errno.ENOSPC)], said
        assert int(said[2]) <= cap
        root = confinement.box_root(box.pid)
        assert root is not None
        seen = root / exchange.relative_to("/")
        assert (seen / "small.out").read_bytes() == b"outputs"
        assert list(exchange.iterdir()) == []  # the host folder of that name holds none of it
    finally:
        box.communicate("\n", timeout=30)
    assert box.returncode == 0


def test_without_bubblewrap_the_probe_names_the_cause_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(confinement.BWRAP_ENV, "/nonexistent/bwrap")
    confinement.support.cache_clear()
    try:
        box = confinement.support()
    finally:
        monkeypatch.delenv(confinement.BWRAP_ENV)
        confinement.support.cache_clear()
    assert not box.available
    assert "/nonexistent/bwrap" in box.reason and "apt install bubblewrap" in box.fix
    assert box.describe().startswith("candidates cannot be confined: ")


def test_the_seccomp_program_is_whole_instructions() -> None:
    for machine in ("x86_64", "aarch64"):
        program = confinement.seccomp_program(machine)
        assert program is not None and len(program) % 8 == 0
    assert confinement.seccomp_program("riscv64") is None


@needs_box
def test_in_the_box_the_keyrings_fail_and_ordinary_calls_work(tmp_path: Path) -> None:
    program = confinement.seccomp_program()
    if program is None:
        pytest.skip("no seccomp filter for this architecture")
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "nr = {'x86_64': 250, 'aarch64': 219}[os.uname().machine]\n"
        "print(libc.syscall(nr, 0, -3, 0), ctypes.get_errno(), os.getpid(), sum(p.isdigit() for p in os.listdir('/proc')) <= 3)\n"
    )
    read, write = os.pipe()
    os.write(write, program)
    os.close(write)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    argv = _python_in_a_box(code, scratch, seccomp_fd=read)
    done = subprocess.run(argv, pass_fds=(read,), capture_output=True, text=True, timeout=60, check=False)
    os.close(read)
    assert done.returncode == 0, done.stderr
    result, errno, pid, few = done.stdout.split()
    assert (result, int(errno)) == ("-1", 1)  # EPERM
    assert int(pid) <= 3 and few == "True"  # its own PID namespace


def test_a_freeze_reaches_processes_that_left_the_group(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    code = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.01)'],"
        " start_new_session=True)\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "while True: time.sleep(0.01)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and marker.read_text()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child = int(marker.read_text())
        assert os.getpgid(child) != os.getpgid(parent.pid)  # it left the group
        signal_tree(parent.pid, signal.SIGSTOP)
        time.sleep(0.2)
        assert _state(child) == "T" and _state(parent.pid) == "T"
        signal_tree(parent.pid, signal.SIGCONT)
        time.sleep(0.2)
        assert _state(child) != "T"
        signal_tree(parent.pid, signal.SIGKILL)
        parent.wait(10)
        time.sleep(0.2)
        assert _state(child) in ("", "Z")
    finally:
        parent.kill()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def test_gpu_nodes_are_only_those_that_exist() -> None:
    nodes = confinement.gpu_nodes("0", 0)
    assert all(Path(n).exists() for n in nodes)
    if not Path("/dev/nvidiactl").exists():
        assert nodes == ()
