"""A catalogue of misuses (issue 10, item 4): every user rule and argument is checked, as
JAX does. One row per misuse: a callable that commits it, the exception type, and a
regex the message must match, naming the function, the argument and what was expected.
Rows complement tests/test_errors.py (which keeps its own cases, not repeated here).
"""
import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.nn as nn
import chainrule.optim as optim

X = np.array([1.0, 2.0, 3.0])
P = {"w": X.copy(), "b": np.zeros(2)}


def _sum(x):
    return cnp.sum(x * x)


# ------------------------------------------------------------------ custom rules

def _cvjp(bwd, fwd=None, nondiff_argnums=()):
    """A custom_vjp function ``sin_rule`` (sin with a user rule) whose bwd is ``bwd``."""
    def sin_rule(*args):
        return cnp.sin(args[-1])
    f = cr.custom_vjp(sin_rule, nondiff_argnums=nondiff_argnums)
    f.defvjp(fwd or (lambda *a: (cnp.sin(a[-1]), a[-1])), bwd)
    return f


def _cjvp(rule):
    def sin_rule(x):
        return cnp.sin(x)
    f = cr.custom_jvp(sin_rule)
    f.defjvp(rule)
    return f


def _grad_through(f, x=X):
    return lambda: cr.grad(lambda v: cnp.sum(f(v)))(x)


def _two_arg_cvjp(bwd):
    def pair_rule(x, y):
        return x * y
    f = cr.custom_vjp(pair_rule)
    f.defvjp(lambda x, y: (x * y, (x, y)), bwd)
    return lambda: cr.grad(lambda a, b: cnp.sum(f(a, b)), argnums=(0, 1))(X, X)


def _dict_cvjp(bwd):
    def dict_rule(d):
        return d["a"] * 2.0
    f = cr.custom_vjp(dict_rule)
    f.defvjp(lambda d: (d["a"] * 2.0, None), bwd)
    return lambda: cr.grad(lambda d: cnp.sum(f(d)))({"a": X})


def _defjvps_one_rule_two_args():
    def prod_rule(x, y):
        return x * y
    f = cr.custom_jvp(prod_rule)
    f.defjvps(lambda t, ans, x, y: t * y)
    return cr.jvp(f, (X, X), (X, X))


def _traced_nondiff():
    def scale_rule(s, x):
        return x * s
    f = cr.custom_vjp(scale_rule, nondiff_argnums=(0,))
    f.defvjp(lambda s, x: (x * s, None), lambda s, r, g: (g * s,))
    return cr.grad(lambda x: cnp.sum(f(x[0], x)))(X)


def _traced_nondiff_under_vmap():
    def scale_rule(s, x):
        return x * s
    f = cr.custom_vjp(scale_rule, nondiff_argnums=(0,))
    f.defvjp(lambda s, x: (x * s, None), lambda s, r, g: (g * s,))
    return cr.vmap(lambda s: f(s, X))(X)


def _nondiff_out_of_range():
    def scale_rule(s, x):
        return x * s
    f = cr.custom_vjp(scale_rule, nondiff_argnums=(2,))
    f.defvjp(lambda s, x: (x * s, None), lambda s, r, g: (g * s,))
    return cr.grad(lambda x: cnp.sum(f(2.0, x)))(X)


def _custom_jvp_nondiff_out_of_range():
    def scale_rule(s, x):
        return x * s
    f = cr.custom_jvp(scale_rule, nondiff_argnums=(3,))
    f.defjvp(lambda s, p, t: (p[0] * s, t[0] * s))
    return f(2.0, X)


