"""The training loop: :func:`fit`, its :class:`History`, early stopping and callbacks."""
import math
import sys
import time
from types import SimpleNamespace

import numpy as np

import chainrule as cr
from chainrule import tree_util
from chainrule import optim
from chainrule.optim._tree import _scalar

from .data import _length, batches, num_batches
from .initializers import as_rng
from .losses import accuracy

__all__ = ["fit", "History", "EarlyStopping", "Callback", "LambdaCallback",
           "per_example_grads", "accuracy_metric"]


class History:
    """What :func:`fit` recorded.

    Attributes
    ----------
    step_loss : list of float
        The mini-batch loss at every optimisation step (before the step's update).
    epoch : list of int
        Epoch numbers (1-based) at which the per-epoch records were taken.
    history : dict of str -> list of float
        Per-epoch records: ``"loss"`` (the epoch's step losses averaged with their
        batches' sizes as weights, ``sum(loss_b * n_b) / sum(n_b)``: the mean
        per-example loss for a mean-reduced loss; see :func:`fit` for
        ``reduction="sum"``), each
        metric name (on the training data), and ``"val_loss"``/``"val_<metric>"``
        with validation data. ``history["loss"]`` also works as ``history["loss"]``
        on the object itself.
    params : pytree
        The trained parameters (the best ones when early stopping restored them).
    opt_state : pytree
        The optimiser's final state.
    steps : int
        Optimisation steps taken.
    stopped_early : bool
        True when early stopping or a callback ended training.
    stop_reason : str
    best_epoch : int or None
        Epoch of the best monitored value (early stopping only).
    elapsed : float
        Wall-clock seconds.
    """

    def __init__(self):
        self.step_loss = []
        self.epoch = []
        self.history = {}
        self.params = None
        self.opt_state = None
        self.steps = 0
        self.stopped_early = False
        self.stop_reason = "finished"
        self.best_epoch = None
        self.elapsed = 0.0

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        """Names of the per-epoch records."""
        return self.history.keys()

    def record(self, epoch, logs):
        """Append one epoch's ``logs`` (a dict of floats)."""
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, [float("nan")] * (len(self.epoch) - 1)).append(float(v))
        for k, vals in self.history.items():
            if len(vals) < len(self.epoch):
                vals.append(float("nan"))

    @property
    def last(self):
        """The latest per-epoch values, as a dict."""
        return {k: v[-1] for k, v in self.history.items() if v}

    def plot(self, path=None, keys=None, log_loss=False, ax=None):
        """Plot the loss curves (and metrics) with matplotlib.

        Parameters
        ----------
        path : str or path-like, optional
            Write the figure there (PNG, PDF, SVG ... by extension).
        keys : sequence of str, optional
            Which records to draw (default: all; losses on the left panel, other
            metrics on the right).
        log_loss : bool, optional
            Logarithmic loss axis.
        ax : matplotlib Axes, optional
            Draw the losses into it instead of a new figure.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        ImportError
            When matplotlib is not installed.
        """
        from .plotting import plot_history
        return plot_history(self, path=path, keys=keys, log_loss=log_loss, ax=ax)

    def __repr__(self):
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last.items())
        return (f"History(epochs={len(self.epoch)}, steps={self.steps}, {last}, "
                f"stop_reason={self.stop_reason!r})")


class Callback:
    """Base class of training callbacks; override any of the hooks.

    Each hook receives an ``info`` namespace with ``epoch``, ``step``, ``params``,
    ``opt_state``, ``loss`` (latest mini-batch loss), ``logs`` (latest per-epoch
    values) and ``history``. Returning True from ``on_step_end`` or
    ``on_epoch_end`` stops training.
    """

    def on_train_begin(self, info):
        """Called once before the first step."""

    def on_step_end(self, info):
        """Called after every optimisation step."""

    def on_epoch_end(self, info):
        """Called after every epoch, once ``info.logs`` holds the epoch's values."""

    def on_train_end(self, info):
        """Called once after training."""


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda info: ...)``."""

    def __init__(self, on_train_begin=None, on_step_end=None, on_epoch_end=None,
                 on_train_end=None):
        for name, fn in (("on_train_begin", on_train_begin), ("on_step_end", on_step_end),
                         ("on_epoch_end", on_epoch_end), ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, name, fn)


class EarlyStopping:
    """Stop training when a monitored value stops improving.

    Parameters
    ----------
    monitor : str, optional
        A per-epoch record name; default ``"val_loss"`` when validation data are
        given, else ``"loss"``.
    patience : int, optional
        Epochs without improvement tolerated before stopping.
    min_delta : float, optional
        Smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}, optional
        ``"auto"``: maximise names containing "acc", minimise the rest.
    restore_best : bool, optional
        Return the parameters of the best epoch instead of the last.
    """

    def __init__(self, monitor=None, patience=10, min_delta=0.0, mode="auto",
                 restore_best=True):
        if mode not in ("auto", "min", "max"):
            raise ValueError("EarlyStopping: mode must be 'auto', 'min' or 'max'")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = mode
        self.restore_best = restore_best
        self.reset()

    def reset(self):
        """Forget the best value (called by :func:`fit` at the start)."""
        self.best = None
        self.best_params = None
        self.best_epoch = None
        self.wait = 0

    def _sign(self):
        if self.mode == "max" or (self.mode == "auto" and "acc" in (self.monitor or "")):
            return -1.0
        return 1.0

    def update(self, value, params, epoch):
        """Record this epoch's value; return True when training should stop."""
        if value is None or not np.isfinite(value):
            self.wait += 1
            return self.wait >= self.patience
        s = self._sign()
        if self.best is None or s * value < s * self.best - self.min_delta:
            self.best, self.best_params, self.best_epoch = value, params, epoch
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience


