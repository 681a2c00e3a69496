"""Random compositions of NumPy and SciPy functions, written as plain NumPy programs.

``generate(seed)`` returns a :class:`~aliasing_programs.Program` whose source is a
function ``prog(x)`` that calls NumPy (``np.``) and SciPy (``sp.``) functions on arrays
derived from ``x``: elementwise functions (with guarded domains), broadcasting binary
operations, reductions along random axes, shape functions, products (matmul, einsum,
tensordot, kron), linear algebra (solve, inv, det, slogdet, cholesky, eigvalsh, svd
values, qr, norms), sorting and selection, cumulative functions, indexing and
concatenation. No program writes in place (tests/aliasing_programs.py covers that).

Each candidate statement is run by NumPy on the program so far and kept only where
NumPy accepts it and every value stays finite and moderate; a finished program is kept
only where the loss is smooth at the sample point (central differences with two step
sizes agree), so that finite differences are a fair reference. Programs return every
array they made.

``tests/test_composition_programs.py`` checks them like the aliasing programs, and also
calls each gradient function repeatedly (the compiled backward pass that a recurring
tape gets).
"""
import random
import warnings

import numpy as np
import scipy.special

import chainrule.scipy as csp
from aliasing_programs import Program

# ``sp``: SciPy, whose ufuncs (scipy.special) dispatch to chainrule on traced values;
# ``csp``: chainrule.scipy, for SciPy functions that convert their arguments with
# np.asarray (scipy.linalg, logsumexp), which no dispatch reaches
NAMESPACE = {"sp": scipy, "csp": csp}

SHAPES = [(3, 4), (4, 4), (2, 3, 4), (5,), (4, 3)]

# f(a): elementwise with any real argument (or guarded into the domain)
UNARY = ["np.sin({a})", "np.cos({a})", "np.tanh({a})", "np.arctan({a})",
         "np.exp(0.3 * {a})", "np.sinh(0.5 * {a})", "np.cosh(0.5 * {a})",
         "np.expm1(0.4 * {a})", "np.log1p({a} ** 2)", "np.sqrt(1.0 + {a} ** 2)",
         "np.log(1.5 + np.sin({a}))", "np.reciprocal(1.5 + np.cos({a}))",
         "np.power(1.2 + np.tanh({a}), 2.5)", "np.arcsin(0.5 * np.tanh({a}))",
         "np.arccos(0.5 * np.tanh({a}))", "np.arcsinh({a})", "np.arccosh(2.0 + {a} ** 2)",
         "np.arctanh(0.5 * np.tanh({a}))", "np.square({a})", "np.cbrt(2.0 + np.cos({a}))",
         "np.exp2(0.5 * {a})", "np.log2(2.0 + np.sin({a}))", "np.log10(2.0 + {a} ** 2)",
         "np.abs({a})", "np.sinc(0.3 * {a})", "np.deg2rad({a})", "np.negative({a})",
         "np.positive({a})", "np.float_power(1.5 + np.sin({a}), 1.5)",
         "sp.special.expit({a})", "sp.special.erf({a})", "sp.special.gammaln(2.0 + {a} ** 2)",
         "sp.special.log_ndtr({a})", "sp.special.softplus({a})" if hasattr(
             scipy.special, "softplus") else "np.logaddexp(0.0, {a})",
         "sp.special.xlogy(1.0 + {a} ** 2, 2.0 + {a} ** 2)", "sp.special.erfc(0.5 * {a})",
         "np.clip({a}, -0.7, 0.7)", "np.maximum({a}, 0.1)", "np.heaviside({a}, 0.5) * {a}",
         "np.fmax({a}, -0.2)", "np.where({a} > 0.3, {a} ** 2, np.sin({a}))"]

# f(a, b): broadcasting binary operations
BINARY = ["({a} + {b})", "({a} - {b})", "({a} * {b})", "({a} / (1.5 + np.cos({b})))",
          "np.maximum({a}, {b})", "np.minimum({a}, {b})", "np.hypot({a}, 1.0 + {b})",
          "np.arctan2({a}, 2.0 + np.cos({b}))", "np.logaddexp({a}, {b})",
          "np.where({a} > {b}, {a}, {b} ** 2)", "np.power(1.5 + np.sin({a}), {b})",
          "np.copysign({a}, 0.5 + {b} ** 2)", "np.fmin({a}, {b})",
          "(({a} - {b}) ** 2)", "np.logaddexp2({a}, {b})"]