CUSTOM = [
    ("custom_vjp bwd: too many cotangents",
     _grad_through(_cvjp(lambda r, g: (g, g))), TypeError,
     r"custom_vjp function sin_rule: bwd returned 2 cotangent\(s\) for 1 differentiable"),
    ("custom_vjp bwd: too few cotangents",
     _two_arg_cvjp(lambda r, g: (g * r[1],)), TypeError,
     r"pair_rule: bwd returned 1 cotangent\(s\) for 2 differentiable"),
    ("custom_vjp bwd: a bare array, not a tuple",
     _grad_through(_cvjp(lambda r, g: g)), TypeError,
     r"sin_rule: bwd must return a tuple with one cotangent per differentiable argument, "
     r"got ndarray"),
    ("custom_vjp bwd: cotangent of the wrong shape",
     _grad_through(_cvjp(lambda r, g: (g[:2],))), ValueError,
     r"sin_rule: bwd returned a cotangent of shape \(2,\) for argument 0 of shape \(3,\)"),
    ("custom_vjp bwd: a scalar cotangent for an array argument",
     _grad_through(_cvjp(lambda r, g: (1.0,))), ValueError,
     r"sin_rule: bwd returned a cotangent of shape \(\) for argument 0 of shape \(3,\)"),
    ("custom_vjp bwd: wrong shape for the second argument",
     _two_arg_cvjp(lambda r, g: (g * r[1], g[:1])), ValueError,
     r"pair_rule: bwd returned a cotangent of shape \(1,\) for argument 1 of shape \(3,\)"),
    ("custom_vjp bwd: complex cotangent for a real argument",
     _grad_through(_cvjp(lambda r, g: (g * 1j,))), TypeError,
     r"sin_rule: bwd returned a cotangent of dtype complex128 for argument 0 of dtype "
     r"float64: .*imaginary part would be dropped"),
    ("custom_vjp bwd: integer cotangent",
     _grad_through(_cvjp(lambda r, g: (np.ones(3, dtype=int),))), TypeError,
     r"sin_rule: bwd returned a cotangent of dtype int64 for argument 0 of dtype float64"),
    ("custom_vjp bwd: boolean cotangent",
     _grad_through(_cvjp(lambda r, g: (g > 0,))), TypeError,
     r"sin_rule: bwd returned a cotangent of dtype bool for argument 0"),
    ("custom_vjp bwd: cotangent of the wrong structure",
     _dict_cvjp(lambda r, g: ({"b": g},)), TypeError,
     r"dict_rule: bwd returned a cotangent of structure .* for argument 0 of structure"),
    ("custom_vjp bwd: wrong shape inside a pytree argument",
     _dict_cvjp(lambda r, g: ({"a": g[1:]},)), ValueError,
     r"dict_rule: bwd returned a cotangent of shape \(2,\) for argument 0 of shape \(3,\)"),
    ("custom_vjp bwd under vmap: wrong shape",
     lambda: cr.vmap(cr.grad(lambda v: cnp.sum(_cvjp(lambda r, g: (g[:1],))(v))))(
         np.ones((2, 3))), ValueError,
     r"sin_rule: bwd returned a cotangent of shape \(1,\) for argument 0 of shape \(3,\)"),
    ("custom_vjp fwd: not a pair",
     _grad_through(_cvjp(lambda r, g: (g,), fwd=lambda x: cnp.sin(x))), TypeError,
     r"custom_vjp function sin_rule: fwd must return a pair \(output, residuals\), got "
     r"ndarray"),
    ("custom_vjp fwd: a triple",
     _grad_through(_cvjp(lambda r, g: (g,), fwd=lambda x: (x, x, x))), TypeError,
     r"sin_rule: fwd must return a pair .*got a tuple of length 3"),
    ("custom_vjp: traced value as a nondiff argument",
     _traced_nondiff, TypeError,
     r"custom_vjp function scale_rule: argument 0 is in nondiff_argnums but received a "
     r"traced value.*Pass arrays as ordinary arguments"),
    ("custom_vjp: batched value as a nondiff argument (vmap)",
     _traced_nondiff_under_vmap, TypeError,
     r"scale_rule: argument 0 is in nondiff_argnums but received a traced value"),
    ("custom_vjp: nondiff_argnums beyond the call's arguments",
     _nondiff_out_of_range, ValueError,
     r"custom_vjp function scale_rule: nondiff_argnums=\(2,\) but it was called with 2 "
     r"positional"),
    ("custom_jvp: nondiff_argnums beyond the call's arguments (even untraced)",
     _custom_jvp_nondiff_out_of_range, ValueError,
     r"custom_jvp function scale_rule: nondiff_argnums=\(3,\) but it was called with 2"),
    ("custom_vjp: negative nondiff_argnums",
     lambda: cr.custom_vjp(np.sin, nondiff_argnums=(-1,)), ValueError,
     r"custom_vjp: nondiff_argnums=\(-1,\) must be non-negative"),
    ("custom_jvp: repeated nondiff_argnums",
     lambda: cr.custom_jvp(np.sin, nondiff_argnums=(0, 0)), ValueError,
     r"custom_jvp: nondiff_argnums=\(0, 0\) contains duplicates"),
    ("custom_vjp: defvjp with a non-callable bwd",
     lambda: cr.custom_vjp(np.sin).defvjp(lambda x: (x, x), None), TypeError,
     r"custom_vjp sin\.defvjp: bwd must be a callable"),
    ("custom_jvp: defjvp with a non-callable rule",
     lambda: cr.custom_jvp(np.sin).defjvp("cos"), TypeError,
     r"custom_jvp sin\.defjvp: jvp_rule must be a callable.*got str"),
    ("custom_jvp: defjvps with a non-callable rule",
     lambda: cr.custom_jvp(np.sin).defjvps(2.0), TypeError,
     r"custom_jvp sin\.defjvps: each rule must be a callable"),
    ("custom_vjp: called without defvjp",
     lambda: cr.grad(cr.custom_vjp(lambda x: x * 2.0))(1.0), AttributeError,
     r"No VJP defined for custom_vjp function <lambda> using defvjp"),
    ("custom_jvp rule: tangent of the wrong shape (jvp)",
     lambda: cr.jvp(_cjvp(lambda p, t: (cnp.sin(p[0]), t[0][:2])), (X,), (X,)), ValueError,
     r"custom_jvp function sin_rule: the jvp rule returned a tangent of shape \(2,\) for "
     r"output 0 of shape \(3,\)"),
    ("custom_jvp rule: tangent of the wrong shape (grad, transposed)",
     _grad_through(_cjvp(lambda p, t: (cnp.sin(p[0]), t[0][:2]))), ValueError,
     r"sin_rule: the jvp rule returned a tangent of shape \(2,\) for output 0"),
    ("custom_jvp rule: complex tangent for a real output",
     lambda: cr.jvp(_cjvp(lambda p, t: (cnp.sin(p[0]), t[0] * 1j)), (X,), (X,)), TypeError,
     r"sin_rule: the jvp rule returned a tangent of dtype complex128 for output 0 of dtype "
     r"float64: .*imaginary part would be dropped"),
    ("custom_jvp rule: integer tangent",
     lambda: cr.jvp(_cjvp(lambda p, t: (cnp.sin(p[0]), np.ones(3, dtype=int))), (X,),
                    (X,)), TypeError,
     r"sin_rule: the jvp rule returned a tangent of dtype int64 for output 0"),
    ("custom_jvp rule: not a pair",
     lambda: cr.jvp(_cjvp(lambda p, t: t[0]), (X,), (X,)), TypeError,
     r"custom_jvp function sin_rule: the jvp rule must return a pair \(primal_out, "
     r"tangent_out\), got JVPTracer|sin_rule: the jvp rule must return a pair"),
    ("custom_jvp rule: structures differ",
     lambda: cr.jvp(_cjvp(lambda p, t: (cnp.sin(p[0]), (t[0], t[0]))), (X,), (X,)),
     TypeError, r"sin_rule: the jvp rule must return \(primal_out, tangent_out\) of equal "
     r"structure"),
]