def accuracy_metric(predict_fn, threshold=0.0):
    """A metric ``(params, X, y) -> accuracy`` from ``predict_fn(params, X)`` outputs.

    See :func:`chainrule.nn.accuracy` for how outputs are turned into classes.
    """
    def metric(params, X, y):
        return accuracy(predict_fn(params, X), y, threshold=threshold)
    return metric


def per_example_grads(loss_fn, params, X, y=None):
    """Gradients of ``loss_fn`` for every example separately, with ``chainrule.vmap``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, X_batch, y_batch) -> scalar`` (or ``loss_fn(params, X)``).
    params : pytree
    X, y : arrays with examples along the first axis

    Returns
    -------
    pytree like ``params`` with a leading axis of length N: the gradient of the loss
    of each single-example batch.
    """
    if y is None:
        def one(p, x):
            return loss_fn(p, x[None])
        return cr.vmap(cr.grad(one), in_axes=(None, 0))(params, X)

    def one(p, x, t):
        return loss_fn(p, x[None], t[None])
    return cr.vmap(cr.grad(one), in_axes=(None, 0, 0))(params, X, y)


def _make_progress(progress, total, desc):
    if progress is False or progress is None:
        return None
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm(total=total, desc=desc, leave=True, dynamic_ncols=True)
    if progress == "print":
        return None
    raise ValueError("fit: progress must be True, False or 'print'")


def _format_logs(logs):
    parts = []
    for k, v in logs.items():
        short = k.replace("accuracy", "acc")
        parts.append(f"{short} {v:.4f}" if abs(v) < 1e4 else f"{short} {v:.4g}")
    return ", ".join(parts)


def _as_param(a):
    """A parameter leaf as an ndarray in the dtype the optimisers keep: its own when
    floating or complex (float32 trains in float32), float64 for integers, booleans and
    Python numbers."""
    a = np.asarray(a)
    return a if a.dtype.kind in "fc" else a.astype(np.float64)


