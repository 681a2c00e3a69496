"""The differential test of aliasing: random NumPy programs mixing views, copies and
in-place writes (tests/aliasing_programs.py), each checked under chainrule against
NumPy's own values and central finite differences of the NumPy program.

For every program: the values of every array it made (reverse and forward mode, ``jit``'s
tracing and compiled calls and, for a batch of inputs, ``vmap`` against a loop); the
gradient of a weighted sum of them (``grad``, and ``jit(grad)``'s two calls), the tangent
of every output (``jvp``) and the cotangent pulled back (``vjp``), each against finite
differences along a random direction; for every fifth program grad through checkpoint,
jit(vmap) and vmap(vmap); for every tenth a Hessian-vector product (forward over reverse)
against differences of gradients.
``PROGRAMS`` programs in ``CHUNKS`` chunks (a failure names the seed and prints the
program).
"""
import numpy as np
import pytest


from aliasing_programs import generate
from program_checks import check

PROGRAMS = 2000
CHUNKS = 40


def check_program(seed, lazy=False):
    p = generate(seed)
    # every fourth: repeated gradient calls and compiled code at another input too
    check(p, generate_input(p), lazy=lazy, repeat=seed % 4 == 0)


def generate_input(p):
    return np.random.default_rng(p.seed).uniform(-1.0, 1.0, p.shape)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_programs(chunk):
    per = PROGRAMS // CHUNKS
    for seed in range(chunk * per, (chunk + 1) * per):
        check_program(seed)


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_on_the_lazy_paths(chunk, monkeypatch):
    """Large arrays take pending scale factors and deferred evaluation in reverse mode;
    with the size thresholds at 1 every value does."""
    from chainrule._src import core
    monkeypatch.setattr(core, "LAZY_SIZE", 1)
    monkeypatch.setattr(core, "DEFER_SIZE", 1)
    for seed in range(5000 + chunk * 100, 5000 + (chunk + 1) * 100):
        check_program(seed, lazy=True)


def test_programs_exercise_every_kind_of_statement():
    """The generator makes what it claims: views, copies and writes of every kind."""
    text = "\n".join(generate(s).source for s in range(300))
    for needle in [".T", "[::-1]", ".reshape(", ".ravel()", "[...]", ".view()",
                   "np.swapaxes", "np.moveaxis", "np.expand_dims", "np.diagonal",
                   "np.broadcast_to", ".copy()", "np.copy(", ".astype(", ".flatten()",
                   "+=", "*=", "-=", "/=", "out=", "np.add.at", "np.multiply.at", "> ",
                   ".fill(", ".sort(", "np.split(", "np.copyto(", "np.put(",
                   "np.putmask(", "np.fill_diagonal(", "np.clip("]:
        assert needle in text, needle