# ------------------------------------------------------------------ jvp, vjp, linearize, hvp

def _vjp_fun(f=lambda x: x * 2.0, x=X):
    return cr.vjp(f, x)[1]


JVP_VJP = [
    ("jvp: integer primal",
     lambda: cr.jvp(lambda n: n * 2.0, (np.arange(3),), (np.ones(3),)), TypeError,
     r"jvp: primal 0 has dtype int64; integer and boolean inputs have no tangent.*"
     r"astype\(float\).*close over it"),
    ("jvp: integer primal, second argument, integer tangent",
     lambda: cr.jvp(lambda x, n: x * n, (X, 2), (X, 0)), TypeError,
     r"jvp: primal 1 has dtype int64; integer and boolean inputs have no tangent"),
    ("jvp: boolean primal",
     lambda: cr.jvp(lambda m: cnp.where(m, 1.0, 0.0), (X > 1,), (X,)), TypeError,
     r"jvp: primal 0 has dtype bool"),
    ("jvp: integer leaf inside a pytree primal",
     lambda: cr.jvp(lambda d: d["x"] * d["n"], ({"x": X, "n": 3},), ({"x": X, "n": 1.0},)),
     TypeError, r"jvp: primal 0 has dtype int64"),
    ("jvp: None as a tangent",
     lambda: cr.jvp(lambda x: x * 2.0, (X,), (None,)), ValueError,
     r"jvp: tangents have structure .*NoneType.* but primals have structure"),
    ("vjp_fun: complex cotangent for a real output",
     lambda: _vjp_fun()(X * (1 + 1j)), TypeError,
     r"vjp_fun: cotangent of dtype complex128 for an output of dtype float64: .*"
     r"imaginary part would be dropped"),
    ("vjp_fun: string cotangent",
     lambda: _vjp_fun(lambda x: cnp.sum(x))(np.str_("a")), TypeError,
     r"vjp_fun: cotangent of dtype <U1 for an output of dtype float64: cotangents must be "
     r"numbers"),
    ("linearize: integer primal",
     lambda: cr.linearize(lambda x: x * 2.0, np.arange(3)), TypeError,
     r"linearize: primal 0 has dtype int64; integer and boolean inputs have no tangent"),
    ("linearize: f_jvp with too many tangents",
     lambda: cr.linearize(lambda x: x * 2.0, X)[1](X, X), ValueError,
     r"linearize: 1 primals but 2 tangents"),
    ("linearize: f_jvp with a tangent of the wrong shape",
     lambda: cr.linearize(lambda x: x * 2.0, X)[1](np.ones(2)), ValueError,
     r"linearize: tangent of shape \(2,\) for a primal of shape \(3,\)"),
    ("linearize: f_jvp with a complex tangent for a real primal",
     lambda: cr.linearize(lambda x: x * 2.0, X)[1](X * 1j), TypeError,
     r"linearize: tangent dtype complex128 does not match primal dtype float64"),
    ("hvp: arrays instead of tuples",
     lambda: cr.hvp(_sum, X, X), TypeError,
     r"hvp: primals and tangents must be tuples or lists, e.g. hvp\(f, \(x,\), \(v,\)\), "
     r"got ndarray and ndarray"),
    ("hvp: tangents not a tuple",
     lambda: cr.hvp(_sum, (X,), X), TypeError, r"hvp: primals and tangents must be tuples"),
    ("hvp: more tangents than primals",
     lambda: cr.hvp(_sum, (X,), (X, X)), ValueError, r"hvp: 1 primals but 2 tangents"),
    ("hvp: tangent of the wrong shape",
     lambda: cr.hvp(_sum, (X,), (np.ones(2),)), ValueError,
     r"hvp: tangent of shape \(2,\) for a primal of shape \(3,\)"),
]


# ------------------------------------------------------------------ transformations' arguments

TRANSFORMS = ["grad", "value_and_grad", "jacfwd", "jacrev", "jacobian", "hessian",
              "elementwise_grad", "vmap", "jit", "checkpoint", "make_graph", "custom_jvp",
              "custom_vjp"]


def _made_with(name, fun):
    return lambda: getattr(cr, name)(fun)


NOT_CALLABLE = [
    (f"{name}(3.0): made with a non-callable", _made_with(name, 3.0), TypeError,
     rf"{name}: fun must be a callable \(a function\), got float 3\.0. Write {name}\(f\)")
    for name in TRANSFORMS
] + [
    ("vjp(3.0, x)", lambda: cr.vjp(3.0, X), TypeError, r"vjp: fun must be a callable"),
    ("jvp(array, ...)", lambda: cr.jvp(X, (X,), (X,)), TypeError,
     r"jvp: fun must be a callable \(a function\), got ndarray"),
    ("linearize(None, x)", lambda: cr.linearize(None, X), TypeError,
     r"linearize: fun must be a callable.*got NoneType"),
    ("hvp('f', ...)", lambda: cr.hvp("f", (X,), (X,)), TypeError,
     r"hvp: fun must be a callable.*got str"),
    ("grad(f(x)): the value instead of the function", lambda: cr.grad(_sum(X)), TypeError,
     r"grad: fun must be a callable.*got float64"),
    ("debug_nans()(3.0)", lambda: cr.debug_nans()(3.0), TypeError,
     r"debug_nans\(\)\(fun\): fun must be a callable"),
]


