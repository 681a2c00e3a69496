"""Profile one implementation of one workload with cProfile.

    python benchmarks/profile_workload.py mlp_small                 # chainrule, top 25 by own time
    python benchmarks/profile_workload.py hvp_tanh --impl autograd --sort cumulative --top 40

The thunk is built exactly as in run.py (same inputs, same code), called a few
times to warm up, then called ``--calls`` times under the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import malloc_env

malloc_env.ensure()

from benchmarks import harness, peers
from benchmarks.run import WORKLOAD_MODULES


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload")
    ap.add_argument("--impl", default="chainrule")
    ap.add_argument("--calls", type=int, default=None, help="profiled calls (default: about 2 s worth)")
    ap.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, ncalls)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(malloc_env.FLAG, action="store_true", help="keep glibc's malloc defaults")
    args = ap.parse_args(argv)

    peers.configure_threads(args.threads or None)
    for m in WORKLOAD_MODULES:
        importlib.import_module(f"benchmarks.{m}")
    w = harness.REGISTRY[args.workload]
    thunk = w.builders[args.impl](w.make_data())
    thunk()
    _, per_call = harness._calibrate(thunk, 0.2)
    calls = args.calls or max(1, int(2.0 / per_call))
    print(f"{w.name}/{args.impl}: {harness.fmt_time(per_call)} per call unprofiled; profiling {calls} calls")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        thunk()
    prof.disable()
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
