"""Small 2-D toy data sets (scikit-learn's when it is installed, an identical NumPy
reimplementation otherwise)."""
import numbers

import numpy as np

__all__ = ["make_moons", "make_circles"]


def _check_random_state(seed):
    """scikit-learn's check_random_state, also accepting numpy Generators."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral):
        return np.random.RandomState(seed)
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a random state")


def _split(n_samples):
    if isinstance(n_samples, numbers.Integral):
        return n_samples // 2, n_samples - n_samples // 2
    n_out, n_in = n_samples
    return int(n_out), int(n_in)


def _finish(X, y, shuffle, noise, generator):
    if shuffle:
        idx = np.arange(X.shape[0])
        generator.shuffle(idx)
        X, y = X[idx], y[idx]
    if noise is not None:
        X = X + generator.normal(scale=noise, size=X.shape)
    return X, y


def _moons_numpy(n_samples=100, shuffle=True, noise=None, random_state=None):
    n_out, n_in = _split(n_samples)
    generator = _check_random_state(random_state)
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(X, y, shuffle, noise, generator)


def _circles_numpy(n_samples=100, shuffle=True, noise=None, random_state=None, factor=0.8):
    if not 0 <= factor < 1:
        raise ValueError("make_circles: factor must be in [0, 1)")
    n_out, n_in = _split(n_samples)
    generator = _check_random_state(random_state)
    lin_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    lin_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.append(np.cos(lin_out), np.cos(lin_in) * factor),
                   np.append(np.sin(lin_out), np.sin(lin_in) * factor)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(X, y, shuffle, noise, generator)


def _sklearn_datasets():
    try:
        import sklearn.datasets
    except ImportError:
        return None
    return sklearn.datasets


def make_moons(n_samples=100, *, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Uses ``sklearn.datasets.make_moons`` when scikit-learn is installed, otherwise a
    NumPy implementation of the same algorithm (identical output for the same integer
    ``random_state``): the upper moon ``(cos t, sin t)`` with label 0 and the lower
    moon ``(1 - cos t, 1/2 - sin t)`` with label 1, ``t`` evenly spaced in
    ``[0, pi]``, optionally shuffled, plus Gaussian noise of standard deviation
    ``noise``.

    Parameters
    ----------
    n_samples : int or (int, int), optional
        Total points, or points per moon (outer, inner).
    shuffle : bool, optional
    noise : float, optional
        Standard deviation of the Gaussian noise.
    random_state : int, numpy RandomState/Generator or None, optional

    Returns
    -------
    X : ndarray, shape (n_samples, 2), float64
    y : ndarray, shape (n_samples,), integer labels 0/1
    """
    ds = _sklearn_datasets()
    if ds is not None and not isinstance(random_state, np.random.Generator):
        return ds.make_moons(n_samples=n_samples, shuffle=shuffle, noise=noise,
                             random_state=random_state)
    return _moons_numpy(n_samples, shuffle, noise, random_state)


def make_circles(n_samples=100, *, shuffle=True, noise=None, random_state=None, factor=0.8):
    """A large circle containing a smaller one (scikit-learn's ``make_circles``).

    Uses scikit-learn when installed, else an identical NumPy implementation.

    Parameters
    ----------
    n_samples : int or (int, int), optional
    shuffle : bool, optional
    noise : float, optional
    random_state : int, numpy RandomState/Generator or None, optional
    factor : float, optional
        Radius of the inner circle relative to the outer one, in ``[0, 1)``.

    Returns
    -------
    X : ndarray, shape (n_samples, 2)
    y : ndarray, shape (n_samples,), 0 (outer) or 1 (inner)
    """
    ds = _sklearn_datasets()
    if ds is not None and not isinstance(random_state, np.random.Generator):
        return ds.make_circles(n_samples=n_samples, shuffle=shuffle, noise=noise,
                               random_state=random_state, factor=factor)
    return _circles_numpy(n_samples, shuffle, noise, random_state, factor)
