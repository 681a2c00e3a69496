"""The code generator (graph/codegen.py): it asks primitives, knows none by name, and
its rewrites (identities, carried factors and sums, common factors, diagonal products,
broadcasts) keep the eager values; random arithmetic programs check them together."""
import ast
import pathlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.graph.codegen import compile_graph

CODEGEN = pathlib.Path(cr.__file__).parent / "_src" / "graph" / "codegen.py"


def source(f, *args):
    return cr.jit(f).lower(*args)[1]


def body(src):
    """The statements of generated code, without ``del`` and the header."""
    return [l.strip() for l in src.splitlines()[1:] if not l.strip().startswith("del ")]


# ------------------------------------------------------------- it knows no primitive

def test_codegen_imports_no_primitive_and_switches_on_no_name():
    tree = ast.parse(CODEGEN.read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if "prims" in m], imported
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "name"]
    assert not names, "codegen reads a primitive's name"


def test_spellings_come_from_the_primitives():
    x, W = np.ones((3, 4)), np.ones((4, 2))
    src = source(lambda x, W: cnp.sum(cnp.where(x > 0, x, 0.0) @ W, axis=0) +
                 cnp.max(x.T, axis=1)[:2], x, W)
    for piece in ("np.where(", " @ ", ".sum(axis=(0,))", ".T", ".max(axis=(1,))", "[:2,]",
                  " > "):
        assert piece in src, (piece, src)
    assert "reduce" not in src          # backend-neutral spellings: no ufunc methods


# -------------------------------------------------------------------- rewrites

def test_identities_and_carried_factors():
    x = np.arange(6.0).reshape(2, 3)
    # (x - 0.0 is x, signed zeros included; x + 0.0 is not: tests/test_jit_exact.py)
    src = source(lambda x: (x * 1.0 - 0.0) * 2.0 * 3.0 + x, x)
    assert body(src) == ["v1 = 7.0 * v0", "return [v1]"], src
    # terms of one base with factors of both signs add into one factor under a guard:
    # 6 x - x as 5 x is inf where x is, but NumPy's inf - inf is nan (and -0.0 where x
    # is -0.0, NumPy's -0.0 - (-0.0) +0.0); where x holds an infinity or a zero the
    # program runs as written
    f = lambda x: (x * 1.0 - 0.0) * 2.0 * 3.0 - x      # noqa: E731
    assert body(source(f, x)) == [
        "if np.isinf(v0).any() or not v0.all(): raise HasInfinity",
        "v1 = 5.0 * v0", "return [v1]"]
    xs = np.array([np.inf, -np.inf, np.nan, 1.0])
    with np.errstate(all="ignore"):
        for g in (f, lambda x: x - 0.5 * x, lambda x: 0.5 * x - (-x) * (-2.0)):
            jg = cr.jit(g)
            for _ in range(2):
                np.testing.assert_array_equal(jg(xs), g(xs))
                np.testing.assert_array_equal(jg(xs[3:]), g(xs[3:]))
            assert jg.cache_info().fallbacks == 1     # (the first call traces)


def test_a_sum_read_once_is_carried_and_terms_of_one_factor_add_first():
    x, y, z = (np.full(5, v) for v in (1.0, 2.0, 3.0))
    f = lambda x, y, z: 3.0 * x + 3.0 * y - 3.0 * z       # noqa: E731
    src = source(f, x, y, z)
    assert src.count(" * ") + src.count("np.multiply") == 1, src
    np.testing.assert_allclose(cr.jit(f)(x, y, z), f(x, y, z))


def test_descent_steps_fold_to_one_pass_and_stay_exact_on_infinities():
    """``x - a x`` is ``(1 - a) x``: the gradient through the steps is one dot product;
    where the base holds an infinity (NumPy's ``inf - a inf`` is nan) the program runs
    as written."""
    def loss(alphas, x0):
        x = x0
        for k in range(5):
            x = x - alphas[k] * x
        return 0.5 * cnp.dot(x, x)
    a, x0 = np.linspace(0.05, 0.15, 5), np.random.default_rng(0).standard_normal(1000)
    g = cr.jit(cr.grad(loss))
    src = g.lower(a, x0)[1]
    assert src.count(" @ ") == 1 and "np.multiply(" not in src, src
    for _ in range(2):
        np.testing.assert_allclose(g(a, x0), cr.grad(loss)(a, x0), rtol=1e-12)
    x0[3] = np.inf
    with np.errstate(all="ignore"):
        want = cr.grad(loss)(a, x0)
        for _ in range(2):
            np.testing.assert_array_equal(g(a, x0), want)


