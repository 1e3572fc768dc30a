"""Keep freed array memory in the process (glibc only): the batch engine allocates and frees
arrays of a million rows all the time.

glibc serves each allocation above its mmap threshold (128 KiB at start, raised as big blocks are
freed) with a fresh ``mmap`` and unmaps it on free, so every new million-row array is paid again
in page faults: about a tenth of an audit's time at 1 M lines on our benchmark machine. Raising
the threshold to its maximum (32 MiB) and not trimming the heap lets freed blocks be reused.
Peak memory is unchanged (a high-water mark is a high-water mark); memory freed after a run
stays with the process for the next one. ``AUDITOR_MALLOC_TUNING=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import os
import platform

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_done = False


def tune() -> bool:
    """Set glibc's malloc thresholds once per process; True if they were set."""
    global _done
    if _done:
        return False
    _done = True
    if os.environ.get("AUDITOR_MALLOC_TUNING", "1") == "0" or platform.system() != "Linux" \
            or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1 and ok
        return ok
    except (OSError, AttributeError):
        return False
