"""The box a candidate worker runs in: bubblewrap namespaces, a small seccomp filter, an allowlisted
environment.

Every process that may run model-written code (a pool's candidate workers: its standbys) starts inside
`bwrap` (bubblewrap, the sandbox of Flatpak and of Claude Code on Linux), which puts it in its own user,
PID, network, IPC, UTS and cgroup namespaces, with every capability dropped and no new user namespaces:
- filesystem: a fresh root holding, read-only, the system's program folders, a short list of /etc
  entries, the interpreter's folders (prefix, site-packages, its sys.path), the kernelwright package,
  the compilers' folders and the folders the pool was told the problems live in; writable only its own
  scratch (a size-capped tmpfs), its exchange folder and the candidate caches; /tmp, /run and /dev/shm
  are its own small tmpfs folders, capped (OTHER_TMPFS_BYTES), and /dev is read-only but for its device
  nodes. Every tmpfs is memory: uncapped, one could fill the machine's. The home folder is not
  there at all; secrets found inside a readable folder (the workspace store `.kernelwright`, `.git`,
  `.env`, `~/.ssh`, ...) are masked;
- network: its own namespace with only a loopback device: nothing outside is reachable;
- processes: its own PID namespace (it cannot see, signal or read the environment of any process
  outside, its parent included); when its first process dies, every process it started dies too;
- seccomp: the kernel keyrings (`keyctl`, `add_key`, `request_key`), `sched_setaffinity` (the engine
  pins a judged CPU job's two sides to one core, engine.placement: the candidate may not move) and
  foreign system-call ABIs (32-bit calls from a 64-bit process) fail with EPERM.
The environment is built from an allowlist (`candidate_env`), never by removing what looks secret.

`support()` says once per process whether the box can be made here (bubblewrap installed, user
namespaces allowed) and, if not, why and how to fix it; the pool then runs candidates unconfined only
where the job's origin or the person's `allow_unconfined` setting permits it.

Why one module: everything a candidate's process can reach (binds, masks, device nodes, environment,
seccomp) is decided here, so the whole box is reviewed in one file.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import os
import platform
import shutil
import struct
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.engine.environment import is_secret

BWRAP_ENV = "KERNELWRIGHT_BWRAP"  # a bubblewrap binary to use instead of the one on PATH
PROBE_TIMEOUT_S = 20.0
SCRATCH_NAME = "scratch"  # inside the worker's directory: TMPDIR and HOME in the box
# The cap of each of the box's other memory-backed folders (/tmp, /run and /dev/shm: tmpfs, for programs
# that ignore TMPDIR and for POSIX shared memory). Without --size bubblewrap makes each one as large as
# the kernel's default, half the machine's memory (samples/confinement/fill_box_memory.py).
OTHER_TMPFS_BYTES = {"/tmp": 256 * 1024**2, "/run": 16 * 1024**2, "/dev/shm": 256 * 1024**2}
# The compile caches a candidate worker writes (its own, never the trusted workers': a candidate that
# could write the judge's Triton cache or bytecode could change what the reference computes).
CACHE_VARIABLES = (
    "TRITON_CACHE_DIR",
    "TORCHINDUCTOR_CACHE_DIR",
    "TORCH_EXTENSIONS_DIR",
    "PYTHONPYCACHEPREFIX",
)

# System folders bound read-only when present (on merged-/usr systems /bin, /lib... are symlinks into
# /usr and are recreated as symlinks).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/sys")
# What of /etc a Python, torch, a compiler and CUDA read; /etc as a whole holds secrets (/etc/shadow is
# readable by root, and a box started by root maps to root).
ETC_ENTRIES = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "environment",
    "gai.conf",
    "group",
    "host.conf",
    "hostname",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "locale.conf",
    "localtime",
    "login.defs",
    "mime.types",
    "nsswitch.conf",
    "nvidia",
    "os-release",
    "passwd",
    "protocols",
    "services",
    "ssl",
    "timezone",
    "OpenCL",
)
# Masked wherever they turn up directly inside a readable folder.
HIDDEN_NAMES = (".kernelwright", ".git", ".env", ".envrc", ".netrc", ".npmrc", ".pypirc", ".aws", ".ssh")
# Relative to the home folder: masked when the home folder (or a parent of these) is readable.
HOME_SECRETS = (
    ".ssh",
    ".aws",
    ".azure",
    ".config",
    ".docker",
    ".gnupg",
    ".kube",
    ".local/share/keyrings",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".bash_history",
    ".zsh_history",
    ".python_history",
    ".anthropic",
    ".cache",
)
# GPU device nodes every CUDA process needs; /dev/nvidiaN is added for its own card.
NVIDIA_COMMON = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset")

# Variables a candidate worker may inherit from the person's environment (glob patterns, upper case),
# unless they also look secret (engine.environment.is_secret): what Python, torch, triton, CUDA, the
# C/C++ toolchain and locales read.
ENV_ALLOWLIST: tuple[str, ...] = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONWARNINGS",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "LD_LIBRARY_PATH",
    "LIBRARY_PATH",
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "CC",
    "CXX",
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "MAX_JOBS",
    "CUDA_HOME",
    "CUDA_PATH",
    "CUDA_ROOT",
    "CUDACXX",
    "CUDA_DEVICE_ORDER",
    "CUDA_MODULE_LOADING",
    "CUDA_LAUNCH_BLOCKING",
    "CUDA_CACHE_*",
    "NVCC_*",
    "NVIDIA_*",
    "TORCH_CUDA_ARCH_LIST",
    "TORCH_LOGS",
    "TORCH_SHOW_CPP_STACKTRACES",
    "TORCH_USE_CUDA_DSA",
    "TORCHINDUCTOR_*",
    "TORCH_COMPILE_*",
    "PYTORCH_*",
    "TRITON_*",
    "OMP_*",
    "KMP_*",
    "MKL_*",
    "OPENBLAS_*",
    "GOMP_*",
    "MALLOC_*",
)


@dataclass(frozen=True)
class BoxSupport:
    """Whether candidate workers can be boxed on this machine; if not, why not and how to fix it."""

    available: bool
    mechanism: str = ""  # "bubblewrap 0.8.0"
    reason: str = ""
    fix: str = ""

    def refusal(self, what: str) -> str:
        """Why `what` (model-written code) is not run here, and the two ways out."""
        return (
            f"{what} would run unconfined: {self.reason}. {self.fix}; or accept the risk with the setting "
            "allow_unconfined (CLI: --allow-unconfined)"
        )

    def describe(self) -> str:
        if self.available:
            return f"candidates run confined ({self.mechanism}: no network, no home folder, own PIDs)"
        return f"candidates cannot be confined: {self.reason}. {self.fix}"


@dataclass(frozen=True)
class BoxPlan:
    """What one boxed worker may see. Paths are host paths and appear at the same place inside."""

    readable: tuple[Path, ...]
    writable: tuple[Path, ...]
    scratch: Path  # a size-capped tmpfs here
    chdir: Path
    gpu_nodes: tuple[str, ...] = ()
    home: Path | None = None  # the person's home folder, for masking its secrets where it is readable
    scratch_bytes: int = 4 * 1024**3  # the scratch tmpfs's cap (memory-backed: only what is written)
    # The exchange folder as a tmpfs of the box, capped at exchange_bytes (None: it is among `writable`)
    exchange: Path | None = None
    exchange_bytes: int = 0
    seccomp_fd: int | None = None
    extra_hidden: tuple[Path, ...] = field(default_factory=tuple)


def bwrap_path() -> str | None:
    chosen = os.environ.get(BWRAP_ENV)
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("bwrap")


@functools.cache
def support() -> BoxSupport:
    """Try a minimal box once per process (about 25 ms): bubblewrap present and namespaces allowed."""
    binary = bwrap_path()
    install = (
        "Install bubblewrap (Debian/Ubuntu: `apt install bubblewrap`; Fedora: `dnf install bubblewrap`)"
        f" or point {BWRAP_ENV} at a bwrap binary"
    )
    if binary is None:
        where = os.environ.get(BWRAP_ENV)
        reason = (
            f"{BWRAP_ENV}={where} is not an executable file" if where else "bubblewrap (bwrap) is not on PATH"
        )
        return BoxSupport(False, reason=reason, fix=install)
    argv = [binary, *_namespace_flags(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return BoxSupport(False, reason=f"{binary} did not run: {exc}", fix=install)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        return BoxSupport(
            False,
            reason=f"bubblewrap cannot make its namespaces here ({said[-1] if said else done.returncode})",
            fix=(
                "Allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` "
                "(Debian), or on Ubuntu 24.04 and later `sysctl -w "
                "kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile for bwrap; in a "
                "container, run it with user namespaces allowed (docker: --security-opt "
                "seccomp=unconfined)"
            ),
        )
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    return BoxSupport(True, mechanism=version.strip() or "bubblewrap")


def box_root(bwrap_pid: int) -> Path | None:
    """The box's root as the judge sees it, from outside: `/proc/PID/root` of bubblewrap's child (the
    box's first process, which made its mounts; the `bwrap` the engine started stays outside the box to
    wait for it). None before that child exists or after it is gone."""
    try:
        with open(f"/proc/{bwrap_pid}/task/{bwrap_pid}/children") as fh:
            children = fh.read().split()
    except OSError:
        return None
    return Path(f"/proc/{children[0]}/root") if len(children) == 1 else None


@functools.cache
def box_tmpfs_visible() -> bool:
    """Whether this process can read a tmpfs mounted inside a box through `box_root` (once per process,
    about 30 ms). Where it can, a candidate's exchange folder is such a tmpfs, capped by the kernel;
    where it cannot (a setuid bubblewrap, a kernel that hides /proc/PID/root), the folder is a bound host
    folder that the engine measures while the job runs."""
    binary = bwrap_path()
    if binary is None or not support().available:
        return False
    argv = [binary, *_namespace_flags(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    argv += ["--size", str(1 << 16), "--tmpfs", "/tmp", "sh", "-c", ": > /tmp/seen && read _"]
    try:
        probe = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:
        return False
    try:
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while probe.poll() is None and time.monotonic() < deadline:
            root = box_root(probe.pid)
            with contextlib.suppress(OSError):
                if root is not None and (root / "tmp" / "seen").is_file():
                    return not (root / "tmp").samefile("/tmp")  # the box's tmpfs, not this process's
            time.sleep(0.005)
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.communicate(b"\n", timeout=PROBE_TIMEOUT_S)
        if probe.poll() is None:
            probe.kill()
            probe.wait()


def _namespace_flags() -> list[str]:
    return [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--disable-userns",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
    ]


def box_argv(plan: BoxPlan, command: list[str], binary: str) -> list[str]:
    """bwrap's command line that runs `command` inside the box `plan` describes."""
    argv = [binary, *_namespace_flags(), "--hostname", "kernelwright-box"]
    argv += _system_binds()
    argv += ["--dev", "/dev", "--proc", "/proc"]
    for place, cap in OTHER_TMPFS_BYTES.items():
        argv += ["--size", str(cap), "--tmpfs", place]
    for node in plan.gpu_nodes:
        argv += ["--dev-bind", node, node]
    readable = _outermost(p for p in plan.readable if p.exists())
    for path in readable:
        argv += ["--ro-bind", str(path), str(path)]
    argv += _masks(readable, plan.home, plan.extra_hidden)
    for path in plan.writable:
        argv += ["--bind", str(path), str(path)]
    argv += ["--size", str(plan.scratch_bytes), "--tmpfs", str(plan.scratch)]
    if plan.exchange is not None:
        # Its own tmpfs, which the kernel holds to the cap (ENOSPC past it); the judge reads it through
        # box_root (docs/PITFALLS.md 25).
        argv += ["--size", str(plan.exchange_bytes), "--tmpfs", str(plan.exchange)]
    # Last, once every node and folder below it is in place: /dev's own tmpfs takes no new files (its
    # device nodes still open for writing; /dev/shm and /dev/pts are mounts of their own).
    argv += ["--remount-ro", "/dev"]
    if plan.seccomp_fd is not None:
        argv += ["--seccomp", str(plan.seccomp_fd)]
    argv += ["--chdir", str(plan.chdir), "--", *command]
    return argv


