"""Make glibc's allocator behave the same in every benchmark process.

By default glibc adapts its mmap threshold at run time and returns freed memory
at the top of the heap to the OS.  Whether a freshly allocated ~1 MB array then
costs page faults depends on the heap's layout, i.e. on what else the process
has allocated (which peer libraries were imported, which workload ran before).
On this project's VMs a page fault costs ~1.5 us, so a fresh 800 kB array costs
~280 us against ~17 us for one whose pages are already mapped: the same NumPy
code ran 0.8 ms or 5 ms depending on the heap.  Fixing both thresholds (which
also turns glibc's adaptation off) keeps freed memory mapped, so large-array
workloads measure arithmetic and bookkeeping, not page faults, and every
column gets the same allocator.

``ensure()`` re-executes the current script once with the two variables set
(glibc reads them only at start-up).  It must run before NumPy is imported.
Pass ``--system-malloc`` to the scripts to measure with glibc's defaults.
"""

from __future__ import annotations

import os
import platform
import sys

SETTINGS = {"MALLOC_MMAP_THRESHOLD_": str(64 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}
FLAG = "--system-malloc"


def ensure() -> None:
    if FLAG in sys.argv[1:] or platform.system() != "Linux" or os.environ.get("_CHAINRULE_BENCH_EXEC"):
        return
    if all(k in os.environ for k in SETTINGS):  # the user chose values: keep them
        return
    for k, v in SETTINGS.items():
        os.environ.setdefault(k, v)
    os.environ["_CHAINRULE_BENCH_EXEC"] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable] + sys.argv)


def describe() -> str:
    vals = ", ".join(f"{k}={os.environ[k]}" for k in SETTINGS if k in os.environ)
    return f"glibc with {vals}" if vals else "glibc defaults (adaptive mmap/trim thresholds)"
