"""Plots of training histories and 2-D decision boundaries (matplotlib, optional)."""
import numpy as np

__all__ = ["plot_history", "plot_decision_boundary"]


def _figure_class():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "plotting needs matplotlib, which is not installed: "
            "pip install matplotlib (or pip install 'chainrule[plot]')") from err
    del matplotlib
    return Figure


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def plot_history(history, path=None, keys=None, log_loss=False, ax=None):
    """Plot the per-epoch records of a :class:`~chainrule.nn.History`.

    Losses (names containing "loss") go on one panel, other metrics on a second;
    with a single epoch-per-step run the curves are per step.

    Parameters
    ----------
    history : History
    path : str or path-like, optional
        Write the figure there.
    keys : sequence of str, optional
        Records to draw (default all).
    log_loss : bool, optional
        Logarithmic loss axis.
    ax : matplotlib Axes, optional
        Draw the losses into this Axes (metrics are then skipped).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    Figure = _figure_class()
    keys = list(history.keys()) if keys is None else list(keys)
    loss_keys = [k for k in keys if "loss" in k]
    other = [k for k in keys if "loss" not in k]
    epochs = np.asarray(history.epoch)
    if ax is not None:
        fig = ax.figure
        axes = [ax]
        other = []
    else:
        ncols = 2 if other else 1
        fig = Figure(figsize=(5.5 * ncols, 4))
        axes = list(np.atleast_1d(fig.subplots(1, ncols)))
    for k in loss_keys:
        axes[0].plot(epochs, history[k], label=k)
    if not loss_keys and history.step_loss:
        axes[0].plot(np.arange(1, len(history.step_loss) + 1), history.step_loss,
                     label="step loss")
    best = getattr(history, "best_epoch", None)
    if best is not None:
        for a in axes:
            a.axvline(best, color="0.5", linestyle="--", linewidth=1, label="best epoch")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    if log_loss:
        axes[0].set_yscale("log")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    if other:
        for k in other:
            axes[1].plot(epochs, history[k], label=k)
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("metric")
        axes[1].legend()
        axes[1].grid(alpha=0.3)
    if ax is None:
        fig.tight_layout()
    return _save(fig, path)


def plot_decision_boundary(predict_fn, X, y, path=None, *, resolution=200, padding=0.5,
                           output="auto", ax=None, title=None):
    """Draw the class regions of a 2-D classifier with the data on top.

    Parameters
    ----------
    predict_fn : callable
        ``predict_fn(points) -> outputs`` for ``points`` of shape (M, 2): binary
        scores of shape (M,) or (M, 1) (logits or probabilities), or class scores
        (M, K) for K classes. E.g. ``lambda Z: model.apply(params, Z)``.
    X : array, shape (N, 2)
    y : array, shape (N,)
        Class labels.
    path : str or path-like, optional
        Write the figure there.
    resolution : int, optional
        Grid points per axis.
    padding : float, optional
        Margin around the data.
    output : {"auto", "logits", "probability"}, optional
        How binary outputs are read: ``"auto"`` treats them as probabilities when
        all lie in [0, 1], else as logits (mapped through the sigmoid).
    ax : matplotlib Axes, optional
        Draw into it instead of a new figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    Figure = _figure_class()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    x0, x1 = X[:, 0].min() - padding, X[:, 0].max() + padding
    y0, y1 = X[:, 1].min() - padding, X[:, 1].max() + padding
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = np.asarray(predict_fn(grid), dtype=np.float64)
    if ax is None:
        fig = Figure(figsize=(5.5, 4.5))
        ax = fig.subplots()
    else:
        fig = ax.figure
    if out.ndim == 2 and out.shape[1] > 1:
        cls = np.argmax(out, axis=1).reshape(gx.shape)
        k = out.shape[1]
        ax.contourf(gx, gy, cls, levels=np.arange(k + 1) - 0.5, cmap="tab10", alpha=0.3,
                    vmin=0, vmax=9)
        ax.contour(gx, gy, cls, levels=np.arange(k) + 0.5, colors="k", linewidths=0.8)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, edgecolors="k",
                   s=25)
    else:
        out = out.reshape(-1)
        if output == "logits" or (output == "auto" and (out.min() < 0 or out.max() > 1)):
            prob = 0.5 * (1.0 + np.tanh(0.5 * out))
        elif output in ("probability", "auto"):
            prob = out
        else:
            raise ValueError("plot_decision_boundary: output must be 'auto', 'logits' or "
                             "'probability'")
        prob = prob.reshape(gx.shape)
        cs = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                         alpha=0.6)
        ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.2)
        fig.colorbar(cs, ax=ax, label="p(y = 1)")
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, edgecolors="k",
                   s=25)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return _save(fig, path)