def _system_binds() -> list[str]:
    binds: list[str] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            binds += ["--ro-bind", name, name]
    for entry in ETC_ENTRIES:
        path = Path("/etc") / entry
        if path.exists():
            binds += ["--ro-bind", str(path), str(path)]
    return binds


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Each folder once, with folders inside another dropped (bwrap binds the outer one whole); system
    folders, already bound, dropped too."""
    system = [Path(d) for d in SYSTEM_DIRS]
    kept: list[Path] = []
    for path in sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts)):
        if path == Path("/") or any(path.is_relative_to(s) for s in system):
            continue
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def _masks(readable: list[Path], home: Path | None, extra: tuple[Path, ...]) -> list[str]:
    hidden: set[Path] = set(extra)
    for root in readable:
        hidden.update(root / name for name in HIDDEN_NAMES)
        if home is not None:
            hidden.update(home / rel for rel in HOME_SECRETS if (home / rel).is_relative_to(root))
    argv: list[str] = []
    # A symlinked secret is masked where it points, when that lies in a readable folder.
    for path in sorted({p.resolve() for p in hidden}):
        if not path.exists() or not any(path.is_relative_to(r) for r in readable):
            continue
        if path.is_dir():
            argv += ["--perms", "0000", "--tmpfs", str(path), "--remount-ro", str(path)]
        else:
            argv += ["--ro-bind", "/dev/null", str(path)]
    return argv


def gpu_nodes(physical: str | None, index: int | None) -> tuple[str, ...]:
    """The /dev/nvidia* nodes a worker on this card needs: the control nodes and its own card's (every
    card's where its minor number cannot be found: a MIG instance, no nvidia-smi)."""
    card = physical if physical is not None else str(index or 0)
    minor = _card_minor(card)
    own = (
        [f"/dev/nvidia{minor}"]
        if minor is not None
        else sorted(str(p) for p in Path("/dev").glob("nvidia[0-9]*"))
    )
    caps_dir = Path("/dev/nvidia-caps")
    caps = sorted(str(p) for p in caps_dir.glob("*")) if caps_dir.is_dir() else []
    return tuple(n for n in (*NVIDIA_COMMON, *own, *caps) if Path(n).exists())