REDUCE = ["np.sum", "np.mean", "np.max", "np.min", "np.std", "np.var", "np.prod",
          "np.linalg.norm", "csp.special.logsumexp", "np.ptp", "np.median", "np.average",
          "np.nansum", "np.amax", "np.cumsum", "np.cumprod", "np.diff", "np.sort",
          "np.nanmean"]


class _Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.shape = self.rng.choice(SHAPES)
        self.x = np.random.default_rng(seed).uniform(-1.0, 1.0, self.shape)
        self.lines, self.names, self.count = [], ["x"], 0

    def run(self, lines, x=None):
        ns = {"np": np, "sp": scipy, "csp": csp, "x": (self.x if x is None else x).copy()}
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)   # (e.g. std with ddof >= n)
            exec("\n".join(lines), ns)
        return ns

    def accept(self, expr):
        new = f"v{self.count + 1}"
        lines = self.lines + [f"{new} = {expr}"]
        try:
            ns = self.run(lines)
        except Exception:
            return False
        v = ns[new]
        if not isinstance(v, (np.ndarray, np.floating, float)) or \
                np.asarray(v).dtype != np.float64 or not 0 < np.size(v) <= 400:
            return False
        if not np.all(np.isfinite(v)) or np.max(np.abs(v)) > 30:
            return False
        self.count += 1
        self.lines = lines
        self.names.append(new)
        return True

    def pick(self, ns, ndim=None, square=False):
        ok = [n for n in self.names if np.ndim(ns[n]) >= (ndim or 0) and
              (not square or (np.ndim(ns[n]) >= 2 and ns[n].shape[-1] == ns[n].shape[-2]))]
        return self.rng.choice(ok) if ok else None

    def shaped(self, ns, a):
        """An operand that broadcasts against ``a``: another array of a compatible shape,
        a trailing slice of ``a``'s shape, or a scalar."""
        s = np.shape(ns[a])
        same = [n for n in self.names if np.shape(ns[n]) == s and n != a]
        r = self.rng.random()
        if same and r < 0.5:
            return self.rng.choice(same)
        if r < 0.7 and len(s) >= 1:
            tail = [n for n in self.names if 0 < np.ndim(ns[n]) < len(s) and
                    np.shape(ns[n]) == s[len(s) - np.ndim(ns[n]):]]
            if tail:
                return self.rng.choice(tail)
            return f"np.linspace(-0.8, 0.9, {s[-1]})"
        return repr(round(self.rng.uniform(-1.5, 1.5), 3))

    def axis(self, nd):
        if nd == 0:
            return None
        return self.rng.choice([None] + list(range(-nd, nd)))

    # -- statement kinds
    def unary(self, ns):
        a = self.pick(ns)
        return self.rng.choice(UNARY).format(a=a)

    def binary(self, ns):
        a = self.pick(ns)
        b = self.shaped(ns, a)
        if self.rng.random() < 0.5:
            a, b = b, a
        return self.rng.choice(BINARY).format(a=a, b=b)

    def reduce(self, ns):
        a = self.pick(ns, ndim=1)
        if a is None:
            return None
        nd = np.ndim(ns[a])
        f = self.rng.choice(REDUCE)
        ax = self.axis(nd)
        if f in ("np.cumsum", "np.cumprod", "np.diff", "np.sort"):
            ax = self.rng.randrange(-nd, nd)
            if f == "np.cumprod":
                return f"np.cumprod(1.0 + 0.3 * np.tanh({a}), axis={ax})"
            if f == "np.diff":
                return f"np.diff({a}, n={self.rng.choice([1, 2])}, axis={ax})"
            return f"{f}({a}, axis={ax})"
        if f == "np.prod":
            return f"np.prod(1.0 + 0.3 * np.sin({a}), axis={ax})"
        if f == "np.linalg.norm":
            if nd == 2 and self.rng.random() < 0.5:
                return f"np.linalg.norm({a}, {self.rng.choice(['fro', 'nuc', 2, 1, np.inf])!r})"
            return f"np.linalg.norm({a}, axis={ax})" if ax is not None else \
                f"np.linalg.norm({a})"
        keep = self.rng.random() < 0.3 and ax is not None
        extra = ", keepdims=True" if keep else ""
        if f == "np.std" and self.rng.random() < 0.3:
            extra += ", ddof=1"
        if f == "np.average":
            return f"np.average({a}, axis={ax})"
        return f"{f}({a}, axis={ax}{extra})"

    def shape_op(self, ns):
        a = self.pick(ns, ndim=1)
        if a is None:
            return None
        s = np.shape(ns[a])
        nd = len(s)
        r = self.rng
        ops = [f"np.transpose({a})", f"{a}.T", f"{a}.reshape(-1)", f"np.flip({a}, axis={r.randrange(nd)})",
               f"np.roll({a}, {r.randrange(-3, 4)}, axis={r.randrange(nd)})",
               f"np.expand_dims({a}, {r.randrange(nd + 1)})",
               f"np.concatenate([{a}, np.sin({a})], axis={r.randrange(nd)})",
               f"np.stack([{a}, {a} ** 2], axis={r.randrange(nd + 1)})",
               f"np.tile({a}, 2)", f"np.repeat({a}, 2, axis={r.randrange(nd)})",
               f"np.pad({a}, 1, mode={r.choice(['constant', 'edge', 'reflect', 'wrap'])!r})",
               f"np.take({a}, [0, {s[0] - 1}, 0], axis=0)",
               f"{a}[{r.randrange(s[0])}]", f"{a}[::-1]", f"{a}[1:]" if s[0] > 1 else f"{a}[:]",
               f"{a}[[0, -1, 0]]", f"np.broadcast_to({a}, (2,) + {a}.shape)",
               f"np.atleast_2d({a})", f"np.ravel({a})", f"np.moveaxis({a}, 0, -1)",
               f"np.squeeze(np.expand_dims({a}, 0))", f"np.rot90({a})" if nd >= 2 else f"{a}[::2]",
               f"np.triu({a})" if nd >= 2 else f"np.diag({a})",
               f"np.tril({a}, -1)" if nd >= 2 else f"np.outer({a}, {a})",
               f"np.trace({a})" if nd >= 2 else f"np.convolve({a}, [0.5, -1.0, 0.25])",
               f"np.diagonal({a})" if nd >= 2 else f"np.correlate({a}, [1.0, 0.5])",
               f"np.swapaxes({a}, 0, -1)", f"np.sort({a}, axis=-1)[..., ::-1]",
               f"np.take_along_axis({a}, np.argsort({a}, axis=-1), axis=-1)",
               f"np.interp(np.linspace(-0.9, 0.9, 5), np.linspace(-1, 1, {s[-1]}), np.ravel({a})[:{s[-1]}])",
               f"np.polyval(np.ravel({a})[:3], 0.7)", f"np.trapezoid({a}, axis=-1)",
               f"np.cumulative_sum({a}, axis=-1)" if hasattr(np, "cumulative_sum") else f"np.cumsum({a}, axis=-1)",
               f"np.vander(np.ravel({a})[:3], 3)", f"np.gradient({a}, axis=-1)" if s[-1] > 2 else f"{a}[::-1]"]
        return r.choice(ops)

    def product(self, ns):
        a = self.pick(ns, ndim=1)
        if a is None:
            return None
        s = np.shape(ns[a])
        k = s[-1]
        others = [n for n in self.names if np.ndim(ns[n]) >= 1 and np.shape(ns[n])[0] == k]
        b = self.rng.choice(others) if others else f"np.linspace(-1, 1, {k * 3}).reshape({k}, 3)"
        bnd = np.ndim(ns[b]) if b in ns else 2
        r = self.rng
        ops = [f"{a} @ {b}", f"np.matmul({a}, {b})", f"np.dot({a}, {b})",
               f"np.tensordot({a}, {b}, axes=1)", f"np.einsum('...i,i...->...', {a}, {b})"
               if bnd == 1 else f"np.einsum('...i,ij->...j', {a}, {b})",
               f"np.kron({a}, np.array([1.0, -0.5]))", f"np.inner({a}, {a})",
               f"np.vdot({a}, {a})", f"np.einsum('...i,...i->...', {a}, {a})",
               f"np.cross({a}[..., :3], np.sin({a}[..., :3]))" if k >= 3 else f"np.outer({a}, {a})"]
        return r.choice(ops)

    def linalg(self, ns):
        a = self.pick(ns, ndim=2, square=True)
        if a is None:
            a = self.pick(ns, ndim=1)
            if a is None:
                return None
            n = np.shape(ns[a])[-1]
            # (a rank-one matrix plus distinct diagonal entries: 4 I + outer(v, 1) would
            # repeat the singular value 4, where svd's second derivative is undetermined)
            m = min(n, 4)
            a = (f"(np.outer({a}[..., :{m}].ravel()[:{m}], np.linspace(0.5, 1.5, {m})) + "
                 f"np.diag(np.linspace(0.2, 1.1, {m})))")
        spd = f"({a} @ np.swapaxes({a}, -1, -2) + 2.0 * np.eye({a}.shape[-1]))"
        well = f"({a} + 4.0 * np.eye({a}.shape[-1]))"
        ops = [f"np.linalg.solve({well}, np.ones({a}.shape[-1]))",
               f"np.linalg.inv({well})", f"np.linalg.det({well})",
               f"np.linalg.slogdet({spd})[1]", f"np.linalg.cholesky({spd})",
               f"np.linalg.eigvalsh({spd})", f"np.linalg.svd({well}, compute_uv=False)",
               f"np.abs(np.linalg.qr({well})[1])", f"np.linalg.pinv({well})",
               f"np.linalg.matrix_power({well} / 4.0, 3)", f"csp.linalg.expm(0.2 * {a})",
               f"np.linalg.eigh({spd})[0]", f"csp.linalg.solve_triangular(np.triu({well}), np.ones({a}.shape[-1]))",
               f"np.linalg.lstsq({well}, np.ones({a}.shape[-1]), rcond=None)[0]",
               f"csp.linalg.cho_solve(csp.linalg.cho_factor({spd}), np.ones({a}.shape[-1]))"]
        return self.rng.choice(ops)


