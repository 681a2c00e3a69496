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
IMPL_ORDER = ["numpy", "chainrule", "chainrule-jit", "chainrule-loop", "chainrule-jit-first",
              "autograd", "jax", "jax-jit", "jax-jit-first", "torch"]


class Unavailable(Exception):
    """Raised by an implementation builder whose library is not installed."""


# ---------------------------------------------------------------------------
# Workload registry
# ---------------------------------------------------------------------------


# Short names of the target implementations in the report's target/met columns.
TARGET_LABELS = {"chainrule": "eager", "chainrule-jit": "jit"}


@dataclass
class Target:
    """What one implementation must achieve on a workload (a workload may have several).

    Exactly one criterion is set:

    ``ratio``: median time / median time of ``baseline`` must be <= ratio.
    ``delta_us``: median time - median time of ``baseline`` must be <= delta_us
    microseconds (used for per-call overhead, where ratios are meaningless).
    ``seconds``: the median time itself must be <= seconds (absolute budgets, e.g.
    the first call of a jit-compiled function).
    ``speedup``: median time of ``baseline`` / median time must be >= speedup
    (e.g. vmap against a Python loop over the same examples).

    ``baseline`` defaults to the NumPy reference; ``label`` is the implementation's
    short name in the report (``chainrule`` -> ``eager``, ``chainrule-jit`` -> ``jit``).
    """

    ratio: float | None = None
    delta_us: float | None = None
    seconds: float | None = None
    speedup: float | None = None
    impl: str = "chainrule"
    baseline: str = REFERENCE
    label: str | None = None

    def __post_init__(self):
        given = [k for k in ("ratio", "delta_us", "seconds", "speedup") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"Target needs exactly one of ratio, delta_us, seconds, speedup; got {given}")

    @property
    def name(self) -> str:
        return self.label or TARGET_LABELS.get(self.impl, self.impl)

    def describe(self) -> str:
        of = "" if self.baseline == REFERENCE else f" of {self.baseline}"
        if self.ratio is not None:
            return f"<= {self.ratio:g}x{of}"
        if self.delta_us is not None:
            return f"<= +{self.delta_us:g} us{of}"
        if self.seconds is not None:
            return f"<= {self.seconds * 1e3:g} ms" if self.seconds >= 1e-3 else f"<= {fmt_time(self.seconds)}"
        return f">= {self.speedup:g}x faster than {self.baseline}"

    def measure(self, res: "WorkloadResult") -> float | None:
        """The measured quantity the criterion applies to (None if not measured)."""
        def median(n):
            r = res.impls.get(n)
            return r.median if r is not None and r.status == "ok" and r.samples else None

        t = median(self.impl)
        if t is None:
            return None
        if self.seconds is not None:
            return t
        b = median(self.baseline)
        if b is None:
            return None
        if self.ratio is not None:
            return t / b
        if self.delta_us is not None:
            return (t - b) * 1e6
        return b / t

    def met(self, value: float) -> bool:
        if self.ratio is not None:
            return value <= self.ratio
        if self.delta_us is not None:
            return value <= self.delta_us
        if self.seconds is not None:
            return value <= self.seconds
        return value >= self.speedup

    def status(self, res: "WorkloadResult") -> str:
        """'yes', 'NO' or 'n/a'; a speedup also shows its measured value (no cell has it)."""
        v = self.measure(res)
        if v is None:
            return "n/a"
        s = "yes" if self.met(v) else "NO"
        if self.speedup is not None:
            s += f" ({v:.1f}x)"
        return s


@dataclass
class Workload:
    name: str
    family: str
    description: str
    make_data: Callable[[], dict[str, Any]]
    # One Target, several (e.g. eager and jit), or None.
    target: Target | tuple[Target, ...] | list[Target] | None = None
    # Ratios to hand-written NumPy measured elsewhere (issue text), for context.
    reported: dict[str, str] = field(default_factory=dict)
    rtol: float = 1e-7
    atol: float = 1e-10
    # "ratio" or "delta": how the report shows the non-reference columns.
    display: str = "ratio"
    builders: dict[str, Callable[[dict[str, Any]], Callable[[], Any]]] = field(default_factory=dict)
    # Extra lines for the notes, computed from the result (e.g. first call - warm call).
    derived: Callable[["WorkloadResult"], list[str]] | None = None

    @property
    def targets(self) -> list[Target]:
        t = self.target
        if t is None:
            return []
        return [t] if isinstance(t, Target) else list(t)

    def describe_targets(self) -> str:
        return "; ".join(f"{t.name} {t.describe()}" for t in self.targets)

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
        """'yes' / 'NO' / 'n/a' per target, joined by '; ' ('' without targets)."""
        return "; ".join(t.status(self) for t in self.workload.targets)


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


def fmt_delta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    return ("-" if seconds < 0 else "+") + fmt_time(abs(seconds))


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
        return f"{fmt_time(r.median)} ({fmt_delta(r.median - res.impls[REFERENCE].median)})"
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
        tdesc = res.workload.describe_targets()
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
        if w.derived is not None:
            try:
                out += [f"    {line}" for line in w.derived(res)]
            except Exception as e:  # noqa: BLE001 - a missing column must not lose the report
                out.append(f"    (derived numbers unavailable: {type(e).__name__}: {e})")
        for n, r in res.impls.items():
            if r.status in ("error", "mismatch"):
                out.append(f"    {n}: {r.status}: {r.message}")
    return "\n".join(out)


def to_json(results: list[WorkloadResult]) -> list:
    out = []
    for res in results:
        w = res.workload
        entry = {"workload": w.name, "family": w.family, "description": w.description,
                 "rounds": res.rounds, "met": res.target_status() or None, "targets": [],
                 "impls": {}}
        for t in w.targets:
            entry["targets"].append({"impl": t.impl, "baseline": t.baseline, "ratio": t.ratio,
                                     "delta_us": t.delta_us, "seconds": t.seconds,
                                     "speedup": t.speedup, "measured": t.measure(res),
                                     "met": t.status(res)})
        if w.derived is not None:
            try:
                entry["derived"] = w.derived(res)
            except Exception:  # noqa: BLE001
                pass
        for n, r in res.impls.items():
            e = {"status": r.status, "message": r.message}
            if r.samples:
                e.update(median_s=r.median, min_s=min(r.samples), iqr_rel=r.spread,
                         calls_per_sample=r.number, samples=len(r.samples),
                         ratio=res.ratio(n), delta_us=res.delta_us(n))
            entry["impls"][n] = e
        out.append(entry)
    return out