def _vmap(**kw):
    return cr.vmap(lambda x: x * 2.0, **kw)


ARGS = [
    ("grad: repeated argnums", lambda: cr.grad(lambda x, y: x * y, argnums=(0, 0)),
     ValueError, r"grad: argnums=\(0, 0\) contains duplicates"),
    ("jacrev: repeated argnums", lambda: cr.jacrev(lambda x, y: x * y, argnums=[1, 1]),
     ValueError, r"jacrev: argnums=\[1, 1\] contains duplicates"),
    ("grad: argnums naming one argument twice (0 and -2)",
     lambda: cr.grad(lambda x, y: x * y, argnums=(0, -2))(1.0, 2.0), ValueError,
     r"grad: argnums=\(0, -2\) names the same argument twice"),
    ("grad: float argnums", lambda: cr.grad(_sum, argnums=0.0), TypeError,
     r"grad: argnums must be an int or a tuple of ints, got float 0\.0"),
    ("value_and_grad: string argnums", lambda: cr.value_and_grad(_sum, argnums="x"),
     TypeError, r"value_and_grad: argnums must be an int or a tuple of ints, got 'x'"),
    ("hessian: argnums with a None", lambda: cr.hessian(_sum, argnums=(0, None)),
     TypeError, r"hessian: argnums must be an int or a tuple of ints.*None"),
    ("elementwise_grad: argnum tuple", lambda: cr.elementwise_grad(cnp.sin, argnum=(0,)),
     TypeError, r"elementwise_grad: argnum must be one int"),
    ("elementwise_grad: argnum out of range",
     lambda: cr.elementwise_grad(cnp.sin, argnum=1)(X), ValueError,
     r"elementwise_grad: argnums=1 is out of range for a function called with 1"),
    ("grad: argument passed by keyword only",
     lambda: cr.grad(lambda x: x * 2.0)(x=1.0), ValueError,
     r"grad: argnums=0 is out of range .*0 positional.*keyword arguments are not "
     r"differentiated"),
    ("grad(f)(None)", lambda: cr.grad(lambda x: 1.0)(None), TypeError,
     r"grad: argument 0 is None: there is nothing to differentiate"),
    ("value_and_grad: None as the second differentiated argument",
     lambda: cr.value_and_grad(lambda x, y: x, argnums=(0, 1))(1.0, None), TypeError,
     r"value_and_grad: argument 1 is None"),
    ("jacfwd(f)(None)", lambda: cr.jacfwd(lambda x: x)(None), TypeError,
     r"jacfwd: argument 0 is None"),
    ("grad of a function returning None (no return statement)",
     lambda: cr.grad(lambda x: None)(1.0), TypeError,
     r"grad requires a function returning a single array \(a scalar\), but it returned "
     r"None \(is a return statement missing\?\)"),
    ("grad: has_aux with a list of three",
     lambda: cr.value_and_grad(lambda x: [x, x, x], has_aux=True)(1.0), TypeError,
     r"value_and_grad with has_aux=True requires the function to return a pair"),
    ("vjp: has_aux with a scalar",
     lambda: cr.vjp(lambda x: x * 2.0, 1.0, has_aux=True), TypeError,
     r"vjp with has_aux=True requires the function to return a pair.*ReverseTracer"),
    ("jvp: has_aux with a scalar",
     lambda: cr.jvp(lambda x: x * 2.0, (1.0,), (1.0,), has_aux=True), TypeError,
     r"jvp with has_aux=True requires the function to return a pair"),
    ("jacfwd: has_aux with a scalar",
     lambda: cr.jacfwd(lambda x: x * 2.0, has_aux=True)(X), TypeError,
     r"jacfwd with has_aux=True requires the function to return a pair"),
    ("grad: holomorphic=True with real input",
     lambda: cr.grad(lambda z: z * z, holomorphic=True)(1.0), TypeError,
     r"grad with holomorphic=True requires complex inputs, but argument 0 has dtype "
     r"float64"),
    ("grad of a complex output without holomorphic",
     lambda: cr.grad(lambda z: z * z)(1j), TypeError,
     r"grad requires real-valued outputs .*complex128.*holomorphic=True"),
    ("jacrev of a complex output without holomorphic",
     lambda: cr.jacrev(lambda z: z * z)(np.array([1j])), TypeError,
     r"jacrev requires real-valued outputs; .*holomorphic=True"),
    ("grad of a string", lambda: cr.grad(lambda s: 1.0)("a"), TypeError,
     r"grad requires real- or complex-valued inputs .*argument 0 has dtype <U1"),
    ("vmap: out_axes beyond the output's rank",
     lambda: _vmap(out_axes=2)(np.ones((3, 2))), ValueError,
     r"vmap out_axes=2: output 0 has per-example shape \(2,\), so its batch axis can go "
     r"at positions -2 to 1, not 2"),
    ("vmap: negative out_axes beyond the output's rank",
     lambda: _vmap(out_axes=-3)(np.ones((3, 2))), ValueError,
     r"vmap out_axes=-3: output 0 .*not -3"),
    ("vmap: out_axes of the wrong structure",
     lambda: cr.vmap(lambda x: (x, x), out_axes=(0, 0, 0))(X), ValueError,
     r"vmap out_axes \(0, 0, 0\) does not match the structure of the output"),
    ("vmap: out_axes=None for a batched output",
     lambda: _vmap(out_axes=None)(X), ValueError,
     r"vmap: out_axes=None for an output that is batched"),
    ("vmap: string out_axes", lambda: _vmap(out_axes="0"), TypeError,
     r"vmap out_axes must be an int, None, or a pytree of them.*'0'"),
    ("vmap: float entry in in_axes", lambda: _vmap(in_axes=(0.0,)), TypeError,
     r"vmap in_axes must be an int, None, or a pytree of them.*entry 0\.0 of type float"),
    ("vmap: boolean in_axes entry", lambda: _vmap(in_axes=[True]), TypeError,
     r"vmap in_axes must be .*entry True of type bool"),
    ("vmap: string in_axes", lambda: _vmap(in_axes="batch"), TypeError,
     r"vmap in_axes must be an int, None, or a tuple.*'batch'"),
    ("vmap: in_axes tuple longer than the arguments",
     lambda: _vmap(in_axes=(0, 0))(X), ValueError,
     r"vmap in_axes specification must be a tree prefix .*\(0, 0\) for 1 positional"),
    ("vmap: in_axes dict keys differ from the argument's",
     lambda: cr.vmap(lambda d: d["a"], in_axes=({"b": 0},))({"a": X}), ValueError,
     r"vmap in_axes \(\{'b': 0\},\) does not match the structure of the arguments"),
    ("vmap: in_axes beyond the argument's rank",
     lambda: _vmap(in_axes=1)(X), ValueError,
     r"vmap was requested to map argument 0 along axis 1, .*rank should be at least 2, "
     r"but is only 1"),
    ("vmap: mapped axes of different sizes",
     lambda: cr.vmap(lambda x, y: x * y)(X, np.ones(2)), ValueError,
     r"vmap got inconsistent sizes for array axes to be mapped"),
    ("vmap: nothing mapped and no axis_size",
     lambda: cr.vmap(lambda x: x, in_axes=None)(X), ValueError,
     r"vmap must have at least one non-None value in in_axes, or be given axis_size"),
    ("vmap: negative axis_size", lambda: _vmap(axis_size=-1), TypeError,
     r"vmap axis_size must be a non-negative int or None, got -1"),
    ("vmap: axis_size disagrees with the mapped axis",
     lambda: _vmap(axis_size=4)(X), ValueError, r"vmap: axis_size=4 but the mapped axes "
     r"have size 3"),
    ("jit: static_argnums beyond the signature (no wrap-around)",
     lambda: cr.jit(lambda x, n: x * n, static_argnums=5), ValueError,
     r"jit: static_argnums=5 is out of range: <lambda> takes 2 positional argument\(s\)"),
    ("jit: negative static_argnums beyond the signature",
     lambda: cr.jit(lambda x, n: x * n, static_argnums=-3), ValueError,
     r"jit: static_argnums=-3 is out of range"),
    ("jit: static_argnums naming one argument twice",
     lambda: cr.jit(lambda x, n: x * n, static_argnums=(1, -1)), ValueError,
     r"jit: static_argnums=\(1, -1\) names the same argument twice"),
    ("jit: *args function, negative static position beyond the call",
     lambda: cr.jit(lambda *a: a[0] * 2.0, static_argnums=-3)(X), ValueError,
     r"jit: static_argnums position -3 is out of range for a call with 1 positional"),
    ("jit: string static_argnums", lambda: cr.jit(_sum, static_argnums="x"), TypeError,
     r"jit: static_argnums must be an int or a tuple of ints, got 'x'"),
    ("jit: static_argnames the function does not take",
     lambda: cr.jit(lambda x, n: x * n, static_argnames="m"), ValueError,
     r"jit: static_argnames='m', but <lambda> has no parameter named 'm'"),
    ("jit: static_argnames not strings", lambda: cr.jit(_sum, static_argnames=(1,)),
     TypeError, r"jit: static_argnames must be a str or a tuple of str"),
    ("jit: an unhashable static argument",
     lambda: cr.jit(lambda x, n: x * len(n), static_argnums=1)(X, [1, 2]), TypeError,
     r"jit: static arguments must be hashable"),
    ("make_graph: static_argnums beyond the signature",
     lambda: cr.make_graph(lambda x: x * 2.0, static_argnums=(4,)), ValueError,
     r"make_graph: static_argnums=\(4,\) is out of range: <lambda> takes 1 positional"),
    ("checkpoint: static_argnums beyond the signature",
     lambda: cr.checkpoint(lambda x: x * 2.0, static_argnums=(4,)), ValueError,
     r"checkpoint: static_argnums=\(4,\) is out of range: <lambda> takes 1 positional"),
    ("debug_nans: enabled not a bool", lambda: cr.debug_nans("yes"), TypeError,
     r"debug_nans: enabled must be a bool, got 'yes'"),
    ("grad: empty argnums", lambda: cr.grad(_sum, argnums=()), ValueError,
     r"grad: argnums=\(\) is empty: there is nothing to differentiate"),
    ("value_and_grad of a (value, aux) pair without has_aux",
     lambda: cr.value_and_grad(lambda x: (_sum(x), x))(X), TypeError,
     r"value_and_grad requires a function returning a single array .*pass has_aux=True"),
    ("jacrev of an integer output",
     lambda: cr.jacrev(lambda x: (x > 1.0).astype(int))(X), TypeError,
     r"jacrev requires float outputs, but an output has dtype int64"),
    ("hessian of an integer argument names hessian",
     lambda: cr.hessian(lambda x: cnp.sum(x * 1.0))(np.arange(3)), TypeError,
     r"^hessian requires real- or complex-valued inputs .*argument 0 has dtype int64"),
    ("hessian(f)(None)", lambda: cr.hessian(_sum)(None), TypeError,
     r"hessian: argument 0 is None"),
    ("hvp of a vector-valued function names hvp",
     lambda: cr.hvp(lambda x: x * x, (X,), (X,)), TypeError,
     r"^hvp requires a scalar output .*shape \(3,\)"),
    ("hvp with no primals", lambda: cr.hvp(_sum, (), ()), ValueError,
     r"hvp: no primals"),
    ("hvp with an integer primal",
     lambda: cr.hvp(_sum, (np.arange(3),), (X,)), TypeError,
     r"hvp: primal 0 has dtype int64; integer and boolean inputs have no tangent"),
    ("vmap: an unbatchable keyword argument is named",
     lambda: cr.vmap(lambda x, y: x * y, in_axes=(0,))(X, y=2.0), ValueError,
     r"vmap was requested to map keyword argument 'y' \(keyword arguments are mapped "
     r"along axis 0\) along axis 0"),
    ("vmap: a scalar leaf inside a pytree argument is named",
     lambda: cr.vmap(lambda p: p[0] * p[1])((X, 1.0)), ValueError,
     r"vmap was requested to map argument 0 \(leaf 1\) along axis 0"),
    ("vmap: inconsistent sizes name the arguments",
     lambda: cr.vmap(lambda x, y: x * y)(X, {"a": np.ones(2)}), ValueError,
     r"argument 0 has size 3 along its mapped axis; argument 1 has size 2"),
    ("vmap over a Python list of floats (a pytree of scalars)",
     lambda: cr.vmap(cnp.sin)([1.0, 2.0]), ValueError,
     r"vmap was requested to map argument 0 \(leaf 0; a list is a pytree of its items: to "
     r"map over its entries pass np\.asarray\(\.\.\.\)\)"),
    ("custom_jvp defjvps: fewer rules than arguments",
     lambda: _defjvps_one_rule_two_args(), TypeError,
     r"custom_jvp prod_rule\.defjvps: 1 rule\(s\) for 2 differentiable argument\(s\)"),
    ("jit: maxsize zero", lambda: cr.jit(_sum, maxsize=0), ValueError,
     r"jit: maxsize must be a positive int, got 0"),
    ("config.update with a string value",
     lambda: cr.config.update("debug_nans", "no"), TypeError,
     r"chainrule\.config\.update\('debug_nans', value\): value must be a bool, got str"),
    ("config.update of an unknown option",
     lambda: cr.config.update("debug_nan", True), AttributeError,
     r"chainrule\.config has no option 'debug_nan'; options: debug_nans"),
    ("custom_vjp bwd: a cotangent for a nondiff argument too",
     lambda: cr.grad(lambda x: cnp.sum(_cvjp(lambda s, r, g: (None, g),
                                              nondiff_argnums=(0,))(2.0, x)))(X),
     TypeError, r"bwd returned 2 cotangent\(s\) for 1 differentiable argument\(s\) \(the "
     r"arguments in nondiff_argnums=\(0,\) get none\)"),
]


