"""Write tools/peers.json: the functions autograd and JAX differentiate, name by name,
with the versions they were read from. Run once per peer release (it needs both
installed); tools/coverage_table.py and the test of the coverage table read only the
JSON, so neither peer is needed to check the table.

    python tools/peer_lists.py            # rewrite tools/peers.json

autograd: the names of autograd.numpy (and .linalg, .fft), autograd.scipy.special,
.linalg, .signal, .integrate and the distributions of autograd.scipy.stats that carry a
VJP (``autograd.core.primitive_vjps``) or are autograd's own compositions of such
primitives, less autograd's helpers (``AUTOGRAD_HELPERS``).

JAX: every public function of jax.numpy, jax.numpy.linalg, jax.numpy.fft,
jax.scipy.special, jax.scipy.linalg and jax.scipy.stats (its distributions'
functions as ``dist.method``); those whose results carry no derivative (creation from
shapes, integer and boolean results, dtypes, printing, files) are listed apart, by
hand, in ``JAX_NOT_DIFFERENTIABLE``.
"""
import json
import pathlib
import sys
import types

OUT = pathlib.Path(__file__).resolve().parent / "peers.json"

AUTOGRAD_HELPERS = {
    "array_from_args", "concatenate_args", "custom_where", "iscomplexobj", "make_diagonal",
    "metadata", "ndim", "notrace_primitive", "parse_einsum_input", "primitive",
    "result_type", "shape", "wrap_if_boxes_inside", "wrap_intdtype", "wrap_namespace",
    "T", "add2d", "defjvp", "defvjp", "defjvp_argnums", "defvjp_argnums", "norm_jvp",
    "norm_vjp", "check_even_shape", "check_no_repeated_axes", "fft_grad", "get_fft2_args",
    "get_fft_args", "get_fftn_args", "irfft_grad", "make_rfft_factors", "match_complex",
    "rfft_grad", "truncate_pad", "vspace", "fwd_grad_logsumexp", "make_gammainc_vjp_arg1",
    "make_grad_logsumexp", "repeat_to_match_shape", "unbroadcast_f", "compute_conv_size",
    "einsum_tensordot", "flipped_idxs", "grad_convolve", "parse_axes", "argnums_unpack",
    "flatten", "grad_odeint", "make_vjp", "covgrad", "generalized_outer_product",
}
# names inside autograd.scipy.stats modules that are not the distribution's methods
# (special functions they import, a linear solve, sampling)
AUTOGRAD_STATS_HELPERS = {"beta", "psi", "gamma", "digamma", "solve", "rvs"}
AUTOGRAD_STATS = ("beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm",
                  "poisson", "t")

# JAX functions whose results carry no derivative: they make arrays from shapes or
# integers, return integers/booleans/dtypes, print, or read and write files
JAX_NOT_DIFFERENTIABLE = {
    "numpy": [
        "arange", "array_repr", "array_str", "bartlett", "bitwise_count",
        "bitwise_left_shift", "bitwise_right_shift", "blackman", "broadcast_shapes",
        "can_cast", "diag_indices", "diag_indices_from", "einsum_path", "empty", "eye",
        "from_dlpack", "frombuffer", "fromfile", "fromfunction", "fromiter", "frompyfunc",
        "fromstring", "get_printoptions", "hamming", "hanning", "identity", "indices",
        "isdtype", "issubdtype", "iterable", "ix_", "kaiser", "load", "mask_indices",
        "ones", "packbits", "printoptions", "promote_types", "ravel_multi_index", "save",
        "savez", "set_printoptions", "spacing", "nextafter", "tri", "tril_indices",
        "tril_indices_from", "triu_indices", "triu_indices_from", "unpackbits",
        "unravel_index", "zeros", "histogram_bin_edges",
    ],
    "scipy.special": ["bernoulli"],
    "scipy.linalg": ["dft", "hadamard", "helmert", "hilbert", "invhilbert", "invpascal",
                     "pascal",
                     # jax.grad raises "Differentiation rule for 'schur' not implemented"
                     # (and for 'hessenberg'): names only, as chainrule's (SciPy's own)
                     "hessenberg", "schur"],
    "scipy.stats": ["mode", "rankdata"],
}