@functools.cache
def _card_minor(card: str) -> int | None:
    """The device minor number of a card named as CUDA_VISIBLE_DEVICES names it (an ordinal or a GPU-
    UUID): nvidia-smi gives its PCI bus, the driver's /proc entry for that bus its minor."""
    smi = shutil.which("nvidia-smi")
    if smi is None or card.startswith("MIG-"):
        return None
    query = [smi, "--query-gpu=index,uuid,pci.bus_id", "--format=csv,noheader"]
    try:
        done = subprocess.run(query, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in done.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3 or card not in (parts[0], parts[1]):
            continue
        bus = parts[2].lower()
        bus = bus[4:] if len(bus.split(":")[0]) == 8 else bus  # 00000000:19:00.0 -> 0000:19:00.0
        try:
            text = (Path("/proc/driver/nvidia/gpus") / bus / "information").read_text()
        except OSError:
            return None
        for row in text.splitlines():
            if row.startswith("Device Minor:"):
                value = row.split(":", 1)[1].strip()
                return int(value) if value.isdigit() else None
    return None


# -- the interpreter's folders ---------------------------------------------------------------------

_PROBE = (
    "import json, sys, importlib.util as u\n"
    "def where(name):\n"
    "    try:\n"
    "        s = u.find_spec(name)\n"
    "    except Exception:\n"
    "        return None\n"
    "    return list(s.submodule_search_locations or []) if s is not None else None\n"
    "found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable] + [p for p in sys.path if p]\n"
    "for name in ('kernelwright', 'torch', 'triton', 'numpy'):\n"
    "    found += where(name) or []\n"
    "print(json.dumps(found))\n"
)


@functools.cache
def interpreter_folders(python: str, pythonpath: str = "") -> tuple[Path, ...]:
    """Where `python` reads its standard library, site-packages and our packages from (asked of that
    interpreter itself, so editable installs and .pth files count), the symlinked executable's target
    folder included."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    folders: list[Path] = [Path(python).parent, Path(os.path.realpath(python)).parent]
    try:
        done = subprocess.run(
            [python, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):  # no such interpreter: its worker's start says so
        return tuple(p for p in folders if p.exists())
    if done.returncode == 0:
        try:
            found = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            found = []
        for entry in found:
            path = Path(entry)
            folders.append(path.parent if path.is_file() else path)
            folders.append(
                Path(os.path.realpath(path)).parent if path.is_file() else Path(os.path.realpath(path))
            )
    return tuple(dict.fromkeys(p for p in folders if p.exists()))


def toolchain_folders(env: Mapping[str, str]) -> tuple[Path, ...]:
    """CUDA's and the compilers' folders outside the system ones (CUDA_HOME, nvcc's and cc's on PATH)."""
    found: list[Path] = []
    for name in ("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"):
        if env.get(name):
            found.append(Path(env[name]))
    for tool in ("nvcc", "cc", "c++", "gcc", "g++", "ninja"):
        located = shutil.which(tool, path=env.get("PATH"))
        if located:
            real = Path(os.path.realpath(located))
            found.append(real.parent.parent if real.parent.name == "bin" else real.parent)
    for entry in env.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if entry:
            found.append(Path(entry))
    return tuple(p for p in dict.fromkeys(found) if p.exists())


# -- the environment -------------------------------------------------------------------------------


def allowed(name: str) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, p) for p in ENV_ALLOWLIST) and not is_secret(name)


def candidate_env(env: Mapping[str, str], home: Path) -> dict[str, str]:
    """`env` (a worker's environment as built for an unconfined worker) cut down to the allowlist, with
    its own home, user name and the variables kernelwright itself set (caches, thread and allocator
    settings, TMPDIR) kept."""
    own = {
        "TMPDIR",
        "TMP",
        "TEMP",
        "TORCH_EXTENSIONS_DIR",
        "PYTHONUNBUFFERED",
        "PYTHONFAULTHANDLER",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPYCACHEPREFIX",
        "CUDA_VISIBLE_DEVICES",
    }
    kept = {k: v for k, v in env.items() if k in own or allowed(k)}
    kept.update({"HOME": str(home), "USER": "kernelwright", "LOGNAME": "kernelwright"})
    kept.setdefault("PATH", os.defpath)
    return kept


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of the person's environment that no candidate output may carry: those of variables that
    look secret or are not on the allowlist (DATABASE_URL, MYAPP_KEY), at least 8 characters long and
    not a path, longest first."""
    found = {
        value
        for name, value in env.items()
        if len(value) >= 8 and not value.startswith("/") and (is_secret(name) or not allowed(name))
    }
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, values: tuple[str, ...] | None = None) -> str:
    """`text` with every secret value (of this process's environment by default) replaced."""
    for value in secret_values(os.environ) if values is None else values:
        if value in text:
            text = text.replace(value, "[redacted]")
    return text


# -- seccomp ----------------------------------------------------------------------------------------

# struct seccomp_data: nr at 0, arch at 4. Classic BPF opcodes.
_LD_ABS_W = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | 1
_X32_BIT = 0x40000000
# (audit arch, denied system calls by number).
_DENIED: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {"keyctl": 250, "add_key": 248, "request_key": 249, "sched_setaffinity": 203}),
    "aarch64": (0xC00000B7, {"keyctl": 219, "add_key": 217, "request_key": 218, "sched_setaffinity": 122}),
}


