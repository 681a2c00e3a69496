"""The op database: one row per public differentiable function.

A row names the function, NumPy/SciPy's reference, and sample arguments in the
function's smooth domain. ``tests/test_op_db.py`` walks every row: value against the
reference (outside and inside a transformation), forward and reverse derivatives
against finite differences to second order, and each vjp as the exact transpose of
its jvp. Adding a function means adding a row in the family's module here.

Row(name, fn, ref, samples, ...):
    name      public name, e.g. "sum" or "linalg.solve" or "scipy.special.erf"
    fn        the chainrule function
    ref       the NumPy/SciPy function it must match (None: same as fn outside traces)
    samples   list of Sample(args, kwargs); args that are float/complex arrays are
              differentiated, the rest (ints, axes, index arrays) are held fixed
    order     derivative order to check (2 by default; 1 for expensive rules)
    grad      False for non-differentiable functions (values are still checked)
    tol       tolerance for finite-difference checks
    dtype_differs  {column: reason} for the columns ("value": eager and traced
              against the reference, "jit", "vmap") where the value's dtypes may
              differ from the reference's (a reference that is not NumPy's/SciPy's own
              function, a dtype NumPy decides from the values); elsewhere they must
              be equal

A row of a function whose primitive declares removable singularities
(prims/elementwise.py ``Removable``: sinc at 0) gets, automatically, a sample at each
declared point (:func:`singular_samples`).
"""
import dataclasses

import numpy as np


@dataclasses.dataclass
class Sample:
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    diff: tuple = None      # indices of args to differentiate; None: every inexact array

    def diff_argnums(self):
        if self.diff is not None:
            return self.diff
        return tuple(i for i, a in enumerate(self.args) if _inexact_tree(a))


def _inexact_tree(a):
    if isinstance(a, (list, tuple)):
        return len(a) > 0 and all(_inexact_tree(x) for x in a)
    return (isinstance(a, (float, complex, np.ndarray, np.floating, np.complexfloating))
            and np.asarray(a).dtype.kind in "fc")


@dataclasses.dataclass
class Row:
    name: str
    fn: object
    ref: object
    samples: list
    order: int = 2
    grad: bool = True
    tol: float = 1e-5
    modes: tuple = ("fwd", "rev")
    dtype_differs: dict = dataclasses.field(default_factory=dict)


def S(*args, diff=None, **kwargs):
    return Sample(args, kwargs, diff)


RNG = np.random.default_rng(1234)


def randn(*shape):
    return RNG.standard_normal(shape)


def pos(*shape, low=0.5, high=2.0):
    return RNG.uniform(low, high, shape)


def unit(*shape):
    return RNG.uniform(-0.9, 0.9, shape)


def cplx(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def spd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def all_rows():
    from . import elementwise, basic
    mods = [elementwise, basic]
    for extra in ("reductions", "shape", "indexing", "linalg", "fft", "scipy", "composite"):
        try:
            mods.append(__import__(f"{__name__}.{extra}", fromlist=["ROWS"]))
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{extra}":
                raise
    rows = []
    for m in mods:
        rows.extend(with_singular_samples(r) for r in m.ROWS)
    return rows


def singular_samples(row):
    """Samples of a unary row at each removable singular point its primitive declares
    (``fn.primitive.removable``): the row's first sample with every other element moved
    to the point (the point among ordinary values), and the point alone, in the
    sample's dtype (a complex row gets complex points)."""
    removable = getattr(getattr(row.fn, "primitive", None), "removable", None)
    if removable is None or not row.samples:
        return []
    first = np.asarray(row.samples[0].args[0])
    out = []
    for p in removable.limits:
        mixed = first.copy()
        mixed.flat[::2] = p
        out += [S(mixed), S(np.array(p, dtype=first.dtype))]
    return out


def with_singular_samples(row):
    extra = singular_samples(row)
    return dataclasses.replace(row, samples=row.samples + extra) if extra else row
