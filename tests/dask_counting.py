"""A Dask callback that counts the computations started while it is active (the Dask
tests assert that transformations compute nothing, and what an optimiser computes)."""
from dask.callbacks import Callback


class Computations(Callback):
    """``with Computations() as c: ...``; then ``c.count`` computations ran."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1
