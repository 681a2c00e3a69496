"""Misuse gets a clear error of the right type whose message says what went wrong and,
where possible, what to write instead. Never a silently dropped derivative."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.core import Primitive

X = np.array([1.0, 2.0, 3.0])


# ------------------------------------------------------------------ grad's output

def test_grad_of_vector_output():
    with pytest.raises(TypeError, match=r"scalar output.*shape \(3,\).*(jacrev|jacobian|vjp)"):
        cr.grad(lambda x: x * 2.0)(X)


def test_grad_of_matrix_output_with_one_row():
    with pytest.raises(TypeError, match=r"shape \(1, 2\)"):
        cr.grad(lambda x: cnp.reshape(x[:2], (1, 2)))(X)


def test_grad_of_boolean_output():
    with pytest.raises(TypeError, match="float"):
        cr.grad(lambda x: x > 0)(1.0)


def test_grad_of_tuple_output():
    with pytest.raises(TypeError, match="single"):
        cr.grad(lambda x: (cnp.sum(x), cnp.sum(x)))(X)


# ------------------------------------------------------------------ grad's inputs

@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad, cr.jacfwd, cr.jacrev,
                                       cr.hessian])
def test_differentiating_integer_array(transform):
    with pytest.raises(TypeError, match=r"int64.*float"):
        transform(lambda x: cnp.sum(x * 1.0))(np.arange(3))


def test_differentiating_boolean_array():
    with pytest.raises(TypeError, match="bool"):
        cr.grad(lambda x: cnp.sum(x * 1.0))(np.array([True, False]))


def test_differentiating_python_int():
    with pytest.raises(TypeError, match=r"int.*1\.0"):
        cr.grad(lambda x: x * 2.0)(3)


def test_differentiating_pytree_with_an_integer_leaf_names_the_argument():
    with pytest.raises(TypeError, match=r"argument 1.*int"):
        cr.grad(lambda a, d: a * d["n"], argnums=(0, 1))(1.0, {"n": 2})


def test_non_differentiated_integer_argument_is_fine():
    # integers are only an error when differentiated
    assert cr.grad(lambda x, n: x ** n)(2.0, 3) == 12.0


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_out_of_range(argnums):
    with pytest.raises(ValueError, match=r"argnums.*out of range.*2 positional"):
        cr.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_argnums_out_of_range_jacobians():
    with pytest.raises(ValueError, match="out of range"):
        cr.jacfwd(lambda x: x, argnums=1)(X)
    with pytest.raises(ValueError, match="out of range"):
        cr.jacrev(lambda x: x, argnums=1)(X)


def test_has_aux_function_not_returning_a_pair():
    with pytest.raises(TypeError, match=r"has_aux=True.*pair"):
        cr.grad(lambda x: x * 2.0, has_aux=True)(1.0)
    with pytest.raises(TypeError, match=r"has_aux=True.*pair"):
        cr.grad(lambda x: (x, x, x), has_aux=True)(1.0)
    with pytest.raises(TypeError, match=r"has_aux=True.*pair"):
        cr.jacrev(lambda x: x, has_aux=True)(X)


# ------------------------------------------------------------------ jvp / vjp arguments

def test_jvp_tangent_shape_mismatch():
    with pytest.raises(ValueError, match=r"tangent of shape \(2,\).*primal of shape \(3,\)"):
        cr.jvp(lambda x: x * 2.0, (X,), (np.ones(2),))


def test_jvp_tangent_integer_dtype():
    with pytest.raises(TypeError, match=r"int64.*float64"):
        cr.jvp(lambda x: x * 2.0, (X,), (np.ones(3, int),))


def test_jvp_complex_tangent_for_real_primal():
    with pytest.raises(TypeError, match=r"complex128.*float64|float64.*complex128"):
        cr.jvp(lambda x: x * 2.0, (X,), (X * 1j,))


def test_jvp_tangent_structure_mismatch():
    with pytest.raises(ValueError, match="structure"):
        cr.jvp(lambda p: p[0] * p[1], ((1.0, 2.0),), ((1.0,),))
    with pytest.raises(ValueError, match="structure"):
        cr.jvp(lambda d: d["a"], ({"a": 1.0},), ({"b": 1.0},))


def test_jvp_wrong_number_of_tangents():
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        cr.jvp(lambda x: x, (1.0,), (1.0, 2.0))


def test_jvp_primals_not_a_tuple():
    with pytest.raises(TypeError, match=r"tuples or lists.*jvp\(f, \(x,\), \(v,\)\)"):
        cr.jvp(lambda x: x, 1.0, 1.0)


def test_vjp_fun_wrong_cotangent_shape():
    _, vjp_fun = cr.vjp(lambda x: x * 2.0, X)
    with pytest.raises(ValueError, match=r"cotangent of shape \(2,\).*output of shape \(3,\)"):
        vjp_fun(np.ones(2))
    # and it still works afterwards
    np.testing.assert_allclose(vjp_fun(np.ones(3))[0], 2.0)


def test_vjp_fun_wrong_cotangent_structure():
    _, vjp_fun = cr.vjp(lambda x: (x, x), 1.0)
    with pytest.raises(ValueError, match="structure"):
        vjp_fun(1.0)


# ------------------------------------------------------------------ leaked tracers

def _leak():
    store = []
    cr.grad(lambda x: (store.append(x), cnp.sum(x))[1])(X)
    return store[0]


@pytest.mark.parametrize("use", [
    lambda t: t + 1.0,
    lambda t: cnp.sin(t),
    lambda t: np.sin(t),
    lambda t: t.sum(),
    lambda t: t.reshape(3, 1),
    lambda t: t @ t,
    lambda t: bool(cnp.sum(t) > 0),
], ids=["add", "cnp.sin", "np.sin", "sum", "reshape", "matmul", "bool"])
def test_leaked_tracer_used_later(use):
    leaked = _leak()
    with pytest.raises(cr.LeakedTracerError, match="outside the transformation that created it"):
        use(leaked)


@pytest.mark.parametrize("use", [lambda t: t[0], lambda t: list(t)], ids=["index", "iter"])
def test_leaked_tracer_indexed_later(use):
    leaked = _leak()
    with pytest.raises(cr.LeakedTracerError):
        use(leaked)


def test_leaked_tracer_used_inside_another_transformation():
    leaked = _leak()
    with pytest.raises(cr.LeakedTracerError):
        cr.grad(lambda y: cnp.sum(y * leaked))(X)
    with pytest.raises(cr.LeakedTracerError):
        cr.jvp(lambda y: y * leaked, (X,), (X,))


def test_inner_tracer_leaked_into_outer_transformation():
    store = []

    def f(x):
        cr.grad(lambda y: (store.append(y), y * x)[1])(1.0)
        return store[0] * x

    with pytest.raises(cr.LeakedTracerError):
        cr.grad(f)(2.0)


def test_leaked_tracer_is_a_runtime_error():
    assert issubclass(cr.LeakedTracerError, RuntimeError)


# ------------------------------------------------------------------ missing rules

class _OnlyImpl(Primitive):
    def impl(self, x):
        return x ** 3


only_impl_p = _OnlyImpl("my_cube_without_rules")


def test_missing_rule_outside_transformations_is_fine():
    assert only_impl_p.bind(2.0) == 8.0


def test_missing_vjp_rule_names_primitive_and_mode():
    with pytest.raises(NotImplementedError,
                       match=r"vjp of 'my_cube_without_rules'.*reverse mode"):
        cr.grad(lambda x: only_impl_p.bind(x))(2.0)


@pytest.mark.parametrize("run", [
    lambda f: cr.jvp(f, (2.0,), (1.0,)),
    lambda f: cr.jacfwd(f)(2.0),
], ids=["jvp", "jacfwd"])
def test_missing_jvp_rule_names_primitive_and_mode(run):
    with pytest.raises(NotImplementedError,
                       match=r"jvp of 'my_cube_without_rules'.*forward mode"):
        run(lambda x: only_impl_p.bind(x))


def _unimplemented_numpy_functions():
    """NumPy functions chainrule has no differentiable version of (cnp exposes NumPy's
    own object for those). Several candidates, as other families keep growing."""
    names = ["busday_count", "histogram_bin_edges", "apply_along_axis", "piecewise",
             "polyfit", "unwrap", "i0", "sinc", "nan_to_num", "trapezoid", "gradient"]
    out = [n for n in names if hasattr(np, n) and getattr(cnp, n) is getattr(np, n)]
    return out


def test_unimplemented_numpy_function_on_traced_value_names_it():
    names = [n for n in _unimplemented_numpy_functions() if n != "busday_count"]
    assert names, "every candidate is implemented: pick new candidates"
    for name in names:
        fn = getattr(np, name)
        call = {"apply_along_axis": lambda x: fn(np.sum, 0, x),
                "piecewise": lambda x: fn(x, [x > 2], [1.0, 0.0]),
                "polyfit": lambda x: fn(x, x, 1),
                "histogram_bin_edges": lambda x: fn(x)}.get(name, fn)
        with pytest.raises(NotImplementedError, match=rf"numpy\.{name}\b.*chainrule"):
            cr.grad(lambda x: cnp.sum(call(x)))(X)
        # the same through chainrule.numpy's attribute
        with pytest.raises(NotImplementedError, match=rf"numpy\.{name}\b"):
            cr.grad(lambda x: cnp.sum(getattr(cnp, name)(x) if name not in (
                "apply_along_axis", "piecewise", "polyfit") else call(x)))(X)


def test_unimplemented_ufunc_on_traced_value_names_it():
    # a ufunc chainrule has no rule for, if any is left; np.frexp has two outputs
    ufuncs = [u for u in (np.frexp, np.spacing, np.nextafter, np.ldexp, np.modf)
              if u not in __import__("chainrule._src.numpy.dispatch",
                                     fromlist=["HANDLED_UFUNCS"]).HANDLED_UFUNCS]
    assert ufuncs, "every candidate is implemented: pick new candidates"
    u = ufuncs[0]
    args = (lambda x: (x,)) if u.nin == 1 else (lambda x: (x, x))
    with pytest.raises(NotImplementedError, match=rf"numpy\.{u.__name__}"):
        cr.grad(lambda x: cnp.sum(u(*args(x))[0] if u.nout > 1 else u(*args(x))))(X)


# ------------------------------------------------------------------ conversions that would drop derivatives

SUGGESTION = r"(?s)(chainrule|cnp).*stop_gradient"


@pytest.mark.parametrize("convert", [float, int, complex, math.sin,
                                     lambda t: t.item(), lambda t: np.float64(t)],
                         ids=["float", "int", "complex", "math.sin", "item", "np.float64"])
def test_converting_traced_scalar_to_python_number(convert):
    with pytest.raises(TypeError, match=SUGGESTION):
        cr.grad(lambda x: x * convert(x))(1.5)


@pytest.mark.parametrize("convert", [np.asarray, np.array,
                                     lambda t: np.array([t[0], t[1]])],
                         ids=["asarray", "array", "array-of-list"])
def test_converting_traced_array_to_ndarray(convert):
    with pytest.raises(TypeError, match=r"(?s)NumPy array.*cnp\.stack.*stop_gradient"):
        cr.grad(lambda x: cnp.sum(convert(x) * x))(X)


def test_conversion_errors_under_forward_mode_too():
    with pytest.raises(TypeError, match=SUGGESTION):
        cr.jvp(lambda x: float(x) * x, (1.0,), (1.0,))
    with pytest.raises(TypeError, match=SUGGESTION):
        cr.jacfwd(lambda x: np.asarray(x) * x)(X)


def test_writing_traced_slice_into_ndarray_buffer():
    def f(x):
        buf = np.zeros(3)
        buf[:] = x
        return cnp.sum(buf)
    with pytest.raises(TypeError, match=r"(?s)buf\[i\] = x.*cnp\.stack|cnp\.stack.*buf\[i\]"):
        cr.grad(f)(X)


@pytest.mark.parametrize("value", ["scalar-arg", "element"])
def test_writing_traced_element_into_ndarray_buffer(value):
    def f(x):
        buf = np.zeros(3)
        if value == "scalar-arg":
            buf[0] = x
        else:
            buf[1] = x[0] * 2.0
        return cnp.sum(buf * x)
    arg = 1.5 if value == "scalar-arg" else X
    with pytest.raises(TypeError, match=r"(?s)cnp\.stack.*at\[i\]\.set"):
        cr.grad(f)(arg)


def test_writing_traced_element_into_ndarray_buffer_never_drops_derivative():
    # whatever the error type, it must not silently succeed
    def f(x):
        buf = np.zeros(3)
        buf[0] = x
        return cnp.sum(buf)
    with pytest.raises((TypeError, ValueError)):
        cr.grad(f)(1.5)
    with pytest.raises((TypeError, ValueError)):
        cr.jvp(f, (1.5,), (1.0,))


def test_python_control_flow_on_concrete_traced_values_is_allowed():
    # bool() is allowed (chainrule traces by running Python), and gives the right branch
    def f(x):
        if x > 0:
            return x ** 2
        return -x
    assert cr.grad(f)(3.0) == 6.0
    assert cr.grad(f)(-3.0) == -1.0


def test_custom_vjp_under_forward_mode_is_a_clear_type_error():
    @cr.custom_vjp
    def f(x):
        return cnp.sin(x)
    f.defvjp(lambda x: (cnp.sin(x), cnp.cos(x)), lambda c, g: (c * g,))
    with pytest.raises(TypeError, match=r"forward-mode.*custom_vjp.*custom_jvp"):
        cr.jvp(f, (1.0,), (1.0,))
    with pytest.raises(TypeError, match="custom_jvp"):
        cr.jacfwd(f)(1.0)
    # forward-over-reverse differentiates the (differentiable) bwd rule instead
    np.testing.assert_allclose(cr.hessian(f)(1.0), -np.sin(1.0))


def test_custom_jvp_without_rule():
    @cr.custom_jvp
    def f(x):
        return x
    with pytest.raises(AttributeError, match="defjvp"):
        cr.grad(f)(1.0)


def test_tracers_print_their_kind_and_value():
    """print(x) inside a transformation shows the value (as PyTorch does), and what kind
    of traced value it is; under vmap the whole batch, with the per-example shape."""
    seen = []

    def f(x):
        seen.append(repr(cnp.sin(x)))
        return cnp.sum(x)
    cr.grad(f)(np.zeros(3))
    cr.jit(f)(np.zeros(3))
    cr.vmap(lambda r: seen.append(str(r)) or r)(np.ones((2, 3)))
    assert seen[0] == "<ReverseTracer (reverse-mode value): array([0., 0., 0.])>"
    assert seen[1] == "<StagingTracer (jit/make_graph value): array([0., 0., 0.])>"
    assert "a batch of 2 along axis 0 of shape (3,), dtype float64" in seen[2]
    assert "array([[1., 1., 1.]," in seen[2]
    jf = cr.jit(f)                      # printing reads the value without a guard
    jf(np.zeros(3))
    jf(np.ones(3))
    assert jf.cache_info().misses == 1
