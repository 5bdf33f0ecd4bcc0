"""Containment for one sandbox job, applied inside the forked job process before user code runs.

Three layers, each useful alone, strongest first:

1. Kernel (Linux, when available): a fresh network namespace (no interface but a down loopback,
   so nothing can leave the machine whatever library opens the socket), and Landlock rules
   (reads only from the Python install, our `core` package and the workspace; writes only in the
   workspace; no signals to processes outside the job). These also cover code paths that never
   reach Python's audit events (pyarrow's C++ file systems, C extensions).
2. rlimits: address space, CPU seconds, file size, process count, no core dumps.
3. A Python audit hook that refuses subprocesses, fork, sockets, ctypes from user code, signals
   to other processes and file access outside the allowed roots with a readable
   `SandboxRefused` (a `PermissionError`), so the user sees *what* was refused.

The hook is best-effort by nature (Python-level); the kernel layers are what make the
containment hold against code that works around it. `isolation()` reports which layers are on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import signal
import sys
import sysconfig
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class SandboxRefused(PermissionError):
    """The sandbox refused an operation the code attempted."""


# ----------------------------------------------------------------------------- allowed roots
def default_read_roots() -> list[str]:
    """Directories job code may read besides the workspace: Python, its packages, our `core`."""
    roots: set[str] = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "include", "scripts"):
        p = sysconfig.get_paths().get(key)
        if p:
            roots.add(p)
    for p in sys.path:
        if p and ("site-packages" in p or "dist-packages" in p or p.endswith(".zip")):
            roots.add(p)
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        # lib/pythonX.Y and lib-dynload under each prefix; not the prefix itself (it may be /usr).
        roots.add(os.path.join(prefix, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}"))
    core_dir = Path(__file__).resolve().parent.parent  # .../core: code only, never project data
    roots.add(str(core_dir))
    # System libraries and non-secret system data some packages read lazily.
    roots.update(
        {
            "/usr/lib",
            "/lib",
            "/lib64",
            "/usr/lib64",
            "/usr/local/lib",
            "/usr/share/zoneinfo",
            "/sys/fs/cgroup",
            "/sys/devices/system/cpu",
        }
    )
    return sorted(os.path.realpath(r) for r in roots if os.path.exists(r))


READ_FILES = (
    "/etc/localtime",
    "/etc/timezone",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/dev/urandom",
    "/dev/random",
)
RW_FILES = ("/dev/null",)


# ----------------------------------------------------------------------------- rlimits
def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _task_ceiling() -> int:
    """Tasks on the whole machine (/proc/loadavg), an upper bound of this uid's: RLIMIT_NPROC
    counts every thread of the uid, so the cap must sit above that or pyarrow/BLAS threads fail."""
    try:
        with open("/proc/loadavg") as fh:
            return int(fh.read().split()[3].split("/")[1])
    except (OSError, ValueError, IndexError):
        return 4096


def apply_rlimits(memory_mb: int, cpu_s: int, file_mb: int, baseline_vm: int | None = None) -> bool:
    """Hard limits (soft == hard, except CPU) so the job cannot raise them back.

    Returns True only when every limit was set and reads back as set (reported, never assumed)."""
    base = _vm_size_bytes() if baseline_vm is None else baseline_vm
    mem = base + memory_mb * 1024 * 1024
    limits: list[tuple[int, tuple[int, int]]] = [
        (resource.RLIMIT_AS, (mem, mem)),
        # soft limit -> SIGXCPU (reported as a CPU timeout); hard limit -> SIGKILL.
        (resource.RLIMIT_CPU, (cpu_s, cpu_s + 2)),
        (resource.RLIMIT_FSIZE, (file_mb * 1024 * 1024, file_mb * 1024 * 1024)),
        (resource.RLIMIT_CORE, (0, 0)),
        # Counted per uid across the machine: allow the threads pyarrow/BLAS start, not a fork bomb.
        (resource.RLIMIT_NPROC, (_task_ceiling() + 64,) * 2),
    ]
    ok = True
    for res, lim in limits:
        try:
            resource.setrlimit(res, lim)
            ok = ok and resource.getrlimit(res) == lim
        except (ValueError, OSError):
            ok = False
    # A too-big file raises OSError(EFBIG) in the code instead of killing the job silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return ok


# ----------------------------------------------------------------------------- kernel layers
_SYS_LANDLOCK_CREATE_RULESET = 444  # same number on every architecture (new-style syscalls)
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_PR_SET_NO_NEW_PRIVS = 38

_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_REMOVE_DIR, _FS_REMOVE_FILE, _FS_MAKE_CHAR, _FS_MAKE_DIR = 16, 32, 64, 128
_FS_MAKE_REG, _FS_MAKE_SOCK, _FS_MAKE_FIFO, _FS_MAKE_BLOCK, _FS_MAKE_SYM = 256, 512, 1024, 2048, 4096
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    # Cached: find_library runs `ldconfig -p`, far too slow to repeat for every job.
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


@functools.lru_cache(maxsize=1)
def landlock_abi() -> int:
    """Landlock ABI version of the running kernel, 0 when unavailable."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        r = _libc().syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return 0
    return max(int(r), 0)


