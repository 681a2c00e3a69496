"""Random NumPy programs that mix views, copies and in-place writes.

``generate(seed)`` returns a :class:`Program`: the source of a function ``prog(x)``
written in plain NumPy (``np.``), built statement by statement. Each candidate
statement is run with NumPy on the program so far and kept only if NumPy accepts it
and every value stays finite and moderate, so every program is valid NumPy with a
smooth dependence on ``x`` near the sample point. The function returns every array it
made, so a write that fails to reach a view (or reaches a copy) shows in the values.

``tests/test_aliasing_programs.py`` checks each program under chainrule's
transformations against NumPy's values and central finite differences of the NumPy
program.
"""
import dataclasses
import random

import numpy as np

SHAPES = [(4, 6), (3, 4, 5), (6,), (5, 4)]

SMOOTH = ["np.sin({})", "np.tanh({})", "np.cos({})", "({} * 0.5 + 0.25)", "np.exp(0.3 * {})",
          "({} * {})", "np.sin({}) * 1.5", "np.arctan({})", "(1.0 / (1.5 + np.cos({})))"]


@dataclasses.dataclass
class Program:
    seed: int
    shape: tuple
    lines: list
    outputs: list
    vmappable: bool = True      # False: reads a boolean mask (a data-dependent shape)

    @property
    def source(self):
        body = "\n".join("    " + ln for ln in self.lines)
        outs = ", ".join(self.outputs)
        return f"def prog(x):\n{body}\n    return ({outs},)\n"

    def function(self, namespace=None):
        ns = {"np": np}
        ns.update(namespace or {})
        exec(compile(self.source, f"<aliasing program {self.seed}>", "exec"), ns)
        return ns["prog"]


def _basic_index(rng, shape):
    """A random basic index (ints, slices with steps, None, Ellipsis) that keeps at
    least one element; returns its source text."""
    parts = []
    for d in shape:
        r = rng.random()
        if r < 0.25 and d > 1:
            parts.append(str(rng.randrange(-d, d)))
        elif r < 0.5:
            parts.append(":")
        else:
            step = rng.choice([1, 1, 2, -1, -2, 3])
            if step > 0:
                a = rng.randrange(0, d)
                b = rng.randrange(a + 1, d + 1)
                parts.append(f"{a}:{b}" + (f":{step}" if step != 1 else ""))
            else:
                a = rng.randrange(0, d)
                b = rng.randrange(-1, a)
                parts.append(f"{a}:{'' if b < 0 else b}:{step}")
    if rng.random() < 0.2:
        parts.insert(rng.randrange(len(parts) + 1), "None")
    if rng.random() < 0.15 and len(parts) > 1:
        k = rng.randrange(1, len(parts))
        parts = parts[:k] + ["..."] if rng.random() < 0.5 else ["..."] + parts[k:]
    return ", ".join(parts)


