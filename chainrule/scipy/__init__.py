"""chainrule.scipy: differentiable SciPy functions (special, stats, linalg, signal)."""
