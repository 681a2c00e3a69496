"""Rows for the ufuncs."""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn, pos, unit, cplx

_a, _b = randn(3, 4), randn(3, 4)
_p, _q = pos(3, 4), pos(3, 4)

# name -> sample domain for the first argument
UNARY = {
    "negative": randn, "positive": randn, "sin": randn, "cos": randn, "tan": unit,
    "arcsin": unit, "arccos": unit, "arctan": randn, "sinh": randn, "cosh": randn,
    "tanh": randn, "arcsinh": randn, "arccosh": lambda *s: pos(*s, low=2.5, high=4.0),
    "arctanh": unit, "exp": randn, "exp2": randn, "expm1": randn, "log": pos,
    "log2": pos, "log10": pos, "log1p": pos, "sqrt": pos, "cbrt": pos, "square": randn,
    "reciprocal": pos, "deg2rad": randn, "rad2deg": randn, "fabs": pos,
    "absolute": randn, "real": randn, "imag": randn, "conjugate": randn, "angle": cplx,
    "sinc": randn,
}
HOLOMORPHIC = ["negative", "sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log",
               "sqrt", "square", "reciprocal", "expm1", "log1p", "arctan", "arcsinh", "sinc"]
BINARY = {
    "add": (randn, randn), "subtract": (randn, randn), "multiply": (randn, randn),
    "divide": (randn, pos), "power": (pos, randn), "arctan2": (randn, pos),
    "hypot": (randn, randn), "logaddexp": (randn, randn), "logaddexp2": (randn, randn),
    "maximum": (randn, randn), "minimum": (randn, randn), "fmax": (randn, randn),
    "fmin": (randn, randn), "copysign": (pos, randn), "remainder": (pos, pos),
    "fmod": (pos, pos),
}
# samples where a derivative formula needs care: heaviside at x1 == 0 (there it is x2:
# derivative 1 in x2), copysign at y = +-0 and +-inf (x takes the sign bit: -0.0 flips
# it); the argument with a jump there is held fixed. (Their own generator: the shared
# samples stay put.)
_G = np.random.default_rng(2024)
_zeros = _G.standard_normal((3, 4))
_zeros.flat[::2] = 0.0
_signed = _G.standard_normal((3, 4))
_signed.flat[::3], _signed.flat[1::3] = 0.0, -0.0
_signed.flat[2], _signed.flat[5] = np.inf, -np.inf
EXTRA = {
    "heaviside": [S(_G.standard_normal((3, 4)), _G.standard_normal(4)),
                  S(_zeros, _G.standard_normal((3, 4)), diff=(1,)),
                  S(0.0, _G.standard_normal((2, 3)), diff=(1,)),
                  S(_zeros, _G.standard_normal(4), diff=(1,))],
    "copysign": [S(_G.standard_normal((3, 4)), _signed, diff=(0,)),
                 S(_G.standard_normal((2, 3)), -0.0, diff=(0,)),
                 S(_G.standard_normal((2, 3)), 0, diff=(0,))],
}
NONDIFF = ["sign", "floor", "ceil", "trunc", "rint", "signbit", "isnan", "isinf",
           "isfinite", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "floor_divide"]
INT_ONLY = ["invert", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
            "left_shift", "right_shift", "gcd", "lcm", "logical_not", "logical_and",
            "logical_or", "logical_xor"]

ROWS = []
for name, dom in UNARY.items():
    samples = [S(dom(3, 4)), S(dom())]
    if name in ("absolute", "real", "imag", "conjugate"):
        samples.append(S(cplx(2, 3)))
    ROWS.append(Row(name, getattr(cnp, name), getattr(np, name), samples))
for name in HOLOMORPHIC:
    z = 0.3 * cplx(2, 3) + (1.5 if name in ("log", "sqrt", "reciprocal") else 0)
    ROWS.append(Row(name + "[complex]", getattr(cnp, name), getattr(np, name), [S(z)]))
for name, (d1, d2) in BINARY.items():
    samples = [S(d1(3, 4), d2(3, 4)), S(d1(3, 1), d2(4)), S(d1(), d2(2, 3))]
    samples += EXTRA.get(name, [])
    ROWS.append(Row(name, getattr(cnp, name), getattr(np, name), samples))
for name in ["add", "multiply", "divide", "subtract"]:
    ROWS.append(Row(name + "[complex]", getattr(cnp, name), getattr(np, name),
                    [S(cplx(2, 3), cplx(2, 3) + 2), S(randn(2, 3), cplx(3) + 2)]))
ROWS.append(Row("float_power", cnp.float_power, np.float_power, [S(pos(3, 4), randn(3, 4))]))
for name in NONDIFF:
    fn = getattr(np, name)
    args = (randn(3, 4),) if fn.nin == 1 else (randn(3, 4), randn(3, 4))
    ROWS.append(Row(name, getattr(cnp, name), fn, [S(*args)], grad=False))
# heaviside: piecewise constant in x1, and x2 itself where x1 == 0 (its first sample:
# the draws it had as a NONDIFF row)
ROWS.append(Row("heaviside", cnp.heaviside, np.heaviside,
                [S(randn(3, 4), randn(3, 4))] + EXTRA["heaviside"]))
for name in INT_ONLY:
    fn = getattr(np, name)
    ints = np.arange(1, 7).reshape(2, 3)
    args = (ints,) if fn.nin == 1 else (ints, ints[::-1] % 3 + 1)
    ROWS.append(Row(name, getattr(cnp, name), fn, [S(*args)], grad=False))

ALIASES = ["abs", "conj", "true_divide", "mod", "radians", "degrees", "pow", "acos",
           "asin", "atan", "atan2", "acosh", "asinh", "atanh", "bitwise_invert"]
