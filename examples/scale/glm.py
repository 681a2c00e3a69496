"""Logistic and Poisson regression on data larger than the cluster's memory.

The losses are ten lines of ``chainrule.numpy``; their gradients and Hessians come from
chainrule, lazily, on Dask arrays read from disk chunk by chunk by a
``distributed.LocalCluster`` whose memory is half the data's size. Fitted by Newton's
method (``optim.newton``, exact Hessian: one pass over the data per iteration) and by
L-BFGS (``optim.minimize``: one pass per function evaluation), each with a progress bar,
side by side with dask-glm's hand-written gradients and Hessians on the same data and
cluster, and checked against NumPy on a slice that fits in memory.

Run::

    python examples/scale/glm.py                      # 40 million x 20 float64 (6.4 GB)
    python examples/scale/glm.py --rows 20000000      # 3.2 GB
    python examples/scale/glm.py --small              # seconds (the test runs this)

The data are generated once into ``--data`` (default: ``~/.cache/chainrule/glm``, outside
the checkout) as ``.npy`` chunks (``dask.array.to_npy_stack``) and reused. Needs dask,
distributed (``pip install chainrule[scale]``); tqdm and dask-glm are used when present.
"""
import argparse
import os
import pathlib
import sys
import tempfile
import time
import warnings

import numpy as np

try:
    import chainrule as cr  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
import chainrule.numpy as cnp  # noqa: E402
from chainrule import optim  # noqa: E402

import dask  # noqa: E402
import dask.array as da  # noqa: E402

GiB = 2.0 ** 30


# ------------------------------------------------------------------------------ models
# Mean negative log-likelihoods (constants dropped). Nothing else is written by hand.

def logistic(w, X, y):
    z = X @ w
    return cnp.sum(cnp.logaddexp(0.0, z) - y * z) / X.shape[0]


def poisson(w, X, y):
    z = X @ w
    return cnp.sum(cnp.exp(z) - y * z) / X.shape[0]


MODELS = {"logistic": logistic, "poisson": poisson}


# -------------------------------------------------------------------------------- data

def _true_coefficients(cols, seed):
    rng = np.random.default_rng([seed, 0])
    return {"logistic": rng.normal(0.0, 0.3, cols), "poisson": rng.normal(0.0, 0.1, cols)}


def _block(cols, seed):
    """The generator of row block ``i``: its own seed, so any block can be made alone."""
    def X_block(block_info=None):
        (rows, _), = [block_info[None]["chunk-shape"]]
        i = block_info[None]["chunk-location"][0]
        return np.random.default_rng([seed, 1, i]).standard_normal((rows, cols))
    return X_block


def _responses(Xb, kind, beta, seed, block_info=None):
    i = block_info[0]["chunk-location"][0] if block_info else 0
    rng = np.random.default_rng([seed, 2 if kind == "logistic" else 3, i])
    z = Xb @ beta[kind]
    if kind == "logistic":
        return (rng.random(z.shape) < 1.0 / (1.0 + np.exp(-z))).astype(np.float64)
    return rng.poisson(np.exp(z)).astype(np.float64)


