"""Benchmark harness: a registry of workloads, correctness checks, interleaved timing.

A *workload* is one computation written several ways ("implementations"):
hand-written NumPy with analytic derivatives (the reference, always called
``numpy``), chainrule, and optional peers (autograd, JAX, PyTorch).  Every
implementation is built once from the same inputs into a zero-argument *thunk*
that performs the computation and returns its result.

The harness then

1. calls every thunk once and checks that its result agrees with the NumPy
   reference (``np.allclose`` leaf by leaf); an implementation that errors or
   disagrees is reported and excluded from timing;
2. warms every thunk up and calibrates how many calls make one timing sample
   (so that a sample lasts at least ``min_sample`` seconds);
3. runs *rounds*: in each round every implementation takes one sample, in a
   rotated order, so that drifting machine load hits all columns alike;
   the number of rounds is chosen so that the workload fits in ``budget``
   seconds (between ``min_rounds`` and ``max_rounds``);
4. reports the median per-call time of every implementation, its ratio to the
   NumPy reference and, where the workload has one, whether the target is met.

Nothing here is a test: tests must never time things.
"""

from __future__ import annotations

import fnmatch
import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

REFERENCE = "numpy"

# Column order of the report; implementations not listed here come after, in
# registration order (e.g. a later "chainrule-jit").
IMPL_ORDER = ["numpy", "chainrule", "chainrule-jit", "autograd", "jax", "jax-jit", "torch"]


class Unavailable(Exception):
    """Raised by an implementation builder whose library is not installed."""


# ---------------------------------------------------------------------------
# Workload registry
# ---------------------------------------------------------------------------


@dataclass
class Target:
    """What the target implementation must achieve on a workload.

    ``ratio``: median time / median time of the NumPy reference must be <= ratio.
    ``delta_us``: median time - median time of the reference must be <= delta_us
    microseconds (used for per-call overhead, where ratios are meaningless).
    """

    ratio: float | None = None
    delta_us: float | None = None
    impl: str = "chainrule"

    def describe(self) -> str:
        if self.ratio is not None:
            return f"<= {self.ratio:g}x"
        return f"<= +{self.delta_us:g} us"

    def met(self, ratio: float, delta_us: float) -> bool:
        if self.ratio is not None:
            return ratio <= self.ratio
        return delta_us <= self.delta_us


@dataclass
class Workload:
    name: str
    family: str
    description: str
    make_data: Callable[[], dict[str, Any]]
    target: Target | None = None
    # Ratios to hand-written NumPy measured elsewhere (issue text), for context.
    reported: dict[str, str] = field(default_factory=dict)
    rtol: float = 1e-7
    atol: float = 1e-10
    # "ratio" or "delta": how the report shows the non-reference columns.
    display: str = "ratio"
    builders: dict[str, Callable[[dict[str, Any]], Callable[[], Any]]] = field(default_factory=dict)

    def impl(self, name: str):
        """Decorator registering ``builder(data) -> thunk`` under ``name``."""

        def deco(builder):
            self.builders[name] = builder
            return builder

        return deco


REGISTRY: dict[str, Workload] = {}


def register(workload: Workload) -> Workload:
    if workload.name in REGISTRY:
        raise ValueError(f"duplicate workload name {workload.name!r}")
    REGISTRY[workload.name] = workload
    return workload


def select(patterns: list[str] | None) -> list[Workload]:
    """Workloads whose name or family matches any of the (glob) patterns."""
    if not patterns:
        return list(REGISTRY.values())
    out = []
    for w in REGISTRY.values():
        for p in patterns:
            if fnmatch.fnmatch(w.name, p) or fnmatch.fnmatch(w.family, p) or w.name.startswith(p):
                out.append(w)
                break
    return out


# ---------------------------------------------------------------------------
# Results -> NumPy leaves, comparison
# ---------------------------------------------------------------------------


def to_leaves(obj) -> list[np.ndarray]:
    """Flatten a result (tuples, lists, dicts, namedtuples, peer arrays) to float arrays."""
    if isinstance(obj, dict):
        return [leaf for k in sorted(obj, key=repr) for leaf in to_leaves(obj[k])]
    if isinstance(obj, (list, tuple)):
        return [leaf for item in obj for leaf in to_leaves(item)]
    mod = type(obj).__module__
    if mod.startswith("torch"):
        obj = obj.detach().cpu().numpy()
    elif hasattr(obj, "block_until_ready"):  # jax.Array
        obj = np.asarray(obj)
    return [np.asarray(obj, dtype=np.result_type(np.asarray(obj).dtype, np.float64))]


