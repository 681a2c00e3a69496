"""One training step of the make_moons homework's network: chainrule vs the homework's
own vectorised reverse-mode library (seed 003), side by side in one process.

The network is the homework's: 2-25-25-1, sigmoid hidden units, the summed NLL over
make_moons(100, noise=0.1), a full-batch gradient-descent update w <- w - 3e-2 g. One
*step* is loss + gradient + update. Columns:

  homework vectorised           the homework's Part 1 library (examples/course/
                                homework_autograd.py, reimplemented from its code)
  homework vectorised + acc.    the same plus the accuracy evaluation its training
                                loop does every step (what its 1,332.97 it/s includes,
                                besides a tqdm bar)
  chainrule eager               cr.value_and_grad of nn.mlp + nn.binary_nll, optim.sgd
  chainrule jit                 cr.jit of that whole step
  chainrule eager, hw code      cr.value_and_grad of the homework's own NumPy code
                                (pad, matmul, 1/(1+exp(-x))) on chainrule.numpy
  chainrule jit, hw code        cr.jit of that step
  numpy by hand                 hand-written forward and backward pass, op by op: what
                                plain NumPy costs for this step, for context

Before timing, every column's first three losses are checked against chainrule eager's.
Rounds are interleaved (each round times every column once, rotating the start); the
table gives the median over rounds and the interquartile range relative to it.
The issue's target: chainrule at least 20x the homework's vectorised library.

Run:  python benchmarks/homework.py [--quick] [--rounds N] [--min-time S] [--json PATH]
      [--system-malloc]
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
COURSE = ROOT / "examples" / "course"
# As benchmarks/run.py: the benchmarks package from the repository root (benchmarks/
# itself off the path), glibc's malloc thresholds fixed before NumPy is imported.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != ROOT / "benchmarks"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import malloc_env  # noqa: E402

malloc_env.ensure()

import numpy as np  # noqa: E402

from benchmarks import peers  # noqa: E402

sys.path.insert(0, str(COURSE))
import _course  # noqa: E402  (import paths; chainrule from the checkout if needed)
import seed003_moons as moons  # noqa: E402

TARGET = 20.0
REPORTED_TOY = 1332.97


def numpy_stepper(X, y, params, lr=moons.LR):
    """The step written by hand with NumPy: forward, analytic backward, update."""
    p = [{k: np.array(v, float) for k, v in layer.items()} for layer in params]
    sgn = (2 * y - 1)[:, None]

    def step():
        (W1, b1), (W2, b2), (W3, b3) = ((d["W"], d["b"]) for d in p)
        h1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        h2 = 1 / (1 + np.exp(-(h1 @ W2 + b2)))
        m = (h2 @ W3 + b3) * sgn
        loss = np.sum(np.logaddexp(0, -m))          # -sum log sigmoid(m)
        dz = -sgn / (1 + np.exp(m))
        dh2 = (dz @ W3.T) * h2 * (1 - h2)
        dh1 = (dh2 @ W2.T) * h1 * (1 - h1)
        grads = [(X.T @ dh1, dh1.sum(0)), (h1.T @ dh2, dh2.sum(0)), (h2.T @ dz, dz.sum(0))]
        for d, (gW, gb) in zip(p, grads):
            d["W"] = d["W"] - lr * gW
            d["b"] = d["b"] - lr * gb
        return loss
    return step


def make_columns(X, y, params):
    cols = moons.steppers(X, y, params, ["vectorised", "vectorised + accuracy",
                                         "chainrule eager", "chainrule jit",
                                         "chainrule eager, homework code",
                                         "chainrule jit, homework code"])
    names = {"vectorised": "homework vectorised",
             "vectorised + accuracy": "homework vectorised + acc.",
             "chainrule eager": "chainrule eager", "chainrule jit": "chainrule jit",
             "chainrule eager, homework code": "chainrule eager, hw code",
             "chainrule jit, homework code": "chainrule jit, hw code"}
    out = {names[k]: v for k, v in cols.items()}
    out["numpy by hand"] = numpy_stepper(X, y, params)
    return out


def check(X, y, params):
    """Every column's first three losses equal chainrule eager's (fresh columns)."""
    cols = make_columns(X, y, params)
    ref = [float(cols["chainrule eager"]()) for _ in range(3)]
    bad = {}
    for name, step in cols.items():
        got = [float(step()) for _ in range(3)] if name != "chainrule eager" else ref
        err = max(abs(a - b) / abs(b) for a, b in zip(got, ref))
        if err > 1e-10:
            bad[name] = err
    return ref, bad


def measure(cols, rounds, min_time):
    """_course.rates (warm-up, calibration, interleaved rounds) and, per column, the
    median rate and the interquartile range relative to it."""
    res = _course.rates(cols, rounds=rounds, min_time=min_time, warmup=5)
    out = {}
    for name, r in res.items():
        s = r["rates"]
        q = statistics.quantiles(s, n=4) if len(s) >= 2 else [s[0]] * 3
        med = r["rate"]
        out[name] = {"steps_per_s": med, "us_per_step": 1e6 / med,
                     "iqr_rel": (q[2] - q[0]) / med, "calls": r["calls"], "rounds": len(s)}
    return out


def limit_threads():
    """One thread for BLAS (and PyTorch, XLA), as benchmarks/run.py's default."""
    info = peers.configure_threads(1)
    if "_limiter" not in info:
        return "default (threadpoolctl not installed)"
    return "1 (threadpoolctl)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run (~5 s)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 15)")
    ap.add_argument("--min-time", type=float, default=None,
                    help="seconds per sample (default 0.2; 0.02 with --quick)")
    ap.add_argument("--json", help="write the measurements there")
    ap.add_argument(malloc_env.FLAG, action="store_true",
                    help="keep glibc's adaptive malloc thresholds (see benchmarks/malloc_env.py)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    min_time = args.min_time or (0.02 if args.quick else 0.2)
    threads = limit_threads()

    import chainrule
    X, y = moons.moons()
    params = moons.homework_model().init(0)
    print("One training step (loss + gradient + update) of the homework's 2-25-25-1 sigmoid")
    print(f"network on make_moons(100): Python {platform.python_version()}, NumPy "
          f"{np.__version__}, chainrule {getattr(chainrule, '__version__', '?')}, "
          f"BLAS threads {threads}, {os.cpu_count()} CPUs, {malloc_env.describe()}")
    ref, bad = check(X, y, params)
    print(f"check: every column's first three losses equal chainrule's {np.round(ref, 6)}: "
          + ("yes" if not bad else f"NO {bad}"))
    res = measure(make_columns(X, y, params), rounds, min_time)
    base = res["homework vectorised"]["steps_per_s"]
    print(f"\n{rounds} interleaved rounds, samples of >= {min_time:g} s; medians:\n")
    print(f"| {'implementation':28s} | {'steps/s':>9s} | {'us/step':>8s} | {'IQR':>5s} "
          f"| {'vs homework vectorised':>22s} |")
    print(f"|{'-' * 30}|{'-' * 11}|{'-' * 10}|{'-' * 7}|{'-' * 24}|")
    for name, r in res.items():
        r["ratio"] = r["steps_per_s"] / base
        print(f"| {name:28s} | {r['steps_per_s']:9,.0f} | {r['us_per_step']:8.1f} | "
              f"{100 * r['iqr_rel']:4.0f}% | {r['ratio']:21.2f}x |")
    print(f"\nThe homework reports {REPORTED_TOY:,} steps/s for its vectorised library (its "
          f"machine, with\naccuracy and a tqdm bar each step); here it runs at {base:,.0f} "
          f"(+ accuracy: {res['homework vectorised + acc.']['steps_per_s']:,.0f}).")
    print(f"Target: chainrule >= {TARGET:g}x the homework's vectorised library, measured "
          "side by side.")
    for name in ("chainrule eager", "chainrule jit", "chainrule eager, hw code",
                 "chainrule jit, hw code"):
        r = res[name]["ratio"]
        print(f"  {name:26s} {r:6.2f}x  {'MET' if r >= TARGET else 'not met'}")
    floor = res["numpy by hand"]["ratio"]
    print(f"  (hand-written NumPy, op by op: {floor:.2f}x. {TARGET:g}x would need a step of "
          f"{1e6 / (TARGET * base):.0f} us;\n  the hand-written NumPy step takes "
          f"{res['numpy by hand']['us_per_step']:.0f} us)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": res, "target": TARGET, "check_failures": bad,
                       "rounds": rounds, "min_time": min_time}, fh, indent=2)
        print(f"measurements written to {args.json}")
    return res


if __name__ == "__main__":
    main()