def enter_network_namespace() -> bool:
    """Move this (single-threaded) process into an empty network namespace; False if not allowed."""
    if not sys.platform.startswith("linux"):
        return False
    libc = _libc()
    for flags in (_CLONE_NEWUSER | _CLONE_NEWNET, _CLONE_NEWNET):
        if libc.unshare(ctypes.c_int(flags)) == 0:
            return True
    return False


def apply_landlock(workspace: str, read_roots: Iterable[str]) -> int:
    """Restrict this process (and anything it could start) to the given paths. Returns the ABI used."""
    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = _libc()
    fs_all = (1 << 13) - 1
    if abi >= 2:
        fs_all |= _FS_REFER
    if abi >= 3:
        fs_all |= _FS_TRUNCATE
    if abi >= 5:
        fs_all |= _FS_IOCTL_DEV
    attr = _RulesetAttr(handled_access_fs=fs_all)
    size = ctypes.sizeof(ctypes.c_uint64)  # ABI 1-3: only handled_access_fs
    if abi >= 4:
        attr.handled_access_net = 0b11  # BIND_TCP | CONNECT_TCP: no TCP at all
        size = 2 * ctypes.sizeof(ctypes.c_uint64)
    if abi >= 6:
        attr.scoped = 0b11  # abstract unix sockets and signals stay inside the job
        size = 3 * ctypes.sizeof(ctypes.c_uint64)
    fd = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
    )
    if fd < 0:
        return 0
    read_dir = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
    rules: list[tuple[str, int]] = [(r, read_dir) for r in read_roots]
    rules += [(f, _FS_READ_FILE) for f in READ_FILES]
    rules += [(f, _FS_READ_FILE | _FS_WRITE_FILE) for f in RW_FILES]
    rules.append((f"/proc/{os.getpid()}", _FS_READ_FILE | _FS_READ_DIR))
    rules.append((workspace, fs_all))
    try:
        for path, access in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    access &= _FILE_ONLY
                rule = _PathBeneathAttr(allowed_access=access & fs_all, parent_fd=pfd)
                libc.syscall(
                    _SYS_LANDLOCK_ADD_RULE,
                    ctypes.c_int(fd),
                    ctypes.c_int(1),
                    ctypes.byref(rule),
                    ctypes.c_uint32(0),
                )
            finally:
                os.close(pfd)
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            return 0
    finally:
        os.close(fd)
    return abi