def make_data(folder, rows, cols, chunk_rows, seed=0):
    """Write X (rows x cols, standard normal) and the responses of both models as
    ``.npy`` chunks under ``folder`` (``to_npy_stack``), unless they are there already;
    return them as Dask arrays read from disk (``from_npy_stack``)."""
    folder = pathlib.Path(folder)
    tag = folder / f"{rows}x{cols}-c{chunk_rows}-s{seed}"
    if not (tag / "done").exists():
        tag.mkdir(parents=True, exist_ok=True)
        beta = _true_coefficients(cols, seed)
        chunks = ((chunk_rows,) * (rows // chunk_rows)
                  + ((rows % chunk_rows,) if rows % chunk_rows else ()), (cols,))
        X = da.map_blocks(_block(cols, seed), chunks=chunks, dtype=np.float64)
        t0 = time.perf_counter()
        with dask.config.set(scheduler="threads"):
            da.to_npy_stack(str(tag / "X"), X)
            for kind in MODELS:
                y = da.map_blocks(_responses, da.from_npy_stack(str(tag / "X")), kind, beta,
                                  seed, drop_axis=1, dtype=np.float64)
                da.to_npy_stack(str(tag / f"y_{kind}"), y)
        (tag / "done").write_text(f"{time.perf_counter() - t0:.1f} s\n")
        print(f"generated {rows:,} x {cols} float64 in {tag} "
              f"({time.perf_counter() - t0:.0f} s)")
    X = da.from_npy_stack(str(tag / "X"))
    ys = {kind: da.from_npy_stack(str(tag / f"y_{kind}")) for kind in MODELS}
    return X, ys


# ----------------------------------------------------------------------- instruments

def _bar(desc, quiet):
    """A tqdm progress bar (a silent stand-in without tqdm, or with ``quiet``)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is None or quiet:
        class _Null:
            def update(self, n=1):
                pass

            def set_postfix_str(self, s):
                pass

            def close(self):
                pass
        return _Null()
    return tqdm(desc=desc, unit="it", leave=True, dynamic_ncols=True)


class _GraphCounter:
    """Counts the graphs submitted to a distributed scheduler (one per compute),
    whoever submits them: chainrule's optimisers and dask-glm alike."""

    def __init__(self):
        from distributed.diagnostics.plugin import SchedulerPlugin

        counter = self

        class Plugin(SchedulerPlugin):
            name = "chainrule-glm-graph-counter"

            def update_graph(self, scheduler, **kwargs):
                counter.n += 1
        self.n = 0
        self.plugin = Plugin()


def _fit_chainrule(kind, method, X, y, cols, quiet, tol):
    f = MODELS[kind]
    bar = _bar(f"chainrule {method:6s} {kind}", quiet)
    t0 = time.perf_counter()
    if method == "newton":
        def callback(w, fw):
            bar.update()
            bar.set_postfix_str(f"f={fw:.10g}")
        res = optim.newton(f, np.zeros(cols), args=(X, y), method="exact", tol=tol,
                           persist=False, callback=callback)
        w, nit, ncompute = res.x, res.nit, res.ncompute
    else:
        def callback(intermediate_result):
            bar.update()
            bar.set_postfix_str(f"f={intermediate_result.fun:.10g}")
        res = optim.minimize(f, np.zeros(cols), args=(X, y), method="L-BFGS-B",
                             persist=False, callback=callback,
                             options={"gtol": tol, "ftol": 1e-15, "maxiter": 500})
        w, nit, ncompute = res.x, res.nit, res.ncompute
    bar.close()
    return {"w": np.asarray(w), "seconds": time.perf_counter() - t0, "nit": int(nit),
            "computations": int(ncompute)}


def _fit_dask_glm(kind, method, X, y, counter):
    from dask_glm import algorithms, families
    family = {"logistic": families.Logistic, "poisson": families.Poisson}[kind]
    before = counter.n
    warnings.filterwarnings("ignore", message=".*fuse_ave_width", category=FutureWarning)
    t0 = time.perf_counter()
    if method == "newton":
        w = algorithms.newton(X, y, family=family, normalize=False, tol=1e-10, max_iter=50)
    else:
        w = algorithms.lbfgs(X, y, family=family, normalize=False, max_iter=500)
    seconds = time.perf_counter() - t0
    graphs = counter.n - before
    # dask-glm's newton submits one graph per iteration (Hessian and gradient); its
    # lbfgs one per function evaluation (loss and gradient)
    return {"w": np.asarray(w), "seconds": seconds, "nit": graphs, "computations": graphs}


# -------------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=40_000_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--data", default=None,
                    help="folder for the generated chunks (default ~/.cache/chainrule/glm)")
    ap.add_argument("--read-chunk-rows", type=int, default=None,
                    help="rows per task when reading (a split of the chunks on disk: "
                         "less memory per task)")
    ap.add_argument("--models", default="logistic,poisson")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-fraction", type=float, default=0.5,
                    help="the cluster's total memory limit as a fraction of X's size")
    ap.add_argument("--slice-rows", type=int, default=1_000_000,
                    help="rows of the slice fitted with NumPy data as well")
    ap.add_argument("--tol", type=float, default=1e-10,
                    help="gradient tolerance of chainrule's fits (mean loss)")
    ap.add_argument("--no-dask-glm", action="store_true")
    ap.add_argument("--small", action="store_true",
                    help="20,000 x 5 in a temporary folder: runs in seconds")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    tmp = None
    if args.small:
        args.rows, args.cols, args.chunk_rows, args.slice_rows = 20_000, 5, 5_000, 10_000
        if args.data is None:
            tmp = tempfile.TemporaryDirectory(prefix="chainrule-glm-")
            args.data = tmp.name
    if args.data is None:
        args.data = os.path.join(os.path.expanduser("~"), ".cache", "chainrule", "glm")
    try:
        return _run(args)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _run(args):
    from distributed import Client, LocalCluster

    X, ys = make_data(args.data, args.rows, args.cols, args.chunk_rows)
    models = [m for m in args.models.split(",") if m]
    if args.read_chunk_rows:
        X = X.rechunk((args.read_chunk_rows, args.cols))
        ys = {k: y.rechunk(args.read_chunk_rows) for k, y in ys.items()}
    x_bytes = X.nbytes
    data_bytes = x_bytes + sum(y.nbytes for y in ys.values())
    per_worker = int(x_bytes * args.memory_fraction / args.workers)
    if args.small:      # a worker process alone takes ~150 MiB: 1 GiB, not a fraction
        per_worker = 2 ** 30
    print(f"data: X {X.shape[0]:,} x {X.shape[1]} float64 = {x_bytes / GiB:.2f} GiB "
          f"({X.numblocks[0]} chunks of {X.chunks[0][0]:,} rows) + 2 responses; "
          f"{data_bytes / GiB:.2f} GiB on disk in {args.data}")
    print(f"cluster: {args.workers} worker processes x 1 thread, memory limit "
          f"{per_worker / GiB:.2f} GiB each = {args.workers * per_worker / GiB:.2f} GiB "
          f"(X is {x_bytes / (args.workers * per_worker):.2f}x that)")
    have_glm = not args.no_dask_glm
    if have_glm:
        try:
            import dask_glm.algorithms  # noqa: F401
        except Exception as e:     # noqa: BLE001 (report any failure to import)
            print(f"dask-glm not compared: import dask_glm.algorithms failed: "
                  f"{type(e).__name__}: {e}")
            have_glm = False
    out = {"rows": args.rows, "cols": args.cols, "data_gib": data_bytes / GiB,
           "x_gib": x_bytes / GiB, "cluster_gib": args.workers * per_worker / GiB,
           "fits": {}, "slice": {}}
    counter = _GraphCounter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      memory_limit=per_worker, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        cluster.scheduler.add_plugin(counter.plugin)

        # 1. NumPy on a slice that fits in memory: the same fit, NumPy data against
        #    Dask data on the cluster
        m = min(args.slice_rows, args.rows)
        Xs_np = X[:m].compute()
        for kind in models:
            ys_np = ys[kind][:m].compute()
            ref = optim.newton(MODELS[kind], np.zeros(args.cols), args=(Xs_np, ys_np),
                               method="exact", tol=args.tol)
            lazy = optim.newton(MODELS[kind], np.zeros(args.cols), args=(X[:m], ys[kind][:m]),
                                method="exact", tol=args.tol)
            diff = float(np.max(np.abs(lazy.x - ref.x)))
            out["slice"][kind] = {"rows": m, "max_abs_diff": diff, "nit": ref.nit}
            print(f"slice of {m:,} rows, {kind}: Newton on Dask vs NumPy data, largest "
                  f"coefficient difference {diff:.1e} ({ref.nit} iterations)", flush=True)
        del Xs_np

        # 2. the whole data set: chainrule and dask-glm, Newton and L-BFGS
        for kind in models:
            for method in ("newton", "lbfgs"):
                r = _fit_chainrule(kind, method, X, ys[kind], args.cols, args.quiet, args.tol)
                out["fits"][(kind, method, "chainrule")] = r
                _progress(kind, method, "chainrule", r)
                if have_glm:
                    g = _fit_dask_glm(kind, method, X, ys[kind], counter)
                    out["fits"][(kind, method, "dask-glm")] = g
                    _progress(kind, method, "dask-glm", g)
    _report(out)
    return out