def compare(ref: list[np.ndarray], got: list[np.ndarray], rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``ref``; otherwise a short explanation."""
    if len(ref) != len(got):
        return f"{len(got)} result leaves, expected {len(ref)}"
    for i, (a, b) in enumerate(zip(ref, got)):
        if a.shape != b.shape:
            # Accept a 0-d vs (1,)-shaped scalar only if sizes agree and values match.
            if a.size != b.size:
                return f"leaf {i}: shape {b.shape}, expected {a.shape}"
            b = b.reshape(a.shape)
        if not np.allclose(b, a, rtol=rtol, atol=atol):
            err = np.max(np.abs(b - a))
            return f"leaf {i}: max abs error {err:.3g}"
    return None


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


@dataclass
class Settings:
    budget: float = 3.0  # seconds of timing per workload (all columns together)
    min_sample: float = 0.002  # seconds one sample lasts at least
    min_rounds: int = 7
    max_rounds: int = 1000
    warmup: float = 0.05  # seconds of warm-up calls per implementation (at least 2 calls)


QUICK = Settings(budget=0.3, min_sample=0.0005, min_rounds=3, max_rounds=200, warmup=0.01)


def _time_calls(fn: Callable[[], Any], number: int) -> float:
    rng = range(number)
    t0 = time.perf_counter()
    for _ in rng:
        fn()
    return time.perf_counter() - t0


def _warmup(fn, seconds: float) -> None:
    t_end = time.perf_counter() + seconds
    fn()
    fn()
    while time.perf_counter() < t_end:
        fn()


def _calibrate(fn, min_sample: float):
    """Smallest number of calls (roughly) lasting ``min_sample``; returns (number, per-call estimate)."""
    number = 1
    while True:
        t = _time_calls(fn, number)
        if t >= min_sample:
            return number, t / number
        if t <= 0:
            number *= 10
        else:
            number = max(number * 2, math.ceil(number * min_sample / t * 1.1))


@dataclass
class ImplResult:
    name: str
    status: str = "ok"  # ok | unavailable | error | mismatch
    message: str = ""
    samples: list[float] = field(default_factory=list)  # seconds per call, one per round
    number: int = 0  # calls per sample

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def spread(self) -> float:
        """Interquartile range / median (relative noise)."""
        if len(self.samples) < 4:
            return float("nan")
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / self.median


@dataclass
class WorkloadResult:
    workload: Workload
    impls: dict[str, ImplResult]
    rounds: int = 0
    seconds: float = 0.0

    def ratio(self, impl: str) -> float:
        return self.impls[impl].median / self.impls[REFERENCE].median

    def delta_us(self, impl: str) -> float:
        return (self.impls[impl].median - self.impls[REFERENCE].median) * 1e6

    def target_status(self) -> str:
        t = self.workload.target
        if t is None:
            return ""
        r = self.impls.get(t.impl)
        if r is None or r.status != "ok" or not r.samples:
            return "n/a"
        return "yes" if t.met(self.ratio(t.impl), self.delta_us(t.impl)) else "NO"


def _order(names):
    known = [n for n in IMPL_ORDER if n in names]
    return known + [n for n in names if n not in known]


def run_workload(w: Workload, settings: Settings, impl_filter: list[str] | None = None,
                 log: Callable[[str], None] = lambda s: None) -> WorkloadResult:
    t_start = time.perf_counter()
    data = w.make_data()
    names = _order(list(w.builders))
    if REFERENCE not in names:
        raise ValueError(f"workload {w.name} has no {REFERENCE!r} reference implementation")
    if impl_filter:
        names = [n for n in names if n == REFERENCE or n in impl_filter]
    results = {n: ImplResult(n) for n in names}
    thunks: dict[str, Callable[[], Any]] = {}

    # Build and check.
    ref_leaves = None
    for n in names:
        r = results[n]
        try:
            thunk = w.builders[n](data)
            out = thunk()
            leaves = to_leaves(out)
        except Unavailable as e:
            r.status, r.message = "unavailable", str(e)
            continue
        except Exception as e:  # noqa: BLE001 - report any failure of any library
            r.status, r.message = "error", f"{type(e).__name__}: {e}"
            log(f"  {w.name}/{n}: {r.message}")
            continue
        if n == REFERENCE:
            ref_leaves = leaves
        else:
            why = compare(ref_leaves, leaves, w.rtol, w.atol)
            if why is not None:
                r.status, r.message = "mismatch", why
                log(f"  {w.name}/{n}: result disagrees with the NumPy reference: {why}")
                continue
        thunks[n] = thunk
    if REFERENCE not in thunks:
        raise RuntimeError(f"{w.name}: NumPy reference failed: {results[REFERENCE].message}")

    # Warm up and calibrate.
    timed = list(thunks)
    est = {}
    for n in timed:
        _warmup(thunks[n], settings.warmup)
        results[n].number, est[n] = _calibrate(thunks[n], settings.min_sample)
    round_cost = sum(results[n].number * est[n] for n in timed)
    rounds = int(max(settings.min_rounds, min(settings.max_rounds, settings.budget / max(round_cost, 1e-9))))

    # Interleaved rounds, rotating the starting implementation.
    gc.collect()
    k = len(timed)
    for i in range(rounds):
        for j in range(k):
            n = timed[(i + j) % k]
            number = results[n].number
            results[n].samples.append(_time_calls(thunks[n], number) / number)
    return WorkloadResult(w, results, rounds, time.perf_counter() - t_start)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    us = seconds * 1e6
    if us < 10:
        return f"{us:.2f} us"
    if us < 1000:
        return f"{us:.1f} us"
    if us < 1e6:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1e6:.2f} s"


def _cell(res: WorkloadResult, n: str) -> str:
    r = res.impls.get(n)
    if r is None:
        return ""
    if r.status == "unavailable":
        return "n/a"
    if r.status == "error":
        return "ERROR"
    if r.status == "mismatch":
        return "WRONG"
    if n == REFERENCE:
        return fmt_time(r.median)
    if res.workload.display == "delta":
        return f"{fmt_time(r.median)} ({res.delta_us(n):+.2f} us)"
    return f"{fmt_time(r.median)} ({res.ratio(n):.2f}x)"


def table_rows(results: list[WorkloadResult]):
    cols = []
    for res in results:
        for n in res.impls:
            if n not in cols:
                cols.append(n)
    cols = _order(cols)
    header = ["workload"] + cols + ["target", "met"]
    rows = []
    for res in results:
        t = res.workload.target
        tdesc = f"{t.impl} {t.describe()}" if t else ""
        rows.append([res.workload.name] + [_cell(res, n) for n in cols] + [tdesc, res.target_status()])
    return header, rows


def format_text(results: list[WorkloadResult]) -> str:
    header, rows = table_rows(results)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def format_markdown(results: list[WorkloadResult]) -> str:
    header, rows = table_rows(results)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def format_notes(results: list[WorkloadResult]) -> str:
    """Workload descriptions, failures, noise and context numbers, one block per workload."""
    out = []
    for res in results:
        w = res.workload
        out.append(f"- {w.name}: {w.description}")
        if w.reported:
            out.append("    reported elsewhere (ratio to NumPy): " +
                       ", ".join(f"{k} {v}" for k, v in w.reported.items()))
        timing = ", ".join(
            f"{n} {r.number}x{len(r.samples)} (IQR {100 * r.spread:.0f}%)"
            for n, r in res.impls.items() if r.samples)
        out.append(f"    samples (calls x rounds): {timing}; {res.seconds:.1f} s")
        for n, r in res.impls.items():
            if r.status in ("error", "mismatch"):
                out.append(f"    {n}: {r.status}: {r.message}")
    return "\n".join(out)


def to_json(results: list[WorkloadResult]) -> list:
    out = []
    for res in results:
        w = res.workload
        entry = {"workload": w.name, "family": w.family, "description": w.description,
                 "rounds": res.rounds, "target": None, "met": res.target_status() or None,
                 "impls": {}}
        if w.target:
            entry["target"] = {"impl": w.target.impl, "ratio": w.target.ratio, "delta_us": w.target.delta_us}
        for n, r in res.impls.items():
            e = {"status": r.status, "message": r.message}
            if r.samples:
                e.update(median_s=r.median, min_s=min(r.samples), iqr_rel=r.spread,
                         calls_per_sample=r.number, samples=len(r.samples),
                         ratio=res.ratio(n), delta_us=res.delta_us(n))
            entry["impls"][n] = e
        out.append(entry)
    return out
