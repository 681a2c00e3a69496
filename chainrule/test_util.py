"""Testing helpers: ``check_grads`` compares forward and reverse derivatives with
finite differences, to any order (JAX's ``jax.test_util.check_grads`` signature)."""
import numpy as np

from ._src.api import jvp, vjp
from ._src.core import dtype_of
from ._src.tree_util import tree_flatten, tree_unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "inner_product"]

_DEFAULT_EPS = {np.dtype(np.float64): 1e-4, np.dtype(np.complex128): 1e-4,
                np.dtype(np.float32): 1e-2, np.dtype(np.complex64): 1e-2}
_DEFAULT_TOL = {np.dtype(np.float64): 1e-5, np.dtype(np.complex128): 1e-5,
                np.dtype(np.float32): 2e-2, np.dtype(np.complex64): 2e-2}


def _rand_like(rng, x):
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype) if x.dtype.kind in "fc" else r


def inner_product(xs, ys):
    """The pairing under which vjp is the transpose of jvp: sum of Re(x * y)."""
    xs, ys = tree_flatten(xs)[0], tree_flatten(ys)[0]
    return sum(float(np.real(np.sum(np.asarray(x) * np.asarray(y)))) for x, y in zip(xs, ys))


def _close(a, b, atol, rtol, what):
    fa, fb = tree_flatten(a)[0], tree_flatten(b)[0]
    if len(fa) != len(fb):
        raise AssertionError(f"{what}: structures differ ({len(fa)} vs {len(fb)} leaves)")
    for x, y in zip(fa, fb):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            raise AssertionError(f"{what}: shapes differ, {x.shape} vs {y.shape}")
        if not np.allclose(x, y, atol=atol, rtol=rtol, equal_nan=True):
            err = np.max(np.abs(x - y))
            raise AssertionError(f"{what}: max abs difference {err:.3g} "
                                 f"(atol={atol}, rtol={rtol})\n{x}\nvs\n{y}")


def _tols(args, atol, rtol, eps):
    dts = [dtype_of(x) for x in tree_flatten(args)[0]] or [np.dtype(np.float64)]
    worst = max(dts, key=lambda d: _DEFAULT_TOL.get(d, 1e-5))
    return (atol if atol is not None else _DEFAULT_TOL.get(worst, 1e-5),
            rtol if rtol is not None else _DEFAULT_TOL.get(worst, 1e-5),
            eps if eps is not None else _DEFAULT_EPS.get(worst, 1e-4))


def _add(args, ts, scale):
    fa, tree = tree_flatten(args)
    ft = tree_flatten(ts)[0]
    return tree_unflatten(tree, [np.asarray(a) + scale * t for a, t in zip(fa, ft)])


def _numerical_jvp(f, args, ts, eps):
    plus = f(*_add(args, ts, eps / 2))
    minus = f(*_add(args, ts, -eps / 2))
    fp, tree = tree_flatten(plus)
    fm = tree_flatten(minus)[0]
    return tree_unflatten(tree, [(np.asarray(p) - np.asarray(m)) / eps for p, m in zip(fp, fm)])


def _tangents(rng, args):
    fa, tree = tree_flatten(args)
    return tree_unflatten(tree, [_rand_like(rng, a) for a in fa])


def check_jvp(f, args, atol=None, rtol=None, eps=None, rng=None):
    """jvp(f) against the primal output and a central finite difference."""
    rng = rng or np.random.default_rng(0)
    atol, rtol, eps = _tols(args, atol, rtol, eps)
    ts = _tangents(rng, args)
    out, t_out = jvp(f, tuple(args), tuple(ts))
    _close(out, f(*args), atol, rtol, "jvp primal output")
    _close(t_out, _numerical_jvp(f, args, ts, eps), atol, rtol, "jvp vs finite differences")


def check_vjp(f, args, atol=None, rtol=None, eps=None, rng=None):
    """<vjp(ct), t> against <ct, finite-difference jvp(t)>."""
    rng = rng or np.random.default_rng(1)
    atol, rtol, eps = _tols(args, atol, rtol, eps)
    out, vjp_fun = vjp(f, *args)
    _close(out, f(*args), atol, rtol, "vjp primal output")
    ct = _tangents(rng, out)
    ts = _tangents(rng, args)
    ct_in = vjp_fun(ct)
    ip = inner_product(ct_in, ts)
    ip_fd = inner_product(ct, _numerical_jvp(f, args, ts, eps))
    _close(ip, ip_fd, atol, rtol, "vjp vs finite differences (<vjp(ct), t> vs <ct, J t>)")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
    """Check forward- and reverse-mode derivatives of ``f`` at ``args`` up to ``order``.

    Parameters
    ----------
    f : callable
        Function of the positional ``args`` (pytrees of float/complex arrays).
    args : tuple
        Point at which to check.
    order : int
        Highest derivative order to check (1: first derivatives, 2: also the
        derivatives of the jvp/vjp, ...).
    modes : sequence of {"fwd", "rev"}
        Which modes to check.
    atol, rtol, eps : float, optional
        Tolerances and finite-difference step (defaults depend on the dtype).

    Raises
    ------
    AssertionError
        With the max difference, when a derivative disagrees.
    """
    args = tuple(args)
    rng = np.random.default_rng(0)
    if "fwd" in modes:
        check_jvp(f, args, atol, rtol, eps, rng)
        if order > 1:
            ts = _tangents(rng, args)
            check_grads(lambda *a: jvp(f, a, ts)[1], args, order - 1, ("fwd",), atol,
                        rtol, eps)
    if "rev" in modes:
        check_vjp(f, args, atol, rtol, eps, rng)
        if order > 1:
            ct = _tangents(rng, f(*args))
            check_grads(lambda *a: vjp(f, *a)[1](ct), args, order - 1, ("rev",), atol,
                        rtol, eps)