def test_common_factors_come_out_of_sums():
    f = lambda X, V: cr.hvp(lambda X: cnp.sum(cnp.tanh(X) ** 2), (X,), (V,))  # noqa: E731
    rng = np.random.default_rng(1)
    X, V = rng.standard_normal((30, 40)), rng.standard_normal((30, 40))
    src = source(f, X, V)
    passes = [l for l in body(src) if "=" in l and not l.startswith("return")]
    assert len(passes) == 7, src            # tanh and six passes, as by hand
    np.testing.assert_allclose(cr.jit(f)(X, V), f(X, V), rtol=1e-12, atol=1e-14)


def test_a_product_with_a_staged_diagonal_matrix_is_a_scaling():
    rng = np.random.default_rng(2)
    W, x = rng.standard_normal((40, 40)), rng.standard_normal(40)
    J = cr.jit(cr.jacrev(lambda x: cnp.tanh(W @ x)))
    src = J.lower(x)[1]
    assert src.count(" @ ") == 1, src       # W x only: no n^3 product with the basis
    np.testing.assert_allclose(J(x), cr.jacrev(lambda x: cnp.tanh(W @ x))(x), rtol=1e-12)
    Jf = cr.jit(cr.jacfwd(lambda x: cnp.tanh(x) * 2.0))
    np.testing.assert_allclose(Jf(x), np.diag(2 * (1 - np.tanh(x) ** 2)), rtol=1e-12)


def test_extreme_constant_factors_are_written_out():
    # 1e300 is past 2**500: written out, so the program's overflow happens as eagerly
    x, y = np.full(3, 1e10), np.ones(3)
    f = lambda x, y: (x * 1e300) * 1e-300 * y              # noqa: E731
    with np.errstate(over="ignore"):
        assert np.isinf(f(x, y)).all() and np.isinf(cr.jit(f)(x, y)).all()


def test_exact_mode_keeps_every_operation():
    x = np.arange(4.0)
    graph = cr.jit(lambda x: (x * 1.0) * 2.0 + 0.0).lower(x)[0]
    fn = compile_graph(graph, reassociate=False, free=False)
    assert fn.source.count("*") == 2 and "+" in fn.source, fn.source
    assert fn(x)[0].tobytes() == ((x * 1.0) * 2.0 + 0.0).tobytes()


# --------------------------------------------------------- random arithmetic programs

SHAPES = {"a": (4, 5), "b": (4, 5), "c": (5,), "d": (4, 1), "s": ()}


def random_program(seed, n=10):
    """Source of ``prog(a, b, c, d, s)``: elementwise arithmetic with scalars, powers,
    tanh, sums, products and broadcasts, where the rewrites meet."""
    rng = np.random.default_rng(seed)
    names, lines = list(SHAPES), []
    for i in range(n):
        x, y = rng.choice(names, 2)
        k = rng.choice([0.5, -1.0, 2.0, 3.0, -0.25])
        expr = [f"{x} + {y}", f"{x} - {y}", f"{x} * {y}", f"{k} * {x}", f"-{x}",
                f"{x} / {k}", f"1.0 - {x} * {x}", f"cnp.tanh({x}) * {y}",
                f"{x} * ({y} - {k} * {y})", f"{x} * s + {y}",
                f"cnp.sum({x}) * {k} + {y}", f"({x} * {y} + {k} * {x}) * {y}"][
            rng.integers(12)]
        lines.append(f"    t{i} = {expr}")
        names.append(f"t{i}")
    outs = rng.choice(names[len(SHAPES):], 3)
    lines.append(f"    return ({', '.join(outs)},)")
    return "def prog(a, b, c, d, s):\n" + "\n".join(lines)


def arguments(seed):
    rng = np.random.default_rng(1000 + seed)
    return [rng.standard_normal(SHAPES[k]) if SHAPES[k] else float(rng.standard_normal())
            for k in SHAPES]