def _progress(kind, method, lib, r):
    print(f"  {kind} {method} {lib}: {r['nit']} iterations, {r['computations']} passes, "
          f"{r['seconds']:.1f} s", flush=True)


def _report(out):
    print(f"\n{out['rows']:,} x {out['cols']}: X {out['x_gib']:.2f} GiB, cluster memory "
          f"{out['cluster_gib']:.2f} GiB")
    head = (f"{'model':9s} {'method':7s} {'library':10s} {'iter':>5s} {'passes':>7s} "
            f"{'s total':>8s} {'s/iter':>7s} {'s/pass':>7s} {'max |dw| vs chainrule':>22s}")
    print(head)
    fits = out["fits"]
    for (kind, method, lib), r in fits.items():
        base = fits[(kind, method, "chainrule")]["w"]
        d = float(np.max(np.abs(r["w"] - base)))
        r["max_abs_diff_vs_chainrule"] = d
        it = max(r["nit"], 1)
        print(f"{kind:9s} {method:7s} {lib:10s} {r['nit']:5d} {r['computations']:7d} "
              f"{r['seconds']:8.1f} {r['seconds'] / it:7.2f} "
              f"{r['seconds'] / max(r['computations'], 1):7.2f} "
              f"{'' if lib == 'chainrule' else f'{d:.1e}':>22s}")
    for kind in MODELS:
        a = fits.get((kind, "newton", "chainrule"))
        b = fits.get((kind, "lbfgs", "chainrule"))
        if a and b:
            print(f"{kind}: chainrule Newton vs L-BFGS, largest coefficient difference "
                  f"{np.max(np.abs(a['w'] - b['w'])):.1e}")


if __name__ == "__main__":
    main()