# ----------------------------------------------------------------------------- audit hook
_PROCESS_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.spawn",
        "os.posix_spawn",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
        "os.startfile",
        "resource.setrlimit",
        "resource.prlimit",
        "os.link",
        "os.symlink",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys.remote_exec",
        "os.setns",
        "os.unshare",
    }
)
_PROCESS_EVENTS_WHY = {
    "os.link": "creating links",
    "os.symlink": "creating links",
    "resource.setrlimit": "changing its limits",
    "resource.prlimit": "changing its limits",
    "gc.get_objects": "walking the object graph",
    "gc.get_referrers": "walking the object graph",
    "gc.get_referents": "walking the object graph",
}
_WRITE_PATH_EVENTS = {  # event -> indexes of path arguments
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.lchown": (0,),
    "os.chflags": (0,),
    "os.lchflags": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.rename": (0, 1),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copymode": (1,),
    "shutil.copystat": (1,),
    "shutil.move": (0, 1),
    "shutil.chown": (0,),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
}
_PICKLE_DENY = {
    "os": None,
    "posix": None,
    "nt": None,
    "subprocess": None,
    "socket": None,
    "ctypes": None,
    "shutil": None,
    "sys": None,
    "importlib": None,
    "runpy": None,
    "pty": None,
    "code": None,
    "_posixsubprocess": None,
    "signal": None,
    "multiprocessing": None,
    "webbrowser": None,
    "pickle": None,
    "builtins": {
        "eval",
        "exec",
        "compile",
        "__import__",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "exit",
        "quit",
    },
}
_O_WRITE = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def install_audit_hook(
    workspace: str, read_roots: Iterable[str], user_filenames: tuple[str, ...]
) -> list[str]:
    """Install the refusing hook. Call once, after all trusted imports, in a throwaway process.

    Returns the live list of refusal messages (the harness reports them even when library code
    wrapped the `SandboxRefused` in its own error, e.g. urllib's URLError).
    `user_filenames` are the code filenames of job code (e.g. "<step>"); ctypes calls made
    directly from frames whose file is one of them or is not a real file are refused, while
    libraries (threadpoolctl in scikit-learn) may keep using ctypes internally.
    """
    ws = os.path.realpath(workspace)
    write_roots = (ws, *RW_FILES)
    reads = (
        ws,
        *(os.path.realpath(r) for r in read_roots),
        *READ_FILES,
        *RW_FILES,
        f"/proc/{os.getpid()}",
        "/proc/self",
        "/proc/thread-self",
    )
    ctypes_dir = os.path.dirname(ctypes.__file__)
    here = __file__
    me, my_pgid = os.getpid(), os.getpgid(0)
    state = threading.local()
    refusals: list[str] = []  # kept for the result even when the code swallows the error
    realpath, join, getcwd, fspath = (
        os.path.realpath,
        os.path.join,
        os.getcwd,
        os.fspath,
    )

    def norm(p: Any) -> str | None:
        if isinstance(p, int):
            return None  # an fd: it was checked when it was opened
        p = fspath(p)
        if isinstance(p, bytes):
            p = p.decode("utf-8", "surrogateescape")
        if not os.path.isabs(p):
            if ".." in p.replace("\\", "/").split("/"):
                return "/.."  # dir_fd-relative escapes cannot be resolved here: refuse
            p = join(getcwd(), p)
        return realpath(p)

    def untrusted_caller() -> bool:
        f = sys._getframe(1)
        while f is not None and (f.f_code.co_filename.startswith(ctypes_dir) or f.f_code.co_filename == here):
            f = f.f_back
        if f is None:
            return True
        name = f.f_code.co_filename
        return name in user_filenames or not name.startswith("/") or not os.path.exists(name)

    def refuse(what: str) -> None:
        msg = f"the sandbox does not allow {what}"
        refusals.append(msg)
        raise SandboxRefused(msg)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if getattr(state, "busy", False):
            return  # our own checks (realpath, _getframe) raise events too
        state.busy = True
        try:
            _check(event, args)
        finally:
            state.busy = False

    def _check(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            p = norm(path)
            if p is None:
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and bool(flags & _O_WRITE)
            )
            if writing and not _under(p, write_roots):
                refuse(f"writing {p}; only the project workspace is writable")
            if not writing and not _under(p, reads):
                refuse(f"reading {p}; it is outside the project workspace")
            return
        if event.startswith("gc.") and not untrusted_caller():
            # pandas' SettingWithCopy check calls gc.get_referents on ordinary code
            # (`df = df[mask]; df["x"] = 1`); only the step's own code may not walk the gc.
            return
        if event in _PROCESS_EVENTS:
            refuse(_PROCESS_EVENTS_WHY.get(event, "starting processes") + f" ({event})")
        if event.startswith("socket."):
            refuse(f"network access ({event})")
        if event.startswith("ctypes.") and untrusted_caller():
            refuse(f"calling native code through ctypes ({event})")
        if event in ("os.kill", "os.killpg"):
            target = args[0]
            ok = target in (0, me) if event == "os.kill" else target in (0, my_pgid)
            if not ok:
                refuse(f"signalling process {target} ({event}); only the step itself can be signalled")
            return
        if event in _WRITE_PATH_EVENTS:
            for i in _WRITE_PATH_EVENTS[event]:
                if i < len(args) and args[i] is not None:
                    p = norm(args[i])
                    if p is not None and not _under(p, (ws,)):
                        refuse(f"changing {p} ({event}); only the project workspace can be changed")
            # dir_fd-relative calls (shutil.rmtree uses them) are left to Landlock.
            return
        if event in ("os.listdir", "os.scandir"):
            p = norm(args[0] if args and args[0] is not None else ".")
            if p is not None and not _under(p, reads):
                refuse(f"listing {p}; it is outside the project workspace")
            return
        if event == "os.chdir":
            p = norm(args[0])
            if p is not None and not _under(p, (ws,)):
                refuse(f"changing directory to {p}")
            return
        if event == "pickle.find_class":
            module, name = str(args[0]), str(args[1])
            deny = _PICKLE_DENY.get(module.split(".")[0], set())
            if deny is None or name in deny:
                refuse(f"unpickling {module}.{name} (a pickle that runs code)")
            return

    sys.addaudithook(hook)
    return refusals


def neuter_process_spawning() -> None:
    """`_posixsubprocess.fork_exec` raises no audit event: replace it before user code runs."""

    def fork_exec(*_a: Any, **_k: Any) -> None:
        raise SandboxRefused("sandbox refused starting a process (_posixsubprocess.fork_exec)")

    mod = sys.modules.get("_posixsubprocess")
    if mod is None:
        try:
            import _posixsubprocess as mod  # noqa: PLC0415 - imported to be neutered
        except ImportError:
            return
    mod.fork_exec = fork_exec  # type: ignore[attr-defined]