def seccomp_program(machine: str | None = None) -> bytes | None:
    """A filter (struct sock_filter[]) for bwrap --seccomp: the denied calls, and every call of another
    ABI (i386 from x86_64, x32), fail with EPERM; None on an architecture not listed (the box then runs
    without one)."""
    machine = machine or platform.machine()
    entry = _DENIED.get(machine)
    if entry is None:
        return None
    arch, calls = entry
    checks = [(_JEQ_K, number) for number in sorted(calls.values())]
    if machine == "x86_64":
        checks.append((_JGE_K, _X32_BIT))
    deny = 4 + len(checks) + 1  # the index of the last instruction
    ops: list[tuple[int, int, int, int]] = [
        (_LD_ABS_W, 0, 0, 4),  # 0: the call's ABI
        (_JEQ_K, 1, 0, arch),  # 1: ours: on to 3
        (_RET_K, 0, 0, _RET_EPERM),  # 2: another ABI
        (_LD_ABS_W, 0, 0, 0),  # 3: the call's number
    ]
    for code, k in checks:
        ops.append((code, deny - len(ops) - 1, 0, k))  # a jump of jt lands on i + 1 + jt
    ops += [(_RET_K, 0, 0, _RET_ALLOW), (_RET_K, 0, 0, _RET_EPERM)]
    assert len(ops) == deny + 1
    return b"".join(struct.pack("=HBBI", *op) for op in ops)