# JAX functions without a NumPy/SciPy function of that name (chainrule mirrors NumPy's
# and SciPy's names): bessel_jn(z, v) is JAX's array of J_0..J_v (scipy.special.jv
# with an array of orders)
JAX_ONLY = {"scipy.special": ["bessel_jn"]}


def _functions(mod):
    out = []
    for name in dir(mod):
        if name.startswith("_"):
            continue
        obj = getattr(mod, name)
        if isinstance(obj, (types.ModuleType, type)) or not callable(obj):
            continue
        out.append(name)
    return sorted(out)


def autograd_lists():
    import importlib
    import importlib.metadata
    from autograd.core import primitive_vjps
    mods = {"numpy": "autograd.numpy", "numpy.linalg": "autograd.numpy.linalg",
            "numpy.fft": "autograd.numpy.fft", "scipy.special": "autograd.scipy.special",
            "scipy.linalg": "autograd.scipy.linalg", "scipy.signal": "autograd.scipy.signal",
            "scipy.integrate": "autograd.scipy.integrate"}

    def differentiable(mod, helpers=AUTOGRAD_HELPERS):
        names = []
        for name, obj in vars(mod).items():
            if name.startswith(("_", "grad_")) or name in helpers \
                    or not callable(obj) or isinstance(obj, type):
                continue
            # a primitive with a VJP, or a function of autograd's own (not a wrapper
            # of NumPy's, which has .fun) that composes them
            if obj in primitive_vjps or (isinstance(obj, types.FunctionType)
                                         and not hasattr(obj, "fun")
                                         and (obj.__module__ or "").startswith("autograd")):
                names.append(name)
        return sorted(names)
    lists = {ns: differentiable(importlib.import_module(m)) for ns, m in mods.items()}
    lists["scipy.stats"] = sorted(
        f"{d}.{n}" for d in AUTOGRAD_STATS
        for n in differentiable(importlib.import_module(f"autograd.scipy.stats.{d}"),
                                AUTOGRAD_HELPERS | AUTOGRAD_STATS_HELPERS))
    return {"version": importlib.metadata.version("autograd"),
            "read_from": "autograd.core.primitive_vjps and autograd's own functions in "
                         "autograd/numpy/{numpy_wrapper,numpy_vjps,linalg,fft}.py, "
                         "autograd/scipy/{special,linalg,signal,integrate}.py, "
                         "autograd/scipy/stats/*.py",
            "namespaces": lists}


def jax_lists():
    import jax
    import jax.numpy
    import jax.numpy.linalg
    import jax.numpy.fft
    import jax.scipy.special
    import jax.scipy.linalg
    import jax.scipy.stats
    mods = {"numpy": jax.numpy, "numpy.linalg": jax.numpy.linalg,
            "numpy.fft": jax.numpy.fft, "scipy.special": jax.scipy.special,
            "scipy.linalg": jax.scipy.linalg}
    lists = {ns: _functions(m) for ns, m in mods.items()}
    stats = _functions(jax.scipy.stats)
    for name in dir(jax.scipy.stats):
        sub = getattr(jax.scipy.stats, name)
        if not name.startswith("_") and isinstance(sub, types.ModuleType):
            stats += [f"{name}.{f}" for f in _functions(sub)]
    lists["scipy.stats"] = sorted(stats)
    return {"version": jax.__version__,
            "read_from": "the public functions of jax.numpy, jax.numpy.linalg, "
                         "jax.numpy.fft, jax.scipy.special, jax.scipy.linalg and "
                         "jax.scipy.stats (and its distribution modules)",
            "namespaces": lists,
            "not_differentiable": {k: sorted(v) for k, v in JAX_NOT_DIFFERENTIABLE.items()},
            "no_numpy_or_scipy_name": {k: sorted(v) for k, v in JAX_ONLY.items()}}


def main(argv):
    data = {"autograd": autograd_lists(), "jax": jax_lists()}
    for ns, names in data["jax"]["not_differentiable"].items():
        unknown = set(names) - set(data["jax"]["namespaces"][ns])
        if unknown:
            raise SystemExit(f"JAX_NOT_DIFFERENTIABLE[{ns!r}] names what jax lacks: {unknown}")
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
