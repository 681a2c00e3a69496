"""Run the chainrule benchmarks.

    python benchmarks/run.py                 # everything, a few seconds per workload
    python benchmarks/run.py --quick         # smoke run, well under 30 s
    python benchmarks/run.py --only mlp      # workloads whose name/family matches
    python benchmarks/run.py --markdown      # markdown table (docs/performance.md)
    python benchmarks/run.py --list          # list the workloads

See benchmarks/README.md for what the columns mean.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: import the benchmarks package (and chainrule) from the repository root,
# and keep benchmarks/ itself off the path so its module names cannot shadow anything.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import malloc_env

malloc_env.ensure()

from benchmarks import harness, peers

# One module per workload family; each registers its workloads on import.
WORKLOAD_MODULES = ["mlp", "taylor", "hvp", "hypergrad", "jacobians", "jit_compile", "overhead"]

# Library -> getter; an implementation "lib" or "lib-<variant>" (chainrule-jit, jax-jit) uses it.
PEER_GETTERS = {"chainrule": peers.chainrule, "autograd": peers.autograd,
                "jax": peers.jax, "torch": peers.torch}


def _version(modname):
    try:
        mod = importlib.import_module(modname)
    except Exception:  # noqa: BLE001
        return None
    v = getattr(mod, "__version__", None)
    if v is None:
        try:
            from importlib.metadata import version

            v = version(modname)
        except Exception:  # noqa: BLE001
            v = "?"
    return v


def _git_commit():
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
        commit = out.stdout.strip() or "no commit yet"
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "chainrule"],
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        return commit + (" (chainrule/ has uncommitted changes)" if dirty else "")
    except Exception:  # noqa: BLE001
        return "unknown"


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loadavg():
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def environment(threads_info, load_at_start="unknown") -> dict:
    import numpy as np

    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "chainrule": f"{_version('chainrule')} @ {_git_commit()}",
    }
    for name in ("autograd", "jax", "jaxlib", "torch"):
        v = _version(name)
        env[name] = v if v else "not installed"
    env["threads requested"] = threads_info.get("requested") or "library defaults"
    try:
        import threadpoolctl

        pools = []
        for p in threadpoolctl.threadpool_info():
            arch = f", {p['architecture']} kernels" if p.get("architecture") else ""
            pools.append(f"{p['internal_api']} {p.get('version') or ''} ({p['prefix']}{arch}): "
                         f"{p['num_threads']} threads")
        env["thread pools (threadpoolctl)"] = "; ".join(pools)
    except ImportError:
        env["thread pools (threadpoolctl)"] = "threadpoolctl not installed"
    if "torch" in sys.modules:
        th = sys.modules["torch"]
        env["torch threads"] = f"{th.get_num_threads()} intra-op, BLAS " + (
            "MKL" if th.backends.mkl.is_available() else "other")
    env["malloc"] = malloc_env.describe()
    env["load average (1, 5, 15 min) at start; at end"] = f"{load_at_start}; {_loadavg()}"
    env["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "unset")
    env["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "unset")
    return env


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: short budgets, few rounds")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="workload name, family or glob (repeatable, or comma-separated)")
    ap.add_argument("--impls", metavar="LIST",
                    help="comma-separated implementations to run (numpy is always run)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown report")
    ap.add_argument("--json", metavar="PATH", help="also write all measurements as JSON")
    ap.add_argument("--budget", type=float, help="seconds of timing per workload")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for BLAS, PyTorch and XLA (default 1: on this 2-core machine the "
                         "libraries' thread pools otherwise contend with each other across the "
                         "interleaved rounds); 0 = each library's default")
    ap.add_argument("--list", action="store_true", help="list workloads and exit")
    ap.add_argument(malloc_env.FLAG, action="store_true",
                    help="keep glibc's adaptive malloc thresholds (see benchmarks/malloc_env.py)")
    args = ap.parse_args(argv)

    threads_info = peers.configure_threads(args.threads or None)

    for m in WORKLOAD_MODULES:
        importlib.import_module(f"benchmarks.{m}")
    patterns = [p for opt in (args.only or []) for p in opt.split(",") if p]
    workloads = harness.select(patterns)
    if args.list:
        for w in harness.REGISTRY.values():
            t = f"  [target: {w.describe_targets()}]" if w.targets else ""
            print(f"{w.name:20s} {w.family:10s} {w.description}{t}")
        return 0
    if not workloads:
        print(f"no workload matches {patterns}", file=sys.stderr)
        return 2
    impl_filter = [s for s in args.impls.split(",") if s] if args.impls else None

    # Import every library up front so that no import happens between timings.
    for name, getter in PEER_GETTERS.items():
        if impl_filter and not any(i == name or i.startswith(name + "-") for i in impl_filter):
            continue
        try:
            getter()
        except harness.Unavailable as e:
            print(f"[{name}: {e}]", file=sys.stderr)

    settings = harness.QUICK if args.quick else harness.Settings()
    if args.budget is not None:
        settings.budget = args.budget

    log = lambda s: print(s, file=sys.stderr, flush=True)
    results = []
    load_at_start = _loadavg()
    t0 = time.perf_counter()
    for w in workloads:
        log(f"{w.name} ...")
        res = harness.run_workload(w, settings, impl_filter, log)
        log(f"{w.name}: {res.rounds} rounds, {res.seconds:.1f} s")
        results.append(res)
    total = time.perf_counter() - t0

    env = environment(threads_info, load_at_start)
    cmd = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.markdown:
        print("Environment:\n")
        for k, v in env.items():
            print(f"- {k}: {v}")
        print(f"- command: `{cmd.strip()}` ({total:.0f} s)\n")
        print(harness.format_markdown(results))
        print("\nCells: median time per call (ratio to the hand-written NumPy column, "
              "or the difference to it for the overhead and jit_first_call rows). "
              "target/met: eager = the chainrule column, jit = chainrule-jit.\n")
        print("Notes:\n")
        print(harness.format_notes(results))
    else:
        for k, v in env.items():
            print(f"{k}: {v}")
        print(f"command: {cmd.strip()} ({total:.0f} s)\n")
        print(harness.format_text(results))
        print()
        print(harness.format_notes(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"environment": env, "command": cmd.strip(), "results": harness.to_json(results)},
                      fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
