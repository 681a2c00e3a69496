"""Helpers shared by the course scripts: import paths, the command line, output
folders, optional matplotlib figures, and interleaved timing."""
import argparse
import os
import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLES = HERE.parent
REPO = EXAMPLES.parent

# examples/ holds the worked examples the course scripts reuse (forward_vs_reverse,
# autodiff_exercises, autodiff_cookbook, graphs_and_flops).
for _p in (str(HERE), str(EXAMPLES)):
    if _p not in sys.path:
        sys.path.insert(0, _p)
try:
    import chainrule  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.append(str(REPO))


def parse_args(doc):
    """The flags every course script takes: --fast and --out DIR."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--fast", action="store_true",
                    help="smaller problems and fewer repetitions (what the tests run)")
    ap.add_argument("--out", default="out", help="folder for plots and pictures (default out)")
    return ap.parse_args()


def section(title):
    print(f"\n=== {title} " + "=" * max(3, 74 - len(title)), flush=True)


def out_file(out_dir, name):
    """out_dir/name, creating out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    return os.path.join(out_dir, name)


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def figure(*, nrows=1, ncols=1, figsize=(6, 4), what="the plot"):
    """(fig, axes) of a matplotlib Figure made without pyplot (works headless), or
    (None, None) with a printed note when matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(f"  [matplotlib is not installed: {what} is skipped "
              "(pip install matplotlib to get it)]")
        return None, None
    fig = Figure(figsize=figsize)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, (axes[0, 0] if nrows == ncols == 1 else axes)


def save(fig, path):
    """Write a figure; returns the path (None when there is no figure)."""
    if fig is None:
        return None
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"  plot written to {path}")
    return path


def rates(fns, *, rounds=7, min_time=0.05, warmup=2):
    """Calls per second of each zero-argument function in ``fns`` (a dict).

    Every function is warmed up, then timed in ``rounds`` interleaved rounds (each
    round times every function once, the starting function rotating), a sample being
    as many back-to-back calls as last ``min_time`` seconds (calibrated once, at least
    one call). Returns {name: {"rate": median calls/s, "rates": per-round values,
    "calls": calls per sample}}."""
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    calls = {}
    for name in names:
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                fns[name]()
            dt = time.perf_counter() - t0
            if dt >= min_time or n >= 1 << 20:
                break
            n = max(n + 1, int(n * min(10.0, 1.5 * min_time / max(dt, 1e-9))))
        calls[name] = n
    samples = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            f, n = fns[name], calls[name]
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            samples[name].append(n / (time.perf_counter() - t0))
    return {name: {"rate": statistics.median(samples[name]), "rates": samples[name],
                   "calls": calls[name]} for name in names}
