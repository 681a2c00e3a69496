"""Regression tests from a hunt for silent wrong answers in indexing, views, copies and
in-place writes. Each program is plain NumPy; chainrule must give NumPy's values (and
finite differences' derivatives) under every transformation, or raise a clear error.

Most are about memory layout: whether ``reshape``/``ravel`` returns a view is NumPy's
decision on the array's memory layout, so a traced array must be laid out as NumPy's
(a write never moves an array's elements; NumPy's ``take`` allocates in C order, ``pad``
and ``insert`` in their argument's order, ``roll`` as ``empty_like``)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

H = 1e-6
X = np.random.default_rng(0).uniform(-1.0, 1.0, (3, 4))


def _numpy(prog, x):
    return [np.asarray(o) for o in prog(x.copy())]


def check_program(prog, x=X, vmap=True):
    """Values under vjp, jvp, jit (three calls) and vmap (in_axes 0 and 1, or a clear
    refusal) against NumPy; grad and jvp against central differences."""
    ref = _numpy(prog, x)
    rng = np.random.default_rng(1)
    u = rng.standard_normal(x.shape)
    ws = [rng.standard_normal(np.shape(o)) for o in ref]

    def same(got, want):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=1e-12)

    vals, _ = cr.vjp(prog, x)
    same(vals, ref)
    vals, tans = cr.jvp(prog, (x,), (u,))
    same(vals, ref)
    fd = [(a - b) / (2 * H) for a, b in zip(_numpy(prog, x + H * u), _numpy(prog, x - H * u))]
    for t, d in zip(tans, fd):
        np.testing.assert_allclose(np.asarray(t), d, rtol=1e-5, atol=1e-5)

    def loss(z):
        return sum(cnp.sum(o * w) for o, w in zip(prog(z), ws))

    def loss_np(z):
        return sum(float(np.sum(o * w)) for o, w in zip(_numpy(prog, z), ws))
    g = cr.grad(loss)(x)
    want = (loss_np(x + H * u) - loss_np(x - H * u)) / (2 * H)
    assert abs(float(np.sum(g * u)) - want) < 1e-5 * (1 + abs(want))
    jitted = cr.jit(prog)
    for k in range(3):
        xk = x + 0.01 * k * u
        same(jitted(xk.copy()), _numpy(prog, xk))
    if not vmap:
        return
    for axis in (0, 1):
        xs = np.stack([x, x + 0.1 * u, x - 0.05 * u], axis=axis)
        try:
            b = cr.vmap(prog, in_axes=axis)(xs)
        except NotImplementedError as e:      # a documented refusal, never a wrong value
            assert "made by reshape or ravel under vmap" in str(e)
            continue
        for k in range(len(ref)):
            loop = np.stack([_numpy(prog, np.take(xs, i, axis=axis))[k] for i in range(3)])
            np.testing.assert_allclose(np.asarray(b[k]), loop, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------- writes keep the layout

def test_write_through_a_view_keeps_an_f_ordered_base_f_ordered():
    def prog(x):
        a = x.T * 1.0             # F-ordered: its ravel is a copy
        a[0][1] = 5.0             # a write through a view of a
        r = a.reshape(-1)
        r[0] = 9.0                # must not reach a
        return (a, r)
    check_program(prog)


def test_write_through_a_slice_keeps_the_layout():
    def prog(x):
        a = x.T * 1.0
        v = a[:, 1:]
        v[0] = 3.0
        r = a.ravel()
        r[1] = 9.0
        return (a, r, v)
    check_program(prog)


def test_put_into_an_f_ordered_array_keeps_its_layout():
    def prog(x):
        a = x.T * 1.0
        np.put(a, [0, 1], np.sin(x[0, :2]))
        r = a.reshape(-1)
        r[1] = 9.0
        return (a, r)
    check_program(prog)


def test_out_of_a_transposed_result_keeps_the_c_order_of_out():
    def prog(x):
        a = np.zeros((4, 3)) + x[0, 0]
        np.sin(x.T, out=a)        # a stays C-ordered: its ravel is a view
        r = a.ravel()
        r[1] = 9.0
        return (a, r)
    check_program(prog)


def test_clip_out_keeps_the_c_order_of_out():
    def prog(x):
        a = np.zeros((4, 3)) + x[0, 0]
        np.clip(x.T, -0.5, 0.5, out=a)
        r = a.ravel()
        r[1] = 9.0
        return (a, r)
    check_program(prog)


def test_augmented_assignment_keeps_an_f_ordered_target_f_ordered():
    def prog(x):
        a = x.T * 1.0
        a += np.sin(x).T.copy()   # a C-ordered operand
        r = a.ravel()
        r[0] = 9.0
        return (a, r)
    check_program(prog)


def test_sort_in_place_keeps_the_layout():
    def prog(x):
        a = x.T * 1.0
        a.sort(axis=0)
        r = a.reshape(-1)
        r[1] = 9.0
        return (a, r)
    check_program(prog)


# --------------------------------------------------------- vmap: one example's layout

def test_vmap_with_the_batch_axis_inside_reads_a_dense_example():
    """With in_axes=1 one example of ``x.T * 1.0`` lies in memory with gaps: NumPy's
    own (F-ordered, dense) array has a view as ``reshape(-1, order='F')``."""
    def prog(x):
        a = x.T * 1.0
        r = a.reshape(-1, order="F")
        r[0] = 9.0
        return (a, r)
    check_program(prog)


# --------------------------------------------------------- functions allocate as NumPy

def test_take_along_a_later_axis_is_c_ordered():
    def prog(x):
        a = np.take(x, [2, 0, 1], axis=1)
        r = a.reshape(-1)         # a view in NumPy: np.take allocates in C order
        r[0] = 9.0
        return (a, r)
    check_program(prog)


def test_compress_along_a_later_axis_is_c_ordered():
    def prog(x):
        a = np.compress([True, False, True, True], x, axis=1)
        r = a.reshape(-1)
        r[0] = 9.0
        return (a, r)
    check_program(prog)


def test_pad_of_an_f_ordered_array_is_f_ordered():
    def prog(x):
        a = np.pad(x.T * 1.0, ((1, 2), (0, 1)), constant_values=2.0)
        # NumPy: F order for an F-ordered argument
        r = a.reshape(-1)
        r[0] = 9.0
        return (a, r)
    check_program(prog)


@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap"])
def test_pad_of_a_c_ordered_array_is_c_ordered(mode):
    def prog(x):
        a = np.pad(x * 1.0, ((4, 3), (1, 9)), mode=mode)
        r = a.reshape(-1)
        r[0] = 9.0
        return (a, r)
    check_program(prog)


def test_insert_into_an_f_ordered_array_is_f_ordered():
    def prog(x):
        a = np.insert(x.T * 1.0, [1, 2], np.sin(x[0, :2]), axis=1)
        r = a.reshape(-1)
        r[0] = 9.0
        return (a, r)
    check_program(prog)


def test_roll_of_an_f_ordered_array_keeps_its_order():
    def prog(x):
        a = np.roll(np.sin(x.reshape(3, 2, 2).T), 1, axis=1)
        # NumPy's roll allocates with np.empty_like(a): a's order
        r = a.reshape(-1)
        r[0] = 9.0
        return (a, r)
    check_program(prog)
