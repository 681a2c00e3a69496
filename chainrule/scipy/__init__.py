"""chainrule.scipy: differentiable SciPy functions (special, stats, linalg, signal, integrate),
with SciPy's names and signatures. Names without a differentiable version are
SciPy's own objects."""
from . import special, stats, linalg, signal, integrate  # noqa: F401
