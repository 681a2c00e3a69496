"""Python control flow on traced values in realistic programs (helper-54's hunt):
Newton/bisection/secant root finders inside a loss, fixed-point iterations with
``while err > tol``, an adaptive RKF45 integrator with step rejection, line searches,
early exits, piecewise definitions, recursion on values, builtins (max/min/sorted/abs/
round/int) on traced scalars, data-dependent trip counts and indexing, try/except around
numerical failures, lists, dicts and generators of traced values. Each program runs
eagerly (values against NumPy's, gradients against finite differences of the NumPy
program), under jit with inputs that change the branches and trip counts between calls
and inputs that keep them (results against the uncompiled program, re-traces counted),
under jit(grad), vmap (a clear ConcretizationError or the loop's values) and from four
threads. The hunt (/tmp/h_ctrl: 50 programs) found: a float guard that took -0.0 for 0.0
(math.atan2/copysign on float(x) gave the traced branch's value), a compiled program
raising LinAlgError/FloatingPointError that the function's own try/except (or its own
np.errstate) would have handled, vmap sending every example through an except branch
when one example's Cholesky failed, and int()/.item() of traced values refused under
grad though they drop no derivative."""
import math
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def fd_grad(fn, x, rel=1e-6):
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        h = rel * max(1.0, abs(x[i]))
        xp_, xm = x.copy(), x.copy()
        xp_[i] += h
        xm[i] -= h
        g[i] = (fn(xp_) - fn(xm)) / (2 * h)
    return g


# ------------------------------------------------------------------ programs

def newton_sqrt(xp, x):
    y = x if x > 1 else 1.0 + 0 * x
    while abs(y * y - x) > 1e-15 * x:
        y = 0.5 * (y + x / y)
    return y ** 3


def bisect_polish(xp, x):
    a, b = x[0], x[1]
    g = lambda t: t ** 3 + a * t - b          # noqa: E731
    lo, hi = 0.0, 10.0
    while hi - lo > 1e-12:
        mid = 0.5 * (lo + hi)
        if g(mid) > 0:
            hi = mid
        else:
            lo = mid
    r = 0.5 * (lo + hi)
    for _ in range(2):
        r = r - g(r) / (3 * r ** 2 + a)
    return r * a


def rkf45(xp, p):
    k, w = p[0], p[1]
    f = lambda t, y: -k * y + xp.sin(w * t)   # noqa: E731
    t, y, h, T = 0.0, 1.0 + 0 * k, 0.1, 2.0
    while t < T:
        h = min(h, T - t)
        k1 = h * f(t, y)
        k2 = h * f(t + h / 4, y + k1 / 4)
        k3 = h * f(t + 3 * h / 8, y + 3 * k1 / 32 + 9 * k2 / 32)
        k4 = h * f(t + 12 * h / 13, y + 1932 * k1 / 2197 - 7200 * k2 / 2197 + 7296 * k3 / 2197)
        k5 = h * f(t + h, y + 439 * k1 / 216 - 8 * k2 + 3680 * k3 / 513 - 845 * k4 / 4104)
        k6 = h * f(t + h / 2, y - 8 * k1 / 27 + 2 * k2 - 3544 * k3 / 2565 + 1859 * k4 / 4104
                   - 11 * k5 / 40)
        y4 = y + 25 * k1 / 216 + 1408 * k3 / 2565 + 2197 * k4 / 4104 - k5 / 5
        y5 = y + 16 * k1 / 135 + 6656 * k3 / 12825 + 28561 * k4 / 56430 - 9 * k5 / 50 + 2 * k6 / 55
        err = abs(y5 - y4)
        if err <= 1e-9 or h < 1e-6:
            t += h
            y = y4
        s = 0.84 * (1e-9 / max(err, 1e-30)) ** 0.25 if err > 0 else 4.0
        h = h * min(max(s, 0.1), 4.0)
    return y


def piecewise(xp, x):
    if x < -1:
        return xp.exp(x + 1) - 2
    elif x < 0.5:
        return x ** 3 - x - 1
    elif x <= 2:
        return xp.log(x) + xp.sin(3 * x)
    return xp.sqrt(x)


