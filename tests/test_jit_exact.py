"""jit gives NumPy's result bit for bit where its simplifications are exact: signed zeros,
infinities and nans included.

Random straight-line programs (elementwise arithmetic with the constants 0.0, -0.0, 1.0,
-1.0, 2.0, 0.5 and infinities, unary functions, where with constant conditions,
reductions, broadcasting, float64/float32/float16) run on inputs that hold +-0.0,
+-inf, nan, subnormals and huge values, on the first call (traced) and on four more
(compiled), and are compared with the same program on NumPy. Then the cases that were
wrong: each failed on the code before its fix.
"""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

CONSTS = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, np.inf, -np.inf]
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-310, 1.0, -1.0, 0.5, 2.0,
           -0.3, 1e10, -7.0]
UNARY = ["negative", "abs", "sqrt", "exp", "log", "reciprocal", "square", "sign",
         "positive"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "copysign"]
DTYPES = [np.float64, np.float32, np.float16]
SHAPES = [[(3,), (3,)], [(2, 3), (1, 3)], [(2, 3), ()], [(1, 3), (3,)]]


def _program(rng, n):
    prog = []
    for _ in range(int(rng.integers(2, 9))):
        r, a = rng.random(), int(rng.integers(n))
        c = ("c", CONSTS[int(rng.integers(len(CONSTS)))])
        other = c if rng.random() < 0.4 else ("v", int(rng.integers(n)))
        if r < 0.3:
            prog.append(("unary", UNARY[int(rng.integers(len(UNARY)))], ("v", a)))
        elif r < 0.8:
            x, y = (("v", a), other) if rng.random() < 0.5 else (other, ("v", a))
            prog.append(("binary", BINARY[int(rng.integers(len(BINARY)))], x, y,
                         rng.random() < 0.5))
        elif r < 0.87:
            prog.append(("where", bool(rng.integers(2)), ("v", a), other))
        elif r < 0.93:
            prog.append(("reduce", ["sum", "prod", "max"][int(rng.integers(3))], ("v", a),
                         [0, -1, "keep"][int(rng.integers(3))]))
        else:
            prog.append(("chain", ("v", a), c, ("c", CONSTS[int(rng.integers(6))])))
        n += 1
    return prog


def _run(prog, m, args):
    vals = list(args)
    get = lambda o: o[1] if o[0] == "c" else vals[o[1]]     # noqa: E731
    for op, name, *rest in prog:
        if op == "unary":
            v = getattr(m, name)(get(rest[0]))
        elif op == "binary":
            x, y, infix = get(rest[0]), get(rest[1]), rest[2]
            ops = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}
            v = eval(f"x {ops[name]} y") if infix and name in ops else \
                getattr(m, name)(x, y)
        elif op == "where":
            v = m.where(name, get(rest[0]), get(rest[1]))
        elif op == "reduce":
            x, axis = get(rest[0]), rest[1]
            if np.ndim(x) == 0:
                v = m.max(x)
            elif axis == "keep":
                v = getattr(m, name)(x, axis=-1, keepdims=True)
            else:
                v = getattr(m, name)(x, axis=axis)
        else:
            v = get(rest[0]) * (get(rest[1]) * get(rest[0]))
        vals.append(v)
    return vals[-3:]


def _inputs(rng, dtype, shapes):
    out = []
    for shp in shapes:
        size = int(np.prod(shp))
        v = np.where(rng.random(size) < 0.6,
                     np.array(SPECIAL)[rng.integers(len(SPECIAL), size=size)],
                     rng.normal(size=size))
        with np.errstate(all="ignore"):
            out.append(v.astype(dtype).reshape(shp))
    return out


