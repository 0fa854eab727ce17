"""Confining a worker with Linux user and mount namespaces: the file system read-only except the
paths it may write, and no network.

Called in a freshly forked worker while it is still single-threaded (``unshare`` of a user namespace
refuses multithreaded processes). It enters a new user, mount (and network) namespace, bind-mounts
the writable paths onto themselves and the private temporary directory also onto ``/var/tmp``
(LibreOffice, finding ``/tmp`` read-only, puts its pipe there), remounts every earlier mount
read-only (``/proc`` excepted: the last step writes to it, and other processes' ``/proc/PID/root``
stays closed to a confined worker), gives ``/dev/shm`` a private tmpfs, and finally enters a nested
user namespace, which holds no capability over those mounts, so the cell cannot remount them
writable. Needs no privileges where
unprivileged user namespaces are allowed; :func:`probe` says whether they are.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
from collections.abc import Sequence

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
# per-mount flags a read-only remount must keep (the kernel refuses to clear them in a user namespace)
_KEPT = {"nosuid": 2, "nodev": 4, "noexec": 8, "nosymfollow": 256, "noatime": 1024, "nodiratime": 2048,
         "relatime": 1 << 21}
_libc = ctypes.CDLL(None, use_errno=True)


def confine(tmpdir: str, writable: Sequence[str], network: bool = False) -> None:
    """Make everything read-only for this process and its children but ``tmpdir`` (also seen at
    ``/var/tmp``) and ``writable`` (existing directories); cut the network unless ``network``.
    Raises ``OSError`` naming the failed step."""
    uid, gid = os.getuid(), os.getgid()
    tmpdir = os.path.realpath(tmpdir)
    paths = [tmpdir, *(os.path.realpath(p) for p in writable)]
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | (0 if network else _CLONE_NEWNET)), "unshare")
    _map_ids(uid, gid)
    _check(_libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "making mounts private")
    mounts = _mounts()
    binds = [(p, p) for p in paths] + ([(tmpdir, "/var/tmp")] if os.path.isdir("/var/tmp") else [])
    for source, target in binds:
        _check(_libc.mount(source.encode(), target.encode(), None, _MS_BIND | _MS_REC, None), f"binding {target}")
    for point, options in mounts:  # the binds above are newer mounts, so they stay writable
        if point in (target for _, target in binds) or point == "/proc" or point.startswith("/proc/"):
            continue
        flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY | sum(_KEPT.get(o, 0) for o in set(options.split(",")))
        _check(_libc.mount(None, point.encode(), None, flags, None), f"remounting {point} read-only")
    if os.path.isdir("/dev/shm"):  # multiprocessing's semaphores live there
        _check(_libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV, b"size=64m"), "/dev/shm")
    _check(_libc.unshare(_CLONE_NEWUSER), "unshare (nested)")
    _map_ids(uid, gid)


def probe() -> str:
    """``""`` if :func:`confine` works on this machine, else why not (forks a child to try it)."""
    with tempfile.TemporaryDirectory(prefix="mnm-confine-probe-") as allowed:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(read)
            error = ""
            try:
                confine(allowed, [])
                with open(os.path.join(allowed, "ok"), "w"):
                    pass
                try:
                    open(os.path.expanduser("~/mnm-confine-escape"), "w").close()
                    error = "a confined process could still write outside its directory"
                except OSError:
                    pass
            except BaseException as e:
                error = f"{type(e).__name__}: {e}"
            os.write(write, error.encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as f:
            error = f.read().decode()
        os.waitpid(pid, 0)
        return error


def _map_ids(uid: int, gid: int) -> None:
    """Keep our user and group ids inside the new user namespace (files keep their owners)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _mounts() -> list[tuple[str, str]]:
    """(mount point, per-mount options) of every mount this process sees."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")  # spaces etc. come as \040
            out.append((point, fields[5]))
    return out


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"confining the workspace: {what}: {os.strerror(errno)}")
