"""Graph: a staged program (inputs, equations, outputs, guards) that prints as a
readable program, draws as Graphviz DOT, and counts FLOPs and bytes with each
primitive's own ``cost`` rule."""
import numpy as np

from ..interpreters.staging import Literal

_DT = {"float64": "f64", "float32": "f32", "complex128": "c128", "complex64": "c64",
       "int64": "i64", "int32": "i32", "bool": "bool"}


def _type(v):
    dt = _DT.get(str(v.dtype), str(v.dtype))
    return f"{dt}[{','.join(map(str, v.shape))}]"


def _literal(val):
    if isinstance(val, (bool, int, float, complex, np.number)) or np.ndim(val) == 0:
        return repr(val.item() if hasattr(val, "item") else val)
    return f"const{_type(Literal(val))}"


def _param(v):
    if callable(v):
        return getattr(v, "__name__", "fn")
    if isinstance(v, np.dtype):
        return str(v)
    return repr(v)


class Graph:
    """A staged program.

    Attributes
    ----------
    in_vars : list of Var
    eqns : list of Eqn
    outs : list of Var or Literal
    guards : list of Guard
        Values that Python control flow read while tracing.
    out_tree : PyTreeDef
        Structure of the function's output.
    """

    def __init__(self, in_vars, eqns, outs, guards=(), out_tree=None):
        self.in_vars, self.eqns, self.outs = list(in_vars), list(eqns), list(outs)
        self.guards = list(guards)
        self.out_tree = out_tree

    # -------------------------------------------------------------- printing
    def _names(self):
        names = {}

        def name(v):
            if v.id not in names:
                n = len(names)
                s = ""
                while True:
                    s = chr(ord("a") + n % 26) + s
                    n = n // 26 - 1
                    if n < 0:
                        break
                names[v.id] = s
            return names[v.id]
        return name

    def pretty(self):
        name = self._names()

        def operand(x):
            return _literal(x.val) if isinstance(x, Literal) else name(x)
        ins = " ".join(f"{name(v)}:{_type(v)}" for v in self.in_vars)
        lines = [f"{{ lambda {ins} . let"]
        for e in self.eqns:
            outs = " ".join(f"{name(v)}:{_type(v)}" for v in e.outs)
            params = " ".join(f"{k}={_param(v)}" for k, v in e.params.items())
            args = " ".join(operand(x) for x in e.ins)
            head = f"    {outs} = {e.prim.name}"
            lines.append(f"{head}[{params}] {args}" if params else f"{head} {args}")
        for g in self.guards:
            lines.append(f"    guard {g.kind}({name(g.var)}) == {g.value!r}")
        outs = ", ".join(operand(x) for x in self.outs)
        lines.append(f"  in ({outs}) }}")
        return "\n".join(lines)

    __str__ = pretty

    def __repr__(self):
        return f"<Graph: {len(self.in_vars)} inputs, {len(self.eqns)} equations, " \
               f"{len(self.outs)} outputs, {self.flops()} flops>"

    # -------------------------------------------------------------- drawing
    def to_dot(self, name="graph"):
        """Graphviz DOT source: inputs as ellipses, primitives as boxes."""
        vname = self._names()
        # (quoted: ``graph``, the default, is a DOT keyword, which ``dot`` rejects unquoted)
        title = str(name).replace("\\", "\\\\").replace('"', '\\"')
        lines = [f'digraph "{title}" {{', "  rankdir=TB;", '  node [fontname="Helvetica"];']
        producer = {}
        for v in self.in_vars:
            lines.append(f'  "{vname(v)}" [shape=ellipse, label="{vname(v)}\\n{_type(v)}"];')
            producer[v.id] = f'"{vname(v)}"'
        for i, e in enumerate(self.eqns):
            node = f"eq{i}"
            lines.append(f'  {node} [shape=box, style=rounded, label="{e.prim.name}"];')
            for x in e.ins:
                if isinstance(x, Literal):
                    lit = f"lit{i}_{id(x)}"
                    lines.append(f'  {lit} [shape=plaintext, label="{_literal(x.val)}"];')
                    lines.append(f"  {lit} -> {node};")
                elif x.id in producer:
                    lines.append(f'  {producer[x.id]} -> {node} [label="{_type(x)}"];')
            for v in e.outs:
                producer[v.id] = node
        for k, x in enumerate(self.outs):
            lines.append(f'  out{k} [shape=doublecircle, label="out{k}"];')
            if not isinstance(x, Literal) and x.id in producer:
                lines.append(f"  {producer[x.id]} -> out{k};")
        lines.append("}")
        return "\n".join(lines)

    def to_svg(self):
        """An SVG picture of the graph (no dependencies; layered layout)."""
        from .svg import to_svg
        return to_svg(self)

    def save(self, path):
        """Write the picture: ``.svg`` needs nothing; ``.png``/``.pdf`` use Graphviz's
        ``dot`` program through the optional ``graphviz`` package."""
        path = str(path)
        if path.endswith(".svg"):
            with open(path, "w") as f:
                f.write(self.to_svg())
            return path
        if path.endswith(".dot"):
            with open(path, "w") as f:
                f.write(self.to_dot())
            return path
        stem, dot, ext = path.rpartition(".")
        if not dot or not ext or "/" in ext or "\\" in ext:
            raise ValueError(f"Graph.save({path!r}): name the format by the file's "
                             "extension (.svg, .dot, or a Graphviz format: .png, .pdf)")
        return self.render(stem, format=ext)

    def render(self, path, format="svg"):
        """Render with the optional ``graphviz`` package (pip install graphviz, plus the
        Graphviz ``dot`` program) to ``path`` + ``"." + format`` (``path`` itself where it
        already ends so); returns the written file's path."""
        try:
            import graphviz
        except ImportError:
            raise ImportError("Graph.render needs the optional 'graphviz' package: "
                              "pip install chainrule[graph]; or write Graph.to_dot() to a "
                              "file and run `dot -Tsvg`") from None
        path = str(path)
        if not path.endswith("." + format):
            path = f"{path}.{format}"       # (graphviz writes ``outfile`` as named)
        src = graphviz.Source(self.to_dot())
        return src.render(outfile=path, format=format, cleanup=True)

    # -------------------------------------------------------------- costs
    def cost_table(self):
        """{primitive name: (count, flops)} over the equations."""
        table = {}
        for e in self.eqns:
            n, f = table.get(e.prim.name, (0, 0))
            table[e.prim.name] = (n + 1, f + int(e.prim.cost(e.ins, *_ans(e), **e.params)))
        return table

    def flops(self):
        """Total floating point operations, from each primitive's cost rule.

        Convention: elementwise ops cost one flop per output element (NumPy's
        transcendental functions too; SciPy's special functions declare 20 to 60); an
        (m, n) x (n, p) matrix product costs 2mnp - mp (an einsum of three or more
        operands: the pairwise contractions NumPy runs); reductions cost (input size -
        output size); pure data movement costs 0 (docs/graphs-and-jit.md).
        """
        return sum(f for _, f in self.cost_table().values())

    def bytes(self):
        """Bytes written by the equations (the size of every intermediate value)."""
        return sum(int(np.prod(v.shape)) * v.dtype.itemsize for e in self.eqns for v in e.outs)


def _ans(e):
    return (e.outs,) if e.prim.multiple_results else (e.outs[0],)