def smooth(run, x, rng):
    """Whether the program's weighted sum is smooth at ``x`` along a random direction:
    central differences with steps h and 4h agree (a kink or jump nearby makes them
    differ)."""
    u = rng.standard_normal(x.shape)
    outs = run(x)
    w = [rng.standard_normal(np.shape(o)) for o in outs]

    def f(t):
        return sum(float(np.sum(wi * oi)) for wi, oi in zip(w, run(x + t * u)))
    d1 = (f(1e-5) - f(-1e-5)) / 2e-5
    d4 = (f(4e-5) - f(-4e-5)) / 8e-5
    return abs(d1 - d4) <= 1e-6 * (1 + abs(d1))


def generate(seed, length=None):
    """A random composition program (see the module docstring)."""
    for attempt in range(20):
        g = _Gen(seed * 1000 + attempt)
        g.seed = seed
        length = length or g.rng.randrange(4, 10)
        tries = 0
        kinds = [g.unary, g.unary, g.binary, g.binary, g.reduce, g.shape_op, g.product,
                 g.linalg]
        while len(g.lines) < length and tries < 200:
            tries += 1
            ns = g.run(g.lines)
            expr = g.rng.choice(kinds)(ns)
            if expr is not None:
                g.accept(expr)
        names = g.names[1:]
        p = Program(seed, g.shape, g.lines, names or ["x"])
        p.input = g.x
        prog = p.function(NAMESPACE)

        def run(x, prog=prog):
            with np.errstate(all="ignore"):
                return [np.asarray(o, dtype=np.float64) for o in prog(x.copy())]
        if names and smooth(run, g.x, np.random.default_rng(seed)):
            return p
    raise RuntimeError(f"no smooth program for seed {seed}")