# ------------------------------------------------------------------ optimisers

def _update(opt, grads=P, state="init", params=None):
    state = opt.init(P) if state == "init" else state
    return lambda: opt.update(grads, state, params)


_STATE = r"pass the state its init\(params\) returned"
OPTIM = [
    ("adam.update with sgd's state",
     _update(optim.adam(0.1), state=optim.sgd(0.1).init(P)), TypeError,
     rf"adam\.update: got a state of type EmptyState, but adam's state is a tuple of 2 "
     rf"states.*{_STATE}.*not another optimiser's"),
    ("adam.update with sgd-with-momentum's state (same length)",
     _update(optim.adam(0.1), state=optim.sgd(0.1, momentum=0.9).init(P)), TypeError,
     r"adam\.update: got a state of type TraceState, but adam's state is a "
     r"ScaleByAdamState"),
    ("sgd.update with adam's state",
     _update(optim.sgd(0.1), state=optim.adam(0.1).init(P)), TypeError,
     r"sgd\.update: got a state of type tuple, but sgd's state is an EmptyState"),
    ("adam.update with None state", _update(optim.adam(0.1), state=None), TypeError,
     r"adam\.update: got a state of type NoneType.*call state = opt\.init\(params\) "
     r"first"),
    ("sgd.update with None state", _update(optim.sgd(0.1), state=None), TypeError,
     r"sgd\.update: got a state of type NoneType"),
    ("rmsprop.update with adagrad's state",
     _update(optim.rmsprop(0.1), state=optim.adagrad(0.1).init(P)), TypeError,
     r"rmsprop\.update: got a state of type ScaleByAdagradState, but rmsprop's state is "
     r"a ScaleByRmsState"),
    ("clip_by_global_norm.update with None state",
     _update(optim.clip_by_global_norm(1.0), state=None), TypeError,
     r"clip_by_global_norm\.update: got a state of type NoneType"),
    ("sgd: a string learning rate", lambda: optim.sgd("0.1"), TypeError,
     r"sgd: learning_rate must be a real number or a schedule .*got str '0\.1'"),
    ("adam: a string learning rate", lambda: optim.adam("1e-3"), TypeError,
     r"adam: learning_rate must be a real number or a schedule"),
    ("adam: a None learning rate", lambda: optim.adam(None), TypeError,
     r"adam: learning_rate must be .*got NoneType None"),
    ("adam: a complex b1", lambda: optim.adam(0.1, b1=0.9j), TypeError,
     r"adam: b1 must be a real number, got complex"),
    ("sgd: a string momentum", lambda: optim.sgd(0.1, momentum="0.9"), TypeError,
     r"sgd: momentum must be a real number, got str"),
    ("rmsprop: a list decay", lambda: optim.rmsprop(0.1, decay=[0.9]), TypeError,
     r"rmsprop: decay must be a real number, got list"),
    ("clip_by_global_norm: a string max_norm",
     lambda: optim.clip_by_global_norm("1"), TypeError,
     r"clip_by_global_norm: max_norm must be a real number"),
    ("scale_by_schedule: not a callable", lambda: optim.scale_by_schedule(0.1), TypeError,
     r"scale_by_schedule: schedule must be a callable"),
    ("chain of something that is not a transformation",
     lambda: optim.chain(optim.adam(0.1), 0.5), TypeError,
     r"chain: expected GradientTransformations .*got float"),
    ("adam.update: gradients of the wrong shape",
     _update(optim.adam(0.1), grads={"w": np.ones(2), "b": np.zeros(2)}), ValueError,
     r"adam\.update: the gradient at \['w'\] has shape \(2,\) but the parameter the "
     r"state was made for \(by init\(params\)\) has shape \(3,\)"),
    ("sgd with momentum: a scalar gradient would broadcast",
     _update(optim.sgd(0.1, momentum=0.9), grads={"w": 1.0, "b": np.zeros(2)}), ValueError,
     r"sgd\.update: the gradient at \['w'\] has shape \(\) but the parameter .*\(3,\)"),
    ("adagrad.update: gradients with other keys",
     _update(optim.adagrad(0.1), grads={"w": X, "c": np.zeros(2)}), ValueError,
     r"adagrad\.update: the gradients do not have the structure of the parameters the "
     r"state was made for .*keys \['c', 'w'\], the parameters keys \['b', 'w'\]"),
    ("adamw.update: gradients as a list for dict parameters",
     _update(optim.adamw(0.1), grads=[X, np.zeros(2)], params=P), ValueError,
     r"adamw\.update: the gradients do not have the structure .*the gradients have a list "
     r"of length 2, the parameters a dict"),
    ("apply_updates: updates of the wrong shape",
     lambda: optim.apply_updates(P, {"w": np.ones(1), "b": np.zeros(2)}), ValueError,
     r"apply_updates: the update at \['w'\] has shape \(1,\) but the parameter has "
     r"shape \(3,\)"),
    ("apply_updates given update()'s (updates, state) pair",
     lambda: optim.apply_updates(P, optim.sgd(0.1).update(P, optim.sgd(0.1).init(P))),
     ValueError, r"apply_updates: the updates do not have the structure of the parameters.*"
     r"update\(\) returns a pair: write updates, state = opt\.update"),
    ("apply_updates: updates of another structure",
     lambda: optim.apply_updates([P, P], [P]), ValueError,
     r"apply_updates: the updates do not have the structure of the parameters: at the top "
     r"level the updates have a list of length 1, the parameters a list of length 2"),
]


