"""Random compositions of NumPy and SciPy functions (tests/composition_programs.py),
each checked like the aliasing programs (tests/program_checks.py: values under vjp,
jvp, jit's two calls and vmap; grad, jit(grad), jvp and vjp against central finite
differences of the NumPy program; checkpoint and Hessian-vector products on some), and
each gradient function called three more times, so that the compiled backward pass
of a recurring tape is checked against the eager one.
``PROGRAMS`` programs in ``CHUNKS`` chunks; a failure names the seed and prints the
program."""
import numpy as np
import pytest

from composition_programs import generate, NAMESPACE
from program_checks import check

PROGRAMS = 1500
CHUNKS = 15


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_compositions(chunk):
    per = PROGRAMS // CHUNKS
    for seed in range(chunk * per, (chunk + 1) * per):
        p = generate(seed)
        check(p, p.input, namespace=NAMESPACE, repeat=True)


@pytest.mark.parametrize("chunk", range(4))
def test_random_compositions_on_the_lazy_paths(chunk, monkeypatch):
    """With the size threshold at 1 every tangent and cotangent takes a pending scale
    factor (and vmap's batches too): a constant cotangent with one once reached jit's
    generated code as an object NumPy could not use."""
    from chainrule._src import core
    monkeypatch.setattr(core, "LAZY_SIZE", 1)
    monkeypatch.setattr(core, "DEFER_SIZE", 1)
    for seed in range(20000 + chunk * 100, 20000 + (chunk + 1) * 100):
        p = generate(seed)
        check(p, p.input, namespace=NAMESPACE)


def test_compositions_use_every_family():
    text = "\n".join(generate(s).source for s in range(400))
    for needle in ["np.sin(", "np.maximum(", "np.sum(", "np.max(", "np.std(", "np.cumsum(",
                   "np.sort(", "np.linalg.solve(", "np.linalg.cholesky(", "np.einsum(",
                   "np.concatenate(", "np.pad(", "csp.linalg.expm(", "sp.special.",
                   "np.where(", "np.take(", " @ ", "np.linalg.svd(", "np.linalg.norm("]:
        assert needle in text, needle
    assert np.mean([len(generate(s).lines) for s in range(50)]) > 4
