"""Process lifetimes: whether a local process still runs (for recovering what a killed process left behind),
and children that cannot outlive the process that started them."""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


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


def dies_with_this_process(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A subprocess preexec_fn after which the child gets sig when the calling thread's process dies, however it
    dies (Linux PR_SET_PDEATHSIG; None elsewhere, where children may outlive a killed parent).

    Why not a process group that the parent kills on its way out: a parent killed by SIGKILL runs no code, so
    only the kernel can stop its children then. The death signal survives the child's exec. It fires when the
    thread that started the child exits, so start such children from a thread that outlives them (the worker's
    main thread runs every job). Between fork and exec the child only calls prctl() (looked up before the fork)
    and getppid(), and takes no lock, which keeps preexec_fn safe although the worker has other threads.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:       # the parent died before prctl() took effect: go now
            os._exit(1)

    return set_death_signal