# ------------------------------------------------------------------ nn

MODEL = nn.mlp([2, 3, 1])


def _params_with(layer, key, value):
    params = MODEL.init(0)
    params[layer][key] = value
    return params


NN = [
    ("nn.mlp: inputs with the wrong number of features",
     lambda: MODEL.apply(MODEL.init(0), np.ones((4, 3))), ValueError,
     r"MLP\.apply: x has shape \(4, 3\), but this MLP takes 2 input features"),
    ("nn.mlp: a layer's W of the wrong shape",
     lambda: MODEL.apply(_params_with(1, "W", np.ones((4, 1))), np.ones((4, 2))),
     ValueError, r"MLP\.apply: layer 1's W has shape \(4, 1\), but sizes \[2, 3, 1\] "
     r"give it shape \(3, 1\)"),
    ("nn.mlp: a bias that would broadcast",
     lambda: MODEL.apply(_params_with(0, "b", np.zeros(1)), np.ones((4, 2))), ValueError,
     r"MLP\.apply: layer 0's b has shape \(1,\), but sizes .* give it shape \(3,\)"),
    ("nn.mlp: a layer without W",
     lambda: MODEL.apply([{"w": 1.0}, {"w": 1.0}], np.ones((4, 2))), ValueError,
     r"MLP\.apply: layer 0 must be a dict with 'W'"),
    ("nn.mlp: too few layers of parameters",
     lambda: MODEL.apply(MODEL.init(0)[:1], np.ones((4, 2))), ValueError,
     r"MLP\.apply: expected 2 layers of parameters, got 1"),
    ("nn.mlp: a zero width", lambda: nn.mlp([2, 0, 1]), ValueError,
     r"MLP: sizes must be positive"),
    ("nn.accuracy: more labels than examples",
     lambda: nn.accuracy(np.ones((4, 3)), np.arange(5)), ValueError,
     r"accuracy: labels of shape \(5,\) do not fit outputs of shape \(4, 3\) "
     r"\(3 classes\)"),
    ("nn.accuracy: one-hot labels with another number of classes",
     lambda: nn.accuracy(np.ones((4, 3)), np.eye(2)[[0, 1, 0, 1]]), ValueError,
     r"accuracy: labels of shape \(4, 2\) do not fit outputs of shape \(4, 3\)"),
    ("nn.accuracy: binary outputs and too few labels",
     lambda: nn.accuracy(np.ones(4), np.ones(3)), ValueError,
     r"accuracy: 3 labels for 4 binary outputs"),
    ("nn.fit: an optimiser's name instead of the optimiser",
     lambda: nn.fit(lambda p, x, y: _sum(p), X, (X, X), "adam", epochs=1), TypeError,
     r"fit: optimizer must be a chainrule\.optim transformation such as optim\.adam"),
    ("nn.fit: a loss value instead of the loss function",
     lambda: nn.fit(1.0, X, (X, X), optim.sgd(0.1), epochs=1), TypeError,
     r"fit: loss_fn must be a callable"),
]


