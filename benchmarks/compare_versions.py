"""Two versions of chainrule side by side, in one process: the way to see a change of a
few percent on a shared machine, where separate runs differ by more.

    git worktree add /tmp/old <commit>
    python benchmarks/compare_versions.py /tmp/old .

Both packages are imported (each keeps its own modules), each workload's call is built
once per version, and the versions take turns: ``--rounds`` rounds of ``--calls`` calls,
timed with the thread's CPU time; the fastest round of each is reported, with the change.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import hvp, jacobians, malloc_env, mlp  # noqa: E402

malloc_env.ensure()


def _load(path):
    """chainrule from ``path``, with its own modules (returned, to put back in turn)."""
    for k in [k for k in sys.modules if k == "chainrule" or k.startswith("chainrule.")]:
        del sys.modules[k]
    sys.path.insert(0, str(path))
    try:
        import chainrule as cr
        import chainrule.numpy as cnp
    finally:
        sys.path.pop(0)
    mods = {k: v for k, v in sys.modules.items() if k == "chainrule" or k.startswith("chainrule.")}
    return cr, cnp, mods


def _calls(cr, cnp):
    pe, jd, hd = jacobians.make_pe_data(), jacobians.make_jac_data(), hvp.make_data()
    md = mlp.make_data((2, 32, 32, 2), 16)
    per_example = cr.vmap(cr.grad(jacobians.make_loss(cnp.logaddexp)), in_axes=(None, 0, 0))
    vg = cr.value_and_grad(mlp.make_loss(cnp))
    W = jd["W"]
    jac = cr.jacrev(lambda x: cnp.tanh(W @ x))
    f = hvp.make_f(cnp)
    vg_j, pe_j, jac_j = cr.jit(vg), cr.jit(per_example), cr.jit(jac)
    hvp_j = cr.jit(lambda X, V: cr.hvp(f, (X,), (V,)))
    return {"mlp_small": lambda: vg(md["params"], md["x"], md["Y"]),
            "per_example_grads": lambda: per_example(pe["params"], pe["X"], pe["y"]),
            "jacrev_tanh": lambda: jac(jd["x"]),
            "hvp_tanh": lambda: cr.hvp(f, (hd["X"],), (hd["V"],)),
            "mlp_small jit": lambda: vg_j(md["params"], md["x"], md["Y"]),
            "per_example_grads jit": lambda: pe_j(pe["params"], pe["X"], pe["y"]),
            "jacrev_tanh jit": lambda: jac_j(jd["x"]),
            "hvp_tanh jit": lambda: hvp_j(hd["X"], hd["V"])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args(argv)
    versions = {}
    for name in ("old", "new"):
        cr, cnp, mods = _load(Path(getattr(args, name)).resolve())
        calls = _calls(cr, cnp)
        for c in calls.values():
            c()                                # warm: caches, compiled backward passes
        versions[name] = (calls, mods)
    for work in versions["old"][0]:
        best = {}
        for _ in range(args.rounds):
            for name, (calls, mods) in versions.items():
                sys.modules.update(mods)
                n = max(1, args.calls // 4) if work == "hvp_tanh" else args.calls
                t = time.thread_time_ns()
                for _ in range(n):
                    calls[work]()
                us = (time.thread_time_ns() - t) / n / 1e3
                best[name] = min(best.get(name, us), us)
        print(f"{work:22s} old {best['old']:9.1f} us   new {best['new']:9.1f} us   "
              f"({(best['new'] / best['old'] - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
