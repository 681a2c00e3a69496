"""Bessel functions (scipy.special jv, yv, iv, ive, jn, yn, j0, j1, y0, y1) as rows
for the elementwise factories of ``prims/elementwise.py``.

Derivatives in ``x`` follow from the recurrences (DLMF 10.6.1, 10.29.1):
``J_v' = (J_{v-1} - J_{v+1}) / 2`` (likewise Y), ``I_v' = (I_{v-1} + I_{v+1}) / 2``,
written with the functions themselves so that they differentiate again. The
derivative in the order ``v`` has no closed form: asking for it raises
NotImplementedError naming the argument (``v`` is then held fixed by passing it as
a constant, e.g. a NumPy array or ``stop_gradient(v)``).
"""
import scipy.special as sps

from .elementwise import Unary, Binary, PRIMS as EW

sign = EW["sign"].bind


def _no_order_derivative(name):
    def d_v(v, x, ans):
        raise NotImplementedError(
            f"scipy.special.{name}(v, x): the derivative with respect to the order v is "
            f"not implemented (it has no closed form); chainrule differentiates {name} "
            "in x only. Hold v fixed: pass it as a constant (a NumPy array, or "
            "chainrule.stop_gradient(v)).")
    return d_v


def _ive_dx(v, x, a):
    # ive = iv * exp(-|x|): ive' = (ive(v-1) + ive(v+1)) / 2 - sign(x) ive (real x)
    return 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x)) - sign(x) * a


_BINARY = [
    # name, scipy implementation, d/dx(v, x, ans)
    ("jv", sps.jv, lambda v, x, a: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x))),
    ("yv", sps.yv, lambda v, x, a: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x))),
    ("iv", sps.iv, lambda v, x, a: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x))),
    ("ive", sps.ive, _ive_dx),
    # integer orders (n is an integer: never differentiated)
    ("yn", sps.yn, lambda n, x, a: 0.5 * (yn(n - 1, x) - yn(n + 1, x))),
]

_UNARY = [
    # name, scipy implementation, derivative(x, ans)
    ("j0", sps.j0, lambda x, a: -j1(x)),
    ("j1", sps.j1, lambda x, a: 0.5 * (j0(x) - jv(2.0, x))),
    ("y0", sps.y0, lambda x, a: -y1(x)),
    ("y1", sps.y1, lambda x, a: 0.5 * (y0(x) - yv(2.0, x))),
]

PRIMS = {}
for _name, _impl, _dx in _BINARY:
    PRIMS[_name] = Binary(_name, _impl, _no_order_derivative(_name), _dx, flops=40)
for _name, _impl, _d in _UNARY:
    PRIMS[_name] = Unary(_name, _impl, _d, flops=30)

globals().update({f"{_k}_p": _v for _k, _v in PRIMS.items()})

jv, yv, iv, ive, yn = (PRIMS[k].bind for k in ("jv", "yv", "iv", "ive", "yn"))
j0, j1, y0, y1 = (PRIMS[k].bind for k in ("j0", "j1", "y0", "y1"))

__all__ = ["PRIMS"] + [f"{k}_p" for k in PRIMS]