@pytest.mark.parametrize("chunk", range(4))
def test_random_arithmetic_programs_keep_their_values(chunk):
    for seed in range(chunk * 100, (chunk + 1) * 100):
        src = random_program(seed)
        ns = {"cnp": cnp}
        exec(src, ns)
        prog, args = ns["prog"], arguments(seed)
        want = prog(*args)
        jp = cr.jit(prog)
        for call in range(2):
            got = jp(*args)
            for g, w in zip(got, want):
                assert np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-10,
                                                                    atol=1e-10), \
                    (seed, call, src, jp.lower(*args)[1])
        loss = lambda *a: sum(cnp.sum(o * o) for o in prog(*a))    # noqa: E731
        want = cr.grad(loss, argnums=(0, 1, 2, 3))(*args)
        got = cr.jit(cr.grad(loss, argnums=(0, 1, 2, 3)))(*args)
        for g, w in zip(got, want):
            assert np.allclose(g, w, rtol=1e-9, atol=1e-9), (seed, src)


def test_float32_factors_are_judged_without_a_warning():
    """Whether a constant factor may be carried compares it with 2**±500: as a Python
    float, since NumPy casts 2.0**500 to a float32 operand's type (an overflow warning
    at every compile with a float32 constant, or an error under -W error, which the
    compile cache would have counted as a failed compile)."""
    import warnings
    from chainrule._src.graph import codegen
    from chainrule._src.interpreters.staging import Literal
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert codegen._carried(Literal(np.float32(1.5)))
        assert codegen._carried(Literal(np.float32(1e-30)))
        assert not codegen._carried(Literal(np.float64(1e-200)))


def test_constant_factors_of_low_precision_keep_a_float64_program_float64():
    """Carried factors are Python numbers: ``x / np.float32(2.5)`` was compiled as
    ``x * np.float32(0.4)``, a 1.5e-8 relative error in float64 (np.float16(3): 1e-4)."""
    x = np.array([1.3070822954, -2.0, 7.25])
    for f in (lambda x: x / np.float32(2.5), lambda x: x / np.float16(3),
              lambda x: (x * np.float32(0.1)) * 3.0, lambda x: -(x / np.float32(0.3))):
        jf = cr.jit(f)
        for _ in range(2):
            np.testing.assert_allclose(jf(x), f(x), rtol=4e-16, atol=0)
    x32 = x.astype(np.float32)          # and a float32 program stays float32
    jf = cr.jit(lambda x: x / np.float32(2.5) * 3.0)
    assert jf(x32).dtype == np.float32
    np.testing.assert_allclose(jf(x32), x32 / np.float32(2.5) * 3.0, rtol=2e-7)


def test_no_real_factor_is_carried_onto_complex_values():
    """A real factor written onto a complex value is a complex product: (4+0j) times
    (inf+nanj) is nan+nanj, where the program's own order gives inf+nanj."""
    def f(x, j):
        return x / cnp.mean(j, keepdims=True)
    x, j = np.array([2 + 0j]), np.array([1, -1, 2, -2])
    with np.errstate(all="ignore"):
        want = f(x, j)
        jf = cr.jit(f)
        for _ in range(2):          # (parts apart: NumPy's test calls both "nan")
            got = jf(x, j)
            np.testing.assert_array_equal(got.real, want.real)
            np.testing.assert_array_equal(got.imag, want.imag)


def test_ndarray_methods_named_like_tracer_slots_work_under_jit():
    """The staging tracer's slot was called ``var`` and hid ``x.var()``."""
    x = np.arange(6.0).reshape(2, 3)
    f = lambda x: x.var() + x.std(axis=0).sum() + x.var(axis=1, ddof=1).sum()  # noqa: E731
    assert cr.jit(f)(x) == pytest.approx(f(x), rel=1e-15)
    assert cr.make_graph(f)(x) is not None
    np.testing.assert_allclose(cr.jit(cr.grad(f))(x), cr.grad(f)(x), rtol=1e-14)


def test_factored_sums_guard_terms_of_both_signs():
    """``2 f (1 + c c) - 4 c f c`` factors to ``f (2 - 2 c c)``: NumPy's program is nan
    where ``c`` is infinite (``inf - inf``), so the atom is guarded and such a call runs
    as written; the hvp chain's merge (terms of one sign) needs no guard."""
    def g(f, c):
        return 2.0 * f * (1.0 + c * c) - 4.0 * c * f * c
    f, c = np.array([1.0, 2.0, 3.0, 1.0]), np.array([np.inf, 1.0, 2.0, -np.inf])
    jg = cr.jit(g)
    with np.errstate(all="ignore"):
        src = jg.lower(f, c)[1]
        assert "raise HasInfinity" in src and src.count("np.multiply") <= 3, src
        for _ in range(2):
            np.testing.assert_array_equal(jg(f, c), g(f, c))
            np.testing.assert_allclose(jg(f, c[1:3].repeat(2)), g(f, c[1:3].repeat(2)),
                                       rtol=1e-15)
    X = np.random.default_rng(1).standard_normal((30, 40))
    h = lambda X, V: cr.hvp(lambda X: cnp.sum(cnp.tanh(X) ** 2), (X,), (V,))  # noqa: E731
    assert "HasInfinity" not in cr.jit(h).lower(X, X)[1]