CATALOGUE = CUSTOM + JVP_VJP + NOT_CALLABLE + ARGS + OPTIM + NN


def _check_row(trigger, exc, pattern):
    with pytest.raises(exc) as info:
        trigger()
    assert type(info.value) is exc, f"{type(info.value).__name__}: {info.value}"
    assert re.search(pattern, str(info.value), re.S), \
        f"message does not name the problem:\n  {info.value}\n  expected /{pattern}/"


@pytest.mark.parametrize("name, trigger, exc, pattern", CATALOGUE,
                         ids=[row[0] for row in CATALOGUE])
def test_misuse(name, trigger, exc, pattern):
    _check_row(trigger, exc, pattern)


def test_catalogue_size():
    assert len(CATALOGUE) >= 60
    assert len({row[0] for row in CATALOGUE}) == len(CATALOGUE), "duplicate row names"


# ------------------------------------------------------------------ what the checks allow

def test_debug_nans_as_a_decorator():
    @cr.debug_nans
    def bare(x):
        return cnp.log(x)

    @cr.debug_nans()
    def called(x):
        return cnp.log(x)

    @cr.debug_nans(False)
    def off(x):
        return cnp.log(x)

    for f in (bare, called):
        assert f.__name__ in ("bare", "called")
        np.testing.assert_allclose(f(2.0), np.log(2.0))
        with np.errstate(invalid="ignore"):
            with pytest.raises(FloatingPointError, match=r"debug_nans: primitive 'log' "
                                                         r"produced NaN"):
                f(-1.0)
            with pytest.raises(FloatingPointError, match="log"):
                cr.grad(f)(-1.0)
    with np.errstate(invalid="ignore"):
        assert np.isnan(off(-1.0))
    # the checks end with the call
    with np.errstate(invalid="ignore"):
        assert np.isnan(cnp.log(-1.0))


