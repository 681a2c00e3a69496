"""vmap plumbing that needs primitives: running a function under a BatchTrace and
moving batch axes of its outputs, and the Python-loop fallback for primitives
without a batching rule (registered with the batching interpreter)."""
from ..core import new_trace_context, _state, shape_of
from ..interpreters.batching import BatchTrace, BatchTracer, register_fallback
from .shape import moveaxis, broadcast_to, reshape
from .indexing import getitem_p
from .structure import concatenate_p


def vmap_flat(fun, args, in_dims, axis_size, out_dims=None):
    """Run ``fun(*args)`` with ``args[i]`` batched along ``in_dims[i]`` (None: not
    batched). Returns the flat outputs with their batch axes at ``out_dims`` (default
    0); outputs that do not depend on a batched input are broadcast along the batch.
    """
    trace = BatchTrace(_state.trace, axis_size)
    ins = [a if d is None else BatchTracer(trace, a, d) for a, d in zip(args, in_dims)]
    with new_trace_context(trace):
        outs = fun(*ins)
    if out_dims is None:
        out_dims = [0] * len(outs)
    elif callable(out_dims):
        out_dims = out_dims()
    return [move_batch_axis(o, trace, axis_size, d) for o, d in zip(outs, out_dims)]


def move_batch_axis(x, trace, size, dst):
    """The value of ``x`` (a tracer of ``trace`` or a constant) with its batch axis at
    ``dst``; ``dst=None`` requires ``x`` to be unbatched."""
    if type(x) is BatchTracer and x._trace is trace:
        if dst is None:
            raise ValueError("vmap: out_axes=None for an output that is batched (it "
                             "depends on a mapped input)")
        nd = len(shape_of(x.val))
        return moveaxis(x.val, x.bdim, dst % nd)
    if dst is None:
        return x
    s = shape_of(x)
    b = broadcast_to(reshape(x, (1,) + s), (size,) + s)
    return moveaxis(b, 0, dst % (len(s) + 1))


def bdim_to_front(x, d, size):
    """Batch axis of ``x`` at position 0, broadcasting an unbatched ``x``."""
    if d is None:
        s = shape_of(x)
        return broadcast_to(reshape(x, (1,) + s), (size,) + s)
    return moveaxis(x, d, 0)


def loop_batch(prim, args, dims, params, size):
    """Apply ``prim`` example by example and stack the results (slow fallback)."""
    results = []
    for i in range(size):
        ex = [a if d is None else getitem_p.bind(moveaxis(a, d, 0), spec=(i,))
              for a, d in zip(args, dims)]
        results.append(prim.bind(*ex, **params))
    if prim.multiple_results:
        outs = [_stack([r[k] for r in results]) for k in range(len(results[0]))]
        return outs, [0] * len(outs)
    return _stack(results), 0


def _stack(xs):
    return concatenate_p.bind(*[reshape(x, (1,) + shape_of(x)) for x in xs], axis=0)


register_fallback(loop_batch)