def test_extreme_and_cancelling_factors_keep_numpys_values():
    """Found by a hunt on non-finite values: a product of constant factors that
    overflows or underflows (1e150 * -1e200) was applied after the base's own factor was
    taken off (x = 0 gave nan; 1e-200 (1e-150 x) gave 0 for 1e-50), and terms that cancel
    were written 0 x (-0.0 for negative x: 1 / (x - x) gave -inf for inf)."""
    cases = [(lambda x: 1.0 / (x - x), np.array([-1.0, 2.0, np.inf, np.nan])),
             (lambda x: cnp.maximum(-1e200 * (1e150 * x), 0.0), np.array([0.0, 1.0, -1.0])),
             (lambda x: 1e-200 * (1e-150 * x), np.array([1e300, np.inf, 1.0])),
             (lambda x: (1e-150 * x) * (1e-150 * x), np.array([1e155, 1.0])),
             (lambda x: 1.0 / (3.0 * x - x * 3.0), np.array([-2.0, 5.0]))]
    with np.errstate(all="ignore"):
        for f, x in cases:
            jf = cr.jit(f)
            for _ in range(3):
                got, want = jf(x), f(x)
                np.testing.assert_array_equal(got, want)
                np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def _rewritten(f, check, *writes):
    """Call the jitted ``f`` (whose NumPy twin is ``check``), then write into the arrays
    it closes over (each ``writes`` entry is a function doing one write), and compare
    after every write."""
    x = np.linspace(0.5, 1.5, 20)
    jf = cr.jit(f)
    np.testing.assert_allclose(jf(x), check(x), rtol=1e-14)
    for w in writes:
        w()
        np.testing.assert_allclose(jf(x), check(x), rtol=1e-14)
        np.testing.assert_allclose(jf(x), check(x), rtol=1e-14)


def test_arrays_the_function_closes_over_are_read_on_every_call():
    """NumPy reads a global array when the line runs, so a write into it between calls
    changes the next result. Compiled code read such arrays at run time already, but
    decisions made from their values at compile time were stale: an all-ones array was
    dropped from a product (x * 1), a constant condition picked one side of where, a
    diagonal matrix became a scaling by a copy of its diagonal, and functions of it
    alone were folded into constants (exp(b) computed once). Arrays the function can
    reach (closure, globals, defaults, attributes of objects it holds) are now live:
    read every call, never simplified on their values."""
    a, b, m = np.ones(20), np.zeros(20), np.ones(20, bool)
    W = 2.0 * np.eye(20)

    class Model:
        def __init__(self):
            self.V = np.ones(20)

        def __call__(self, x):
            return cnp.tanh(self.V * x)
    model = Model()

    def seta():
        a[3] = 5.0

    def setb():
        b[:] = 1.0

    def setm():
        m[2] = False

    def setW():
        W[0, 1] = 5.0

    def setV():
        model.V[0] = 0.0
    _rewritten(lambda x: x * a, lambda x: x * a, seta)
    _rewritten(lambda x: cnp.sin(x) + cnp.exp(b), lambda x: np.sin(x) + np.exp(b), setb)
    _rewritten(lambda x: cnp.where(m, x, -x), lambda x: np.where(m, x, -x), setm)
    _rewritten(lambda x: W @ x, lambda x: W @ x, setW)
    _rewritten(model, lambda x: np.tanh(model.V * x), setV)


def test_a_batch_written_in_place_trains_on_the_new_batch():
    """The training loop that fills a preallocated batch in place and calls a jitted
    gradient that closes over it gets the gradient of the current batch."""
    batch, target = np.zeros((4, 3)), np.zeros(4)
    step = cr.jit(cr.grad(lambda w: cnp.sum((batch @ w - target) ** 2)))
    rng = np.random.default_rng(0)
    w = np.ones(3)
    for _ in range(3):
        batch[:] = rng.normal(size=(4, 3))
        target[:] = rng.normal(size=4)
        np.testing.assert_allclose(step(w), 2 * batch.T @ (batch @ w - target), rtol=1e-13)