def test_jvp_closes_over_integer_arguments():
    out, t = cr.jvp(lambda x: x ** 3, (2.0,), (1.0,))
    assert (out, t) == (8.0, 12.0)
    n = 3
    out, t = cr.jvp(lambda x: x ** n, (2.0,), (1.0,))
    assert t == 12.0


def test_jit_static_argument_left_to_its_default_and_by_name():
    def f(x, n=2, scale=1.0):
        return x * n * scale if n > 1 else x
    j = cr.jit(f, static_argnums=1)
    np.testing.assert_allclose(j(X), X * 2)          # n not passed: its default
    np.testing.assert_allclose(j(X, 3), X * 3)
    np.testing.assert_allclose(j(X, n=4), X * 4)     # static by name too (as JAX)
    k = cr.jit(f, static_argnames="n")
    np.testing.assert_allclose(k(X, 5), X * 5)       # static by position too
    assert k.cache_info().misses == 1
    g = cr.jit(lambda *a: a[0] * 2.0, static_argnums=3)   # *args: no signature check
    np.testing.assert_allclose(g(X), X * 2)


def test_custom_vjp_rules_that_are_right_still_work():
    @cr.custom_vjp
    def f(x, d):
        return cnp.sin(x) * d["s"]

    f.defvjp(lambda x, d: (f(x, d), (x, d)),
             lambda r, g: (g * cnp.cos(r[0]) * r[1]["s"], {"s": cnp.sum(g * cnp.sin(r[0]))}))
    gx, gd = cr.grad(lambda x, d: cnp.sum(f(x, d)), argnums=(0, 1))(X, {"s": 2.0})
    np.testing.assert_allclose(gx, 2.0 * np.cos(X))
    np.testing.assert_allclose(gd["s"], np.sum(np.sin(X)))
    # None: no derivative for that argument; real cotangents for complex arguments
    g = cr.custom_vjp(lambda x, y: x * y)
    g.defvjp(lambda x, y: (x * y, (x, y)), lambda r, ct: (ct * r[1], None))
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(g(x, X)))(X), X)


def test_optimisers_accept_traced_hyperparameters_and_scalar_parameters():
    # a learning rate that is differentiated (hypergradients) passes the checks
    def after_step(lr):
        opt = optim.sgd(lr, momentum=0.9)
        p = {"w": X}
        u, _ = opt.update({"w": 2.0 * X}, opt.init(p))
        return cnp.sum(optim.apply_updates(p, u)["w"])
    np.testing.assert_allclose(cr.grad(after_step)(0.1), -2.0 * np.sum(X))
    opt = optim.adam(np.float64(0.1))
    u, _ = opt.update(1.0, opt.init(0.5))                # a scalar parameter
    assert np.shape(u) == ()
