"""debug_nans: the first primitive that creates a NaN is named, with the user's file and
line; NaNs that only appear in a derivative are named too, with the line of the forward
call. No false alarms for NaN inputs, safe derivatives, or outside the context."""
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

THIS_FILE = os.path.basename(__file__)


@pytest.fixture(autouse=True)
def _quiet_numpy():
    """NumPy's own 'invalid value in log' warnings are expected here."""
    with np.errstate(invalid="ignore", divide="ignore"):
        yield


def _line_of(marker):
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line and "_site(" not in line:
                return i
    raise AssertionError(marker)


def _site(marker):
    return rf"{THIS_FILE}:{_line_of(marker)}\b"


def f_log(x):
    return cnp.sum(cnp.sin(cnp.log(x)))      # MARK-log


def test_forward_nan_outside_transformations():
    with cr.debug_nans():
        with pytest.raises(FloatingPointError, match=r"'log'.*" + _site("MARK-plain")):
            cnp.log(-1.0)                     # MARK-plain


@pytest.mark.parametrize("transform", [
    lambda f, x: cr.grad(f)(x),
    lambda f, x: cr.jvp(f, (x,), (np.ones_like(x),)),
    lambda f, x: cr.vjp(f, x),
    lambda f, x: cr.jacfwd(f)(x),
    lambda f, x: cr.hessian(f)(x),
], ids=["grad", "jvp", "vjp", "jacfwd", "hessian"])
def test_forward_nan_under_transformation_names_primitive_and_user_line(transform):
    x = np.array([1.0, -1.0])
    with cr.debug_nans():
        with pytest.raises(FloatingPointError, match=r"primitive 'log'.*" + _site("MARK-log")):
            transform(f_log, x)


def test_only_the_primitive_that_creates_the_nan_is_named():
    # sin(nan) is nan too, but the culprit is log
    with cr.debug_nans():
        with pytest.raises(FloatingPointError, match="'log'") as info:
            cr.grad(f_log)(np.array([-1.0]))
    assert "'sin'" not in str(info.value)


def test_nan_inputs_are_not_reported():
    with cr.debug_nans():
        out = cr.grad(lambda x: cnp.sum(x * 2.0))(np.array([np.nan, 1.0]))
    np.testing.assert_array_equal(out, [2.0, 2.0])


def test_no_false_alarm_for_safe_derivatives():
    with cr.debug_nans(), np.errstate(all="ignore"):
        assert cr.grad(lambda x: cnp.where(x > 0, cnp.sqrt(x), 0.0))(0.0) == 0.0
        assert cr.grad(lambda x: cnp.sqrt(x) * 0.0)(0.0) == 0.0


def test_no_checks_outside_the_context_or_when_disabled():
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.debug_nans():
            pass
        assert np.isnan(cnp.log(-1.0))
        with cr.debug_nans(enabled=False):
            assert np.isnan(cr.value_and_grad(lambda x: cnp.log(x))(-1.0)[0])


def test_context_restored_after_error():
    with pytest.raises(FloatingPointError):
        with cr.debug_nans():
            cr.grad(f_log)(np.array([-1.0]))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(cr.value_and_grad(lambda x: cnp.log(x))(-1.0)[0])


def test_debug_nans_inside_transformed_function():
    def f(x):
        with cr.debug_nans():
            return cnp.log(x)                # MARK-inside
    with pytest.raises(FloatingPointError, match=r"'log'.*" + _site("MARK-inside")):
        cr.grad(f)(-1.0)


# ------------------------------------------------------------------ NaN only in the derivative

def f_sqrt_abs(x):
    return cnp.sum(cnp.abs(x) ** 0.5)        # MARK-deriv


def f_sqrt_sq(x):
    return cnp.sqrt(x) * cnp.sqrt(x)         # MARK-jvp


def test_derivative_only_nan_cases_are_really_derivative_only():
    x = np.array([0.0, 1.0])
    with np.errstate(all="ignore"):
        assert not np.isnan(f_sqrt_abs(x))
        assert np.isnan(cr.grad(f_sqrt_abs)(x)[0])
        assert not np.isnan(f_sqrt_sq(0.0))
        assert np.isnan(cr.jvp(f_sqrt_sq, (0.0,), (1.0,))[1])




def test_nan_in_reverse_derivative_names_primitive_and_forward_line():
    with cr.debug_nans(), np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError,
                           match=r"(?s)derivative.*'(absolute|power)'.*" + _site("MARK-deriv")):
            cr.grad(f_sqrt_abs)(np.array([0.0, 1.0]))


def test_nan_in_forward_derivative_names_primitive_and_line():
    with cr.debug_nans(), np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError,
                           match=r"(?s)'(multiply|sqrt)'.*" + _site("MARK-jvp")):
            cr.jvp(f_sqrt_sq, (0.0,), (1.0,))


def test_nan_in_second_order_derivative_is_reported():
    # at second order the backward pass runs on tracers, so the check sees it
    def f(x):
        return cnp.sum(cnp.abs(x) ** 1.5)    # MARK-second
    with cr.debug_nans(), np.errstate(all="ignore"):
        try:
            h = cr.hessian(f)(np.array([0.0, 1.0]))
        except FloatingPointError as e:
            assert THIS_FILE in str(e)
        else:
            assert not np.isnan(h).any(), "NaN Hessian without a debug_nans report"


def test_config_flag_turns_nan_checks_on_and_off():
    import chainrule as cr
    import chainrule.numpy as cnp
    assert cr.config.debug_nans is False
    cr.config.update("debug_nans", True)
    try:
        with np.errstate(all="ignore"):
            with pytest.raises(FloatingPointError, match="'log'"):
                cr.grad(lambda x: cnp.log(x - 2.0))(1.0)
            with pytest.raises(FloatingPointError, match="'sqrt'"):
                cnp.sqrt(-1.0)                        # outside transformations too
    finally:
        cr.config.debug_nans = False
    with np.errstate(all="ignore"):
        assert np.isnan(cnp.sqrt(-1.0))
    with pytest.raises(AttributeError, match="no option"):
        cr.config.update("debug_infs", True)


def _layer(z):
    return cnp.tanh(z) * 2.0 + 1.0


def f_sqrt_abs_then_checkpoint(x):
    y = cnp.abs(x) ** 0.5                   # MARK-deriv-ck
    z = y * 1.0
    z = z * 1.0
    return cnp.sum(cr.checkpoint(_layer)(z))


def test_nan_site_is_right_when_a_checkpoint_follows():
    # the checkpointed layer records (and recomputes) on side tapes: sites are keyed by
    # the entry, not its position on a tape
    with cr.debug_nans(), np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError,
                           match=r"(?s)derivative.*'(absolute|power)'.*" +
                           _site("MARK-deriv-ck")):
            cr.grad(f_sqrt_abs_then_checkpoint)(np.array([0.0, 1.0]))
