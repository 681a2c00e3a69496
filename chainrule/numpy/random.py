"""chainrule.numpy.random: NumPy's own random module (random numbers carry no
derivative; ``default_rng``, ``seed``, ``normal``, ... are NumPy's objects)."""
from numpy.random import *  # noqa: F401,F403
from numpy.random import default_rng, Generator, RandomState, seed  # noqa: F401
