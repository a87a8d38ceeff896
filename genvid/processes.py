"""Local process helpers: whether a process still runs (to recover what a killed one left behind), and
children that die with their parent."""
from __future__ import annotations

import ctypes
import os
import signal

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


def die_with_parent() -> None:
    """For Popen's preexec_fn: on Linux the child gets SIGTERM when its parent dies, even by SIGKILL.

    Only prctl() runs between fork and exec here, which is async-signal-safe. Elsewhere this does nothing.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