def _reshapes(shape):
    n = int(np.prod(shape))
    out = [(n,), (-1,)]
    for a in range(2, n):
        if n % a == 0:
            out.append((a, n // a))
    if len(shape) >= 2:
        out.append(shape[::-1])
        out.append((shape[0], -1))
    return out


class _Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.shape = self.rng.choice(SHAPES)
        self.x = np.random.default_rng(seed).uniform(-1.0, 1.0, self.shape)
        self.lines = []
        self.names = ["x"]
        self.count = 0

    # -- running the program so far with NumPy
    def run(self, lines):
        ns = {"np": np, "x": self.x.copy()}
        with np.errstate(all="raise"):
            exec("\n".join(lines), ns)
        return ns

    def accept(self, line, new=None):
        lines = self.lines + [line]
        try:
            ns = self.run(lines)
        except Exception:
            return False
        for name in self.names + ([new] if new else []):
            v = ns[name]
            if not isinstance(v, (np.ndarray, np.floating)) or \
                    np.asarray(v).dtype != np.float64 or np.asarray(v).size == 0:
                return False
            if not np.all(np.isfinite(v)) or np.max(np.abs(v)) > 50:
                return False
        self.lines = lines
        if new:
            self.names.append(new)
        return True

    def state(self):
        return self.run(self.lines)

    def arrays(self, ns, ndim_min=0):
        return [n for n in self.names if isinstance(ns[n], np.ndarray) and
                ns[n].ndim >= ndim_min]

    def fresh(self):
        self.count += 1
        return f"v{self.count}"

    # -- statements
    def view(self, ns):
        names = self.arrays(ns, 1)
        a = self.rng.choice(names)
        s = ns[a].shape
        nd = len(s)
        rng = self.rng
        perm = list(range(nd))
        rng.shuffle(perm)
        kinds = [
            f"{a}.T", f"{a}[{_basic_index(rng, s)}]", f"{a}[{_basic_index(rng, s)}]",
            f"{a}.transpose({tuple(perm)})", f"np.transpose({a})",
            f"{a}.reshape({rng.choice(_reshapes(s))})", f"np.reshape({a}, "
            f"{rng.choice(_reshapes(s))})", f"{a}.ravel()", f"np.ravel({a})",
            f"{a}[...]", f"{a}.view()", f"np.expand_dims({a}, {rng.randrange(-nd - 1, nd + 1)})",
            f"np.flip({a}, {rng.randrange(nd)})", f"{a}[::-1]",
            f"np.split({a}, {s[0] if s[0] < 4 else 2}, axis=0)[{rng.randrange(2)}]"
            if s[0] % 2 == 0 else f"{a}[1:]",
            f"np.atleast_2d({a})", f"np.squeeze({a}[:1])",
            f"np.diagonal({a})" if nd >= 2 else f"{a}[:]",
            f"np.broadcast_to({a}, (2,) + {a}.shape)",
        ]
        if nd >= 2:
            i, j = rng.sample(range(nd), 2)
            kinds += [f"np.swapaxes({a}, {i}, {j})", f"np.moveaxis({a}, {i}, {j})",
                      f"{a}[:, {rng.randrange(s[1])}]", f"{a}[{rng.randrange(s[0])}]"]
        v = self.fresh()
        return self.accept(f"{v} = {rng.choice(kinds)}", v)

    def copy(self, ns):
        names = self.arrays(ns, 1)
        a = self.rng.choice(names)
        s = ns[a].shape
        rng = self.rng
        idx = sorted(rng.sample(range(s[0]), min(s[0], 2)))
        kinds = [f"{a}.copy()", f"np.copy({a})", f"{a}.astype(np.float64)", f"+{a}",
                 f"{a}.flatten()", f"{a}[{idx}]", f"{a}[{a} > 0]",
                 f"{a}.reshape(-1).copy()", f"{a}.T.copy()"]
        v = self.fresh()
        return self.accept(f"{v} = {rng.choice(kinds)}", v)

    def compute(self, ns):
        names = self.arrays(ns)
        a = self.rng.choice(names)
        expr = self.rng.choice(SMOOTH).format(a, a)
        if self.rng.random() < 0.3:
            expr = f"{expr} + {self.rng.choice(names)}"
        v = self.fresh()
        return self.accept(f"{v} = {expr}", v)

    def value_for(self, ns, target_shape):
        """Source of a value that broadcasts to ``target_shape``."""
        rng = self.rng
        names = self.names
        fits = [n for n in names if np.shape(ns[n]) == target_shape]
        r = rng.random()
        if r < 0.2:
            return repr(round(rng.uniform(-1, 1), 3))
        if r < 0.4:
            return f"np.sum({rng.choice(names)}) * {round(rng.uniform(-0.2, 0.2), 3)}"
        if fits and r < 0.8:
            return rng.choice(SMOOTH).format(*[rng.choice(fits)] * 2)
        if len(target_shape) >= 1 and target_shape[-1] > 0:
            last = [n for n in names if np.shape(ns[n])[-1:] == target_shape[-1:]
                    and np.ndim(ns[n]) == 1]
            if last:
                return f"np.cos({rng.choice(last)})"
        return repr(round(rng.uniform(-1, 1), 3))

    def write(self, ns):
        rng = self.rng
        names = self.arrays(ns, 1)
        a = rng.choice(names)
        s = ns[a].shape
        r = rng.random()
        if r < 0.35:
            idx = _basic_index(rng, s)
            try:
                region = np.shape(ns[a][eval(f"np.s_[{idx}]")])
            except Exception:
                return False
            op = rng.choice(["=", "=", "+=", "*=", "-="])
            line = f"{a}[{idx}] {op} {self.value_for(ns, region)}"
        elif r < 0.55:
            op = rng.choice(["+=", "*=", "-=", "/="])
            val = self.value_for(ns, s)
            if op == "/=":
                val = f"(2.0 + np.cos({val}))"
            line = f"{a} {op} {val}"
        elif r < 0.65:
            k = s[0]
            idx = [rng.randrange(k) for _ in range(rng.randrange(1, 5))]
            line = f"{a}[{idx}] = {self.value_for(ns, (len(idx),) + s[1:])}"
        elif r < 0.72:
            if not ns[a].flags.writeable:   # NumPy's ufunc.at ignores the flag; chainrule raises
                return False
            k = s[0]
            idx = [rng.randrange(k) for _ in range(rng.randrange(1, 5))]
            fn = rng.choice(["add", "add", "multiply", "subtract"])
            line = f"np.{fn}.at({a}, {idx}, {self.value_for(ns, (len(idx),) + s[1:])})"
        elif r < 0.8:
            line = f"{a}[{a} > {round(rng.uniform(-0.5, 0.5), 2)}] = {self.value_for(ns, ())}"
        elif r < 0.9:
            others = [n for n in self.arrays(ns) if np.shape(ns[n]) == s]
            b = rng.choice(others)
            fn = rng.choice(["add", "multiply", "subtract"])
            line = f"np.{fn}({b}, {self.value_for(ns, s)}, out={a})"
        elif r < 0.93:
            fn = rng.choice(["sin", "tanh", "cos"])
            line = f"np.{fn}({a}, out={a})"
        else:
            n = ns[a].size
            pos = [rng.randrange(n) for _ in range(rng.randrange(1, 4))]
            line = rng.choice([
                f"{a}.fill({round(rng.uniform(-1, 1), 2)})", f"{a}.sort(axis=-1)",
                f"np.copyto({a}, {self.value_for(ns, s)})",
                f"np.copyto({a}, {self.value_for(ns, s)}, where={a} > 0)",
                f"np.put({a}, {pos}, {self.value_for(ns, (len(pos),))})",
                f"np.putmask({a}, {a} < 0, {self.value_for(ns, s)})",
                f"np.fill_diagonal({a}, {self.value_for(ns, ())})" if len(s) >= 2
                else f"{a}[...] = {self.value_for(ns, s)}",
                f"np.clip({a}, -10.0, 10.0, out={a})"])
        return self.accept(line)


def generate(seed, length=None):
    """A random program (see the module docstring)."""
    g = _Gen(seed)
    length = length or g.rng.randrange(6, 14)
    g.accept("a = x * 1.0", "a")
    tries = 0
    while len(g.lines) < length and tries < 200:
        tries += 1
        ns = g.state()
        r = g.rng.random()
        if r < 0.3:
            g.view(ns)
        elif r < 0.45:
            g.copy(ns)
        elif r < 0.6:
            g.compute(ns)
        else:
            g.write(ns)
    masked_read = any(" = " in ln and "[" in ln.split(" = ", 1)[1] and " > " in
                      ln.split(" = ", 1)[1] and "] =" not in ln for ln in g.lines)
    return Program(seed, g.shape, g.lines, list(g.names), not masked_read)