def huber_loop(xp, r):
    total = 0.0
    for ri in r:
        if ri > 1.0:
            total = total + (ri - 0.5)
        elif ri < -1.0:
            total = total + (-ri - 0.5)
        else:
            total = total + 0.5 * ri * ri
    return total


def _pw(x, n):
    if n == 0:
        return 1.0 + 0 * x
    if n % 2 == 0:
        h = _pw(x, n // 2)
        return h * h
    return x * _pw(x, n - 1)


def pow_squaring(xp, x):
    n = xp.floor(abs(x[1]) * 3).astype(int)              # an integer from data
    return _pw(x[0], int(n)) + x[1] ** 2                 # int() of a traced integer


def argmax_index(xp, x):
    i = xp.argmax(x)
    k = round(x[3] * 0.9)
    return x[i] ** 2 + x[int(i)] * x[k] + x[(int(i) + 1) % 4]


def where_loop(xp, x):
    idx = xp.where(x > 0)[0]
    s = 0.0 * x[0]
    for i in idx:
        s = s + xp.exp(x[i]) * (i + 1)
    return s + len(idx) + xp.sum(x[x < 0] ** 2)


def builtins_minmax(xp, x):
    items = list(x)
    s = sorted(items)
    return max(items) - min(items) + 0.5 * (s[1] + s[2]) * abs(x[1]) + \
        max(x[0], 0.0) * min(x[2], 1.0)


def tax(xp, income):
    tax, lo = 0.0 * income, 0.0
    for hi, rate in [(10.0, 0.1), (40.0, 0.2), (90.0, 0.3), (float("inf"), 0.45)]:
        if income > hi:
            tax = tax + (hi - lo) * rate
            lo = hi
        else:
            tax = tax + (income - lo) * rate
            break
    return tax


def chol_jitter(xp, x):
    K = xp.eye(2) * x[0] + xp.array([[0.0, 1.0], [1.0, 0.0]]) * x[1]
    try:
        L = xp.linalg.cholesky(K)
        pen = 0.0
    except np.linalg.LinAlgError:
        L = xp.linalg.cholesky(K + 2.0 * xp.eye(2))
        pen = 1.0
    return xp.sum(xp.log(xp.diag(L))) + pen


def safe_log(xp, x):
    with np.errstate(divide="raise", invalid="raise"):
        try:
            y = xp.log(x) * x
        except FloatingPointError:
            y = x * 0 + 5.0
    return xp.sum(y)


PROGRAMS = [
    (newton_sqrt, [2.0, 2.5, 1e4, 0.3]),
    (bisect_polish, [[1.0, 2.0], [3.0, 0.5], [1.01, 2.0]]),
    (rkf45, [[1.0, 2.0], [5.0, 0.5], [1.0, 2.1]]),
    (piecewise, [-1.5, 0.3, 0.7, 2.5, 0.31]),
    (huber_loop, [[0.5, -2.0, 3.0], [0.1, 0.2, -0.3], [0.5, -2.0, 3.5]]),
    (pow_squaring, [[1.1, 2.3], [0.9, 5.7], [1.2, 2.9]]),
    (argmax_index, [[0.3, 2.0, 1.0, 0.2], [5.0, 1.0, 0.1, 0.2], [0.3, 2.0, 2.5, 0.2]]),
    (where_loop, [[0.5, -1.0, 2.0, -0.3], [-0.5, -1.0, -2.0, -0.3], [0.6, -1.0, 2.0, -0.3]]),
    (builtins_minmax, [[3.0, -1.0, 2.0, 0.5], [-1.0, 3.0, 0.5, 2.0], [3.0, -1.0, 2.1, 0.5]]),
    (tax, [5.0, 25.0, 60.0, 26.0]),
    (chol_jitter, [[1.0, 0.5], [1.0, 1.5], [2.0, 0.3], [1.0, 1.001]]),
]
IDS = [p[0].__name__ for p in PROGRAMS]


@pytest.mark.parametrize("f, xs", PROGRAMS, ids=IDS)
def test_program_eager_jit_vmap(f, xs):
    xs = [np.asarray(x, float) for x in xs]
    fc = lambda x: f(cnp, x)                # noqa: E731
    want = [f(np, x) for x in xs]
    grads = []
    for x, w in zip(xs, want):
        assert np.array_equal(fc(x), w)
        g = cr.grad(fc)(x)
        np.testing.assert_allclose(g, fd_grad(lambda z: f(np, z), x), rtol=1e-5, atol=1e-5)
        grads.append(g)
    # branches and trip counts change between calls, and repeat
    order = list(range(len(xs))) * 2 + list(range(len(xs)))[::-1]
    jf, jg = cr.jit(fc), cr.jit(cr.grad(fc))
    for i in order:
        np.testing.assert_allclose(jf(xs[i]), want[i], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(jg(xs[i]), grads[i], rtol=1e-9, atol=1e-12)
    info = jf.cache_info()
    assert info.hits >= len(xs) and info.failures == 0
    assert info.retraces + info.fallbacks >= 1
    # vmap: a clear error for Python control flow on batched values, else the loop's
    if all(x.shape == xs[0].shape for x in xs):
        try:
            out = cr.vmap(fc)(np.stack(xs))
        except cr.ConcretizationError:
            pass
        else:
            np.testing.assert_allclose(out, np.stack(want), rtol=1e-10, atol=1e-13)
    assert len(str(cr.make_graph(fc)(xs[0]))) > 0


# ------------------------------------------------------------------ the bugs found

def test_float_guard_tells_negative_zero():
    # float(x) of -0.0 passed the guard of 0.0: atan2 gave 0 where NumPy's program pi
    def f(x):
        s = float(x)
        return x * math.copysign(1.0, s) + math.atan2(0.0, s)
    jf = cr.jit(f)
    for v in [0.0, -0.0, 0.0, -0.0, 1.0]:
        got, want = jf(np.float64(v)), f(np.float64(v))
        assert got == want and np.signbit(got) == np.signbit(want), v
    assert jf.cache_info().hits == 2


def test_item_tolist_complex_guards_tell_negative_zero():
    def it(x):
        return x + math.copysign(1.0, x.item())

    def tl(x):
        v = x.tolist()
        return x * math.copysign(1.0, v[0]) + math.atan2(0.0, v[1])

    def cx(z):
        return z * math.atan2(complex(z).imag, -1.0)
    for f, vals in [(it, [np.float64(0.0), np.float64(-0.0)]),
                    (tl, [np.zeros(2), np.array([-0.0, 0.0]), np.array([0.0, -0.0])]),
                    (cx, [np.complex128(1 + 0j), np.complex128(complex(1, -0.0))])]:
        jf = cr.jit(f)
        for v in vals + vals:
            np.testing.assert_array_equal(jf(v), f(v))


def test_nan_guard_does_not_retrace_every_call():
    jf = cr.jit(lambda x: x * 2 if float(x) > 0 else x * 3)
    for _ in range(3):
        assert np.isnan(jf(np.float64(np.nan)))
    assert jf.cache_info().hits == 2


def test_compiled_error_is_left_to_the_functions_try_except():
    # traced with a positive definite matrix; then Cholesky fails: the program's own
    # except branch decides (the compiled program raised LinAlgError)
    fc = lambda x: chol_jitter(cnp, x)      # noqa: E731
    jf, jg = cr.jit(fc), cr.jit(cr.grad(fc))
    for v in [[1.0, 0.5], [1.0, 1.5], [1.0, 0.5], [1.0, 1.5]]:
        x = np.array(v)
        np.testing.assert_allclose(jf(x), chol_jitter(np, x), rtol=1e-12)
        np.testing.assert_allclose(jg(x), cr.grad(fc)(x), rtol=1e-12)
    assert jf.cache_info().fallbacks == 2

    def solve_or_zero(A, b):
        try:
            return cnp.linalg.solve(A, b)
        except np.linalg.LinAlgError:
            return b * 0
    js = cr.jit(solve_or_zero)
    np.testing.assert_array_equal(js(np.eye(2), np.ones(2)), np.ones(2))
    np.testing.assert_array_equal(js(np.zeros((2, 2)), np.ones(2)), np.zeros(2))


@pytest.mark.filterwarnings("ignore:divide by zero")   # (compiled: no errstate "ignore")
def test_errstate_inside_the_function_under_jit():
    # np.errstate(divide="raise") inside f: the compiled log(0) gave -inf (the caller's
    # errstate), where the program's except branch gives 5
    fc = lambda x: safe_log(cnp, x)         # noqa: E731
    jf, jg = cr.jit(fc), cr.jit(cr.grad(fc))
    for v in [[1.0, 2.0], [0.0, 2.0], [3.0, 1.0], [-1.0, 2.0], [0.0, 1.0]]:
        x = np.array(v)
        assert jf(x) == safe_log(np, x)
        np.testing.assert_allclose(jg(x), cr.grad(fc)(x), rtol=1e-12)
    # the forward log is dead code in the compiled gradient, yet its floating-point
    # event decides the branch: jit(grad) gave inf where grad gives 0
    def per_element(x):
        out = 0.0 * x[0]
        for v in x:
            with np.errstate(divide="raise"):
                try:
                    out = out + cnp.log(v)
                except FloatingPointError:
                    out = out - 10.0
        return out
    jg = cr.jit(cr.grad(per_element))
    for v in [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0], [0.5, 2.0, 0.0], [1.0, 2.0, 3.0]]:
        x = np.array(v)
        np.testing.assert_array_equal(jg(x), cr.grad(per_element)(x))
    # an errstate that only ignores changes no value: no fallback
    ji = cr.jit(lambda x: _log_ignore(x))
    for v in [[1.0, 2.0], [0.0, 2.0]]:
        np.testing.assert_array_equal(ji(np.array(v)), _log_ignore(np.array(v)))
    assert ji.cache_info().fallbacks == 0


def _log_ignore(x):
    with np.errstate(divide="ignore"):
        return cnp.log(x)


def test_vmap_exception_of_some_examples_raises_clearly():
    fc = lambda x: chol_jitter(cnp, x)      # noqa: E731
    # the batched Cholesky failed for one example and every example took the except
    # branch: [2.08, 1.95] where a loop gives [-0.14, 1.95]
    with pytest.raises(cr.ConcretizationError, match=r"cholesky.*LinAlgError.*\[0\]"):
        cr.vmap(fc)(np.array([[1.0, 1.5], [2.0, 0.3]]))
    for X in [np.array([[1.0, 1.5], [1.0, 2.0]]), np.array([[2.0, 0.3], [3.0, 1.0]])]:
        np.testing.assert_allclose(cr.vmap(fc)(X), [chol_jitter(np, x) for x in X],
                                   rtol=1e-12)
    with np.errstate(divide="raise"):
        with pytest.raises(cr.ConcretizationError, match="FloatingPointError"):
            cr.vmap(cnp.log)(np.array([0.0, 1.0]))
        with pytest.raises(FloatingPointError):
            cr.vmap(cnp.log)(np.array([0.0, 0.0]))


def test_int_and_item_of_traced_integers_under_grad():
    # an integer has no derivative to drop: int(i), i.item(), float(n) of an argmax or a
    # count read the value as x[i] does (they raised TracerConversionError under grad,
    # jacfwd, hessian: "would drop its derivative")
    f = lambda x: x[int(cnp.argmax(x))] ** 2 * float(cnp.sum(x > 0.5)) + \
        x[cnp.argmax(x).item()] + x[cnp.argsort(x).tolist()[0]]   # noqa: E731
    x = np.array([0.7, 2.0, 0.1])
    want = np.array([0.0, 9.0, 1.0])
    np.testing.assert_array_equal(cr.grad(f)(x), want)
    np.testing.assert_array_equal(cr.jit(cr.grad(f))(x), want)
    np.testing.assert_array_equal(cr.jacfwd(f)(x), want)
    for convert in (float, int, lambda t: t.item()):   # floating values: still refused
        with pytest.raises(cr.TracerConversionError, match="Python number"):
            cr.grad(lambda x: convert(x) * x)(1.0)
    with pytest.raises(cr.ConcretizationError):
        cr.vmap(lambda x: int(cnp.argmax(x)) * x)(np.ones((3, 2)))


def test_guards_from_four_threads():
    fc = lambda x: piecewise(cnp, x)        # noqa: E731
    jf, jg = cr.jit(fc), cr.jit(cr.grad(fc))
    xs = [np.float64(v) for v in (-1.5, 0.3, 0.7, 2.5)]
    want = [piecewise(np, x) for x in xs]
    wantg = [cr.grad(fc)(x) for x in xs]
    errors = []

    def work(t):
        for r in range(20):
            i = (t + r) % 4
            if not (np.isclose(jf(xs[i]), want[i], rtol=1e-12) and
                    np.isclose(jg(xs[i]), wantg[i], rtol=1e-12)):
                errors.append((t, i))
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors


def test_guarded_values_are_computed_as_the_program_does():
    # a guard checked on a reassociated value: 3x - 2x - x is (3 - 2 - 1) x = 0 in the
    # compiled code, so `d == 0` held at x = 0.1 where NumPy's d is 2.8e-17 (jit gave
    # 0.1, the program 3.6e16)
    def f(x):
        d = x * 3 - x * 2 - x
        if d == 0:
            return x
        return 1 / d
    jf = cr.jit(f)
    for v in [1.0, 0.1, 0.3, 1.0, 0.1, 2.0]:
        assert jf(np.float64(v)) == f(np.float64(v)), v

    def g(x):                               # the same through a loop's condition
        s, k = x * 0, 0
        while s - 0.5 * s - 0.5 * s == 0 and k < 50:
            s, k = s + x * 0.1, k + 1
        return s * k
    jg = cr.jit(g)
    for v in [0.0, 0.3, 1.0, 0.3, 0.7]:
        assert jg(np.float64(v)) == g(np.float64(v)), v


def test_repeated_call_of_a_line_search_hits_its_variant():
    # guards on a line search's Armijo test near convergence failed on the very input
    # they were traced with (the compiled comparison rounded otherwise): every call
    # traced again
    def gd(p):
        a, b = p[0], p[1]
        fun = lambda z: a * (z[0] - 1) ** 2 + b * (z[1] + 2) ** 2 + 0.1 * z[0] ** 2 * z[1] ** 2   # noqa: E731,E501
        z = cnp.zeros(2) + 0 * a
        for _ in range(60):
            g = cnp.stack([2 * a * (z[0] - 1) + 0.2 * z[0] * z[1] ** 2,
                           2 * b * (z[1] + 2) + 0.2 * z[0] ** 2 * z[1]])
            if cnp.linalg.norm(g) < 1e-10:
                break
            s = 1.0
            while fun(z - s * g) > fun(z) - 1e-4 * s * (g @ g):
                s *= 0.5
            z = z - s * g
        return fun(z)
    jf = cr.jit(gd)
    for x in [np.array([1.0, 3.0]), np.array([2.0, 0.5])]:
        want = gd(x)
        for _ in range(3):
            assert jf(x) == want
    assert jf.cache_info().hits == 4


def test_guarded_work_shared_with_the_rest():
    # the value a guard reads (term) is also what the output adds: computed once, as
    # written, before the rest (a first version of the exact guarded work reused the
    # simplified program's product and compiled code read it before it was made)
    def geometric_tail(r):
        s, term, n = 0.0 * r[0], 1.0 + 0 * r[0], 0
        while term > 1e-12:
            s = s + term
            term = term * r[0]
            n += 1
        return s + n * 0.0
    jf = cr.jit(geometric_tail)
    for v in [0.9, 0.5, 0.9, 0.99, 0.5]:
        x = np.array([v])
        assert jf(x) == geometric_tail(x)
    info = jf.cache_info()
    assert info.failures == 0 and info.fallbacks == 0 and info.hits == 2
