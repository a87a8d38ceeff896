"""Process lifetimes: whether a local process still runs (to recover what a killed one left behind), and
children that cannot outlive the process that started them."""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl        # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


# Looked up once, here: a child forked from a process with threads must not load libraries between fork and
# exec (another thread may have held the dynamic loader's lock), so the preexec functions below only call it.
_prctl = _libc_prctl()


def is_alive(pid: int) -> bool:
    """True for a running process; a zombie (killed, not yet reaped by its parent) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                      # someone else's process, but it exists
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return True                      # no /proc (not Linux): kill(0) is all we know


def die_with_parent() -> None:
    """For Popen's preexec_fn: on Linux the child gets SIGTERM when its parent dies, even by SIGKILL (services
    that save their data on SIGTERM). Elsewhere this does nothing."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def dies_with_this_process(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A Popen preexec_fn after which the child gets sig (SIGKILL: its work is worthless without us) when this
    process dies, however it dies (Linux PR_SET_PDEATHSIG; None elsewhere, where children may outlive a killed
    parent).

    Why not a process group that the parent kills on its way out: a parent killed by SIGKILL runs no code, so
    only the kernel can stop its children then. The death signal survives the child's exec. It fires when the
    thread that started the child exits, so start such children from a thread that outlives them (the worker's
    main thread runs every job). Between fork and exec the child calls only prctl() and getppid(), which keeps
    preexec_fn safe although the worker has other threads; a parent that died before prctl() took effect is
    noticed and the child leaves at once.
    """
    prctl = _prctl
    if prctl is None:
        return None
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:
            os._exit(1)

    return set_death_signal