def _differs(a, b):
    """Why ``a`` is not ``b`` bit for bit (nans: wherever, of any sign), or None."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"{a.dtype}{a.shape} against {b.dtype}{b.shape}"
    if a.dtype.kind != "f":
        return None if np.array_equal(a, b) else "values"
    na = np.isnan(a)
    if not np.array_equal(na, np.isnan(b)):
        return "nans"
    u = f"u{a.itemsize}"
    return "bits" if ((a.view(u) != b.view(u)) & ~na).any() else None


def _check(f_np, f_cr, make_args, calls=5):
    jf = cr.jit(f_cr)
    for call in range(calls):
        args = make_args()
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                want = f_np(*[a.copy() for a in args])
            except (ValueError, ZeroDivisionError):     # (shapes that do not broadcast)
                return
            got = jf(*[a.copy() for a in args])
        want = want if isinstance(want, (list, tuple)) else [want]
        got = got if isinstance(got, (list, tuple)) else [got]
        for i, (g, w) in enumerate(zip(got, want)):
            why = _differs(g, w)
            assert why is None, (call, i, why, args, g, w, jf.lower(*args)[1])


@pytest.mark.parametrize("seed", range(0, 240, 3))
def test_random_programs_are_numpy_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    dtype = DTYPES[seed % len(DTYPES)]
    shapes = SHAPES[int(rng.integers(len(SHAPES)))]
    prog = _program(rng, 2)
    _check(lambda *a: _run(prog, np, a), lambda *a: _run(prog, cnp, a),
           lambda: _inputs(rng, dtype, shapes))


# ------------------------------------------------------------ the cases fixed

def _same(f, *args, calls=3):
    """jit(f) against f on plain NumPy, bit for bit, the traced call and compiled ones."""
    _check(f, f, lambda: [np.array(a) for a in args], calls)


def test_plus_zero_is_not_dropped():
    # x + 0.0 is +0.0 where x is -0.0 (the constant 0.0 is not an absent one)
    _same(lambda x: 1 / (x + 0.0), -0.0)
    _same(lambda x: 1 / (2.0 * (x + 0.0) + x), -0.0)
    _same(lambda x: 1 / ((x + 1.0) - 1.0), np.array([-0.0, 0.0]))


def test_zero_minus_x_is_not_negative_x():
    _same(lambda x: 1 / (0.0 - x), np.array([0.0, -0.0, 1.0]))


def test_a_sum_negated_is_not_its_terms_negated():
    # -(x - 2) is -0.0 at x = 2, 2 - x +0.0
    _same(lambda x: 1 / -(x - 2.0), np.array([2.0, 1.0]))
    _same(lambda x, y: 1 / -(x + y), np.array([1.0, -0.0]), np.array([-1.0, 0.0]))
    _same(lambda x, y: 1 / (-2.0 * (x + y)), np.array([1.0, 0.0]), np.array([-1.0, 0.0]))
    _same(lambda x, y: 1 / (3.0 - (x + y)), np.array([1.0, 0.0]), np.array([2.0, 3.0]))


def test_terms_of_both_signs_at_zero_run_as_written():
    # x - x/2 is +0.0 at x = -0.0; x/2 (one factor) -0.0
    _same(lambda x: 1 / (x - 0.5 * x), np.array([-0.0, 1.0, 4.0]))
    _same(lambda x, a: 1 / (x - a * x), np.array([-3.0, 1.0]), np.array(1.0))


def test_zero_constants_of_both_signs_are_not_shared():
    _same(lambda x: (1 / (0.0 * x), 1 / (-0.0 * x)), np.array([2.0, -1.0]))


def test_negative_factors_do_not_pass_through_sums():
    # NumPy's sums start from +0.0: sum(-2 x) is +0.0 where x is -0.0, -2 sum(x) -0.0
    _same(lambda x: 1 / cnp.sum(-2.0 * x, axis=0), np.array([[-0.0, 0.0], [-0.0, 1.0]]))
    _same(lambda x, a: 1 / cnp.sum(a * x, axis=0), np.array([[-0.0], [-0.0]]),
          np.array(-2.0))
    _same(lambda x, A: 1 / (A @ (-1.0 * x)), np.array([0.0, -0.0]), np.eye(2))


def test_negation_keeps_the_sign_of_a_nan():
    # -x flips a nan's sign bit, (-1.0) * x does not: copysign reads it
    _same(lambda x, y: cnp.copysign(y, -cnp.sign(x)), np.array([np.nan, 2.0]),
          np.array([1.0, 1.0]))


def test_a_zero_factor_is_not_carried():
    # -0.0 (x x) is nan where x x overflows: the factor -0.0 carried onto the product
    # of x with itself, written last, gave -0.0 (x x) only after the pass
    _same(lambda x: -0.0 * (x * x) + 0.0 * (x * x), np.array([1e160, 1.0, -0.0]))
    _same(lambda x: (-0.0 * x) * x, np.array([1e160, 1.0, -0.0, np.inf]))


@pytest.mark.parametrize("which", ["grad", "jvp"])
def test_derivatives_are_their_eager_selves_bit_for_bit(which):
    def f(x):
        return cnp.sum(1 / (0.0 - x) + cnp.sqrt(x + 0.0) - (x - 0.5 * x))
    if which == "grad":
        g = cr.grad(f)
    else:
        g = lambda x: cr.jvp(f, (x,), (np.full_like(x, -2.0),))   # noqa: E731
    _check(g, g, lambda: [np.array([-0.0, 0.0, 1.0, np.inf, 4.0])], calls=3)


def test_sum_and_prod_over_no_axes_add_and_multiply_numpys_identity():
    import chainrule as cr
    import chainrule.numpy as cnp
    for x in (np.array(-0.0), np.array([-0.0], dtype=np.float32)):
        for f in (cnp.sum, lambda v: cnp.sum(v, axis=())):
            want = np.sum(x, axis=None if f is cnp.sum else ())
            for got in (cr.jit(f)(x), cr.vmap(f)(x[None])[0]):
                assert not np.signbit(got).any() and np.asarray(got).dtype == want.dtype
    z = np.array(np.inf + 1j)
    with np.errstate(all="ignore"):
        got = cr.jit(cnp.prod)(z)
    assert np.isinf(got.real) and np.isnan(got.imag)       # NumPy: inf+nanj