def fit(loss_fn, params, data, optimizer, *, epochs=None, steps=None, batch_size=None,
        shuffle=True, rng=None, drop_last=False, validation_data=None, metrics=None,
        predict_fn=None, callbacks=(), early_stopping=None, progress=True, print_every=None,
        has_aux=False, stop_on_nonfinite=True, desc="training"):
    """Train ``params`` by minimising ``loss_fn`` with a ``chainrule.optim`` optimiser.

    Each step draws a mini-batch, computes the loss and its gradient with
    ``chainrule.value_and_grad``, and applies ``optimizer``'s update. After every
    epoch the metrics are evaluated (on the training data, and on the validation
    data with a ``val_`` prefix), callbacks run, and early stopping decides.
    A tqdm progress bar shows the loss and the metrics when tqdm is installed;
    otherwise (or with ``progress="print"``) about ten plain lines are printed.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, X_batch, y_batch) -> scalar`` (``loss_fn(params, X_batch)``
        when ``data`` has no targets); with ``has_aux=True`` it returns
        ``(scalar, aux)``. For dropout, close over a ``numpy.random.Generator``.
    params : pytree
        Initial parameters. Each leaf keeps its dtype (float32 parameters train in
        float32, as the ``chainrule.optim`` optimisers keep it); integer leaves and
        Python numbers become float64.
    data : tuple
        ``(X, y)`` (or ``(X,)``): arrays (or pytrees of arrays) with examples along
        the first axis.
    optimizer : GradientTransformation
        E.g. ``chainrule.optim.adam(1e-2)``.
    epochs : int, optional
        Passes over the data.
    steps : int, optional
        Optimisation steps instead (the last epoch may be partial). Give ``epochs``
        or ``steps``.
    batch_size : int, optional
        None: full batch (one step per epoch, plain gradient descent).
    shuffle : bool, optional
    rng : numpy.random.Generator or int, optional
        Source of the shuffling.
    drop_last : bool, optional
    validation_data : tuple, optional
        ``(X_val, y_val)``: ``val_loss`` and ``val_<metric>`` each epoch.
    metrics : dict of str -> callable, optional
        ``metric(params, X, y) -> float``.
    predict_fn : callable, optional
        ``predict_fn(params, X) -> outputs``; adds an ``"accuracy"`` metric
        (see :func:`chainrule.nn.accuracy`) when ``metrics`` has none.
    callbacks : sequence, optional
        :class:`Callback` objects, or plain callables ``cb(info)`` run after each
        epoch; returning True stops training.
    early_stopping : EarlyStopping, int or bool, optional
        An :class:`EarlyStopping`, an int patience for the default one, or True for
        the default one (patience 10).
    progress : bool or "print", optional
    print_every : int, optional
        Epochs between plain progress lines (default: about ten lines in all).
    has_aux : bool, optional
    stop_on_nonfinite : bool, optional
        Stop when the loss becomes inf/nan (e.g. a learning rate that diverges).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    History
        Per-step losses, per-epoch losses and metrics, ``.params`` (the trained
        parameters), ``.plot(path)``.

    Notes
    -----
    The epoch's ``"loss"`` is computed from the step losses, each the value of
    ``loss_fn`` on its batch before that step's update: ``sum(loss_b * n_b) /
    sum(n_b)`` over the epoch's batches ``b`` of ``n_b`` examples (only the batches
    run, when ``steps`` ends an epoch early). With a mean-reduced loss this is the mean
    per-example loss over the epoch. With ``reduction="sum"`` each ``loss_b`` is its
    batch's sum, so the epoch loss is the batch-size-weighted average of the batch
    sums: with ``batch_size=None`` (one batch) the sum over the whole training set;
    with mini-batches of ``B`` about ``B`` times the mean per-example loss (a smaller
    last batch weighs less), not the training set's sum. ``"val_loss"`` is
    ``loss_fn`` on the whole validation set in one call, for ``reduction="sum"`` the
    validation set's sum: a summed ``"loss"`` and ``"val_loss"`` are on different
    scales (a mean-reduced loss makes them comparable).

    Examples
    --------
    >>> model = nn.mlp([2, 25, 25, 1])
    >>> def loss(p, X, y): return nn.binary_nll(model.apply(p, X), y)
    >>> hist = nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), epochs=100,
    ...               predict_fn=model.apply)
    >>> params = hist.params
    """
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be a callable loss_fn(params, X, y), got "
                        f"{type(loss_fn).__name__}")
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(f"fit: optimizer must be a chainrule.optim transformation such as "
                        f"optim.adam(1e-2), got {type(optimizer).__name__} {optimizer!r}")
    if (epochs is None) == (steps is None):
        raise ValueError("fit: give exactly one of epochs= or steps=")
    if not isinstance(data, (tuple, list)) or len(data) not in (1, 2):
        raise ValueError("fit: data must be a tuple (X, y) or (X,)")
    X = data[0]
    y = data[1] if len(data) == 2 else None
    n = _length(X if y is None else (X, y))
    per_epoch = num_batches(n, batch_size, drop_last)
    if per_epoch == 0:
        raise ValueError("fit: no batches (batch_size larger than the data with drop_last)")
    if steps is not None:
        total_steps = int(steps)
        n_epochs = math.ceil(total_steps / per_epoch)
    else:
        n_epochs = int(epochs)
        total_steps = n_epochs * per_epoch
    rng = as_rng(rng)

    metrics = dict(metrics or {})
    if predict_fn is not None and "accuracy" not in metrics and y is not None:
        metrics["accuracy"] = accuracy_metric(predict_fn)
    if early_stopping is True:
        early_stopping = EarlyStopping()
    elif early_stopping is False:
        early_stopping = None
    elif isinstance(early_stopping, (int, np.integer)):
        early_stopping = EarlyStopping(patience=int(early_stopping))
    if early_stopping is not None:
        early_stopping.reset()
        if early_stopping.monitor is None:
            early_stopping.monitor = "val_loss" if validation_data is not None else "loss"
    callbacks = list(callbacks or ())

    params = tree_util.tree_map(_as_param, params)
    opt_state = optimizer.init(params)
    vg = cr.value_and_grad(loss_fn, has_aux=has_aux)

    def call_loss(p, Xb, yb):
        out = loss_fn(p, Xb) if yb is None else loss_fn(p, Xb, yb)
        return _scalar(out[0] if has_aux else out, "loss_fn")

    hist = History()
    info = SimpleNamespace(epoch=0, step=0, params=params, opt_state=opt_state, loss=None,
                           logs={}, history=hist, aux=None)
    bar = _make_progress(progress, total_steps, desc)
    printing = bar is None and progress is not False
    if print_every is None:
        print_every = max(1, n_epochs // 10)
    t0 = time.perf_counter()
    stop = False

    def run_hook(name):
        result = False
        for cb in callbacks:
            hook = getattr(cb, name, None)
            if hook is None:
                if callable(cb) and name == "on_epoch_end":
                    result = bool(cb(info)) or result
                continue
            result = bool(hook(info)) or result
        return result

    run_hook("on_train_begin")
    step = 0
    try:
        for epoch in range(1, n_epochs + 1):
            loss_sum, count = 0.0, 0
            for batch in batches(X, y, batch_size, shuffle=shuffle, rng=rng,
                                 drop_last=drop_last):
                if step >= total_steps:
                    break
                Xb, yb = (batch, None) if y is None else batch
                args = (params, Xb) if yb is None else (params, Xb, yb)
                if has_aux:
                    (value, aux), grads = vg(*args)
                    info.aux = aux
                else:
                    value, grads = vg(*args)
                value = _scalar(value, "loss_fn")
                updates, opt_state = optimizer.update(grads, opt_state, params)
                params = optim.apply_updates(params, updates)
                step += 1
                bsz = _length(Xb)
                loss_sum += value * bsz
                count += bsz
                hist.step_loss.append(value)
                info.step, info.epoch, info.loss = step, epoch, value
                info.params, info.opt_state = params, opt_state
                if bar is not None:
                    shown = dict(info.logs)
                    shown["loss"] = value
                    bar.set_postfix_str(_format_logs(shown), refresh=False)
                    bar.update(1)
                if stop_on_nonfinite and not np.isfinite(value):
                    hist.stop_reason = "non-finite loss"
                    stop = True
                    break
                if run_hook("on_step_end"):
                    hist.stop_reason = "stopped by callback"
                    stop = True
                    break
            logs = {"loss": loss_sum / max(count, 1)}
            if np.isfinite(logs["loss"]) or not stop:
                for name, fn in metrics.items():
                    logs[name] = float(fn(params, X, y))
                if validation_data is not None:
                    Xv = validation_data[0]
                    yv = validation_data[1] if len(validation_data) > 1 else None
                    logs["val_loss"] = call_loss(params, Xv, yv)
                    for name, fn in metrics.items():
                        logs["val_" + name] = float(fn(params, Xv, yv))
            hist.record(epoch, logs)
            info.logs = logs
            if bar is not None:
                bar.set_postfix_str(_format_logs(logs), refresh=False)
            elif printing and (epoch % print_every == 0 or epoch == 1 or epoch == n_epochs
                               or stop):
                print(f"epoch {epoch}/{n_epochs}  step {step}/{total_steps}  "
                      + _format_logs(logs), file=sys.stdout, flush=True)
            if stop:
                break
            if run_hook("on_epoch_end"):
                hist.stop_reason = "stopped by callback"
                stop = True
                break
            if early_stopping is not None:
                value = logs.get(early_stopping.monitor)
                if value is None:
                    raise KeyError(f"EarlyStopping: no record named "
                                   f"{early_stopping.monitor!r}; have {sorted(logs)}")
                if early_stopping.update(value, params, epoch):
                    hist.stop_reason = (f"early stopping: {early_stopping.monitor} did not "
                                        f"improve for {early_stopping.patience} epochs")
                    stop = True
                    break
            if step >= total_steps:
                break
    finally:
        if bar is not None:
            bar.close()
    hist.stopped_early = stop
    if early_stopping is not None:
        hist.best_epoch = early_stopping.best_epoch
        if early_stopping.restore_best and early_stopping.best_params is not None:
            params = early_stopping.best_params
    hist.params = params
    hist.opt_state = opt_state
    hist.steps = step
    hist.elapsed = time.perf_counter() - t0
    info.params = params
    run_hook("on_train_end")
    if printing and stop and hist.stop_reason != "finished":
        print(f"stopped: {hist.stop_reason}", flush=True)
    return hist
