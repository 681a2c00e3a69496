"""A dependency-free picture of a Graph: a layered drawing written as SVG.

Inputs sit on the top row, each primitive one row below its deepest operand, and
outputs at the bottom; edges are straight arrows. Good enough for the small graphs
people draw to learn (the seed's exp(-(sin x - cos y)^2) has six primitives); for
large graphs use ``Graph.to_dot()`` with Graphviz.
"""
from xml.sax.saxutils import escape

from ..interpreters.staging import Literal

BOX_W, BOX_H, GAP_X, GAP_Y = 120, 34, 30, 46


def to_svg(graph):
    name = graph._names()
    nodes, edges, level = [], [], {}
    producer = {}                   # var id -> key of the node that makes it
    for v in graph.in_vars:
        key = ("v", v.id)
        level[v.id] = 0
        producer[v.id] = key
        nodes.append((key, f"{name(v)}: {_short(v)}", 0, "input"))
    for i, e in enumerate(graph.eqns):
        deps = [level[x.id] for x in e.ins if not isinstance(x, Literal) and x.id in level]
        lv = max(deps, default=0) + 1
        key = ("e", i)
        label = e.prim.name
        lits = [_lit(x) for x in e.ins if isinstance(x, Literal)]
        if lits:
            label += " (" + ", ".join(lits) + ")"
        nodes.append((key, label, lv, "prim"))
        for x in e.ins:
            if not isinstance(x, Literal) and x.id in level:
                edges.append((producer[x.id], key))
        for o in e.outs:
            level[o.id] = lv
            producer[o.id] = key
    bottom = max((n[2] for n in nodes), default=0) + 1
    for k, x in enumerate(graph.outs):
        key = ("o", k)
        nodes.append((key, f"output {k}", bottom, "output"))
        if not isinstance(x, Literal) and x.id in level:
            edges.append((producer[x.id], key))
    rows = {}
    for n in nodes:
        rows.setdefault(n[2], []).append(n)
    # (a function of no arguments that returns nothing draws an empty picture)
    width = max((len(r) for r in rows.values()), default=1) * (BOX_W + GAP_X) + GAP_X
    height = (bottom + 1) * (BOX_H + GAP_Y) + GAP_Y
    pos = {}
    for lv, row in rows.items():
        off = (width - len(row) * (BOX_W + GAP_X) + GAP_X) / 2
        for j, n in enumerate(row):
            pos[n[0]] = (off + j * (BOX_W + GAP_X), GAP_Y + lv * (BOX_H + GAP_Y))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" font-family="Helvetica, Arial" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>']
    for a, b in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        out.append(f'<line x1="{x1 + BOX_W / 2:.0f}" y1="{y1 + BOX_H:.0f}" '
                   f'x2="{x2 + BOX_W / 2:.0f}" y2="{y2:.0f}" stroke="#555" '
                   f'marker-end="url(#arrow)"/>')
    fill = {"input": "#dbeafe", "prim": "#fef3c7", "output": "#dcfce7"}
    for key, label, _, kind in nodes:
        x, y = pos[key]
        rx = 17 if kind != "prim" else 6
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" '
                   f'rx="{rx}" fill="{fill[kind]}" stroke="#333"/>')
        out.append(f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 4:.0f}" '
                   f'text-anchor="middle">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _short(v):
    return "scalar" if not v.shape else "x".join(map(str, v.shape))


def _lit(x):
    v = x.val
    if getattr(v, "shape", ()):
        return "const"
    try:                                    # (a complex scalar, NumPy's too, as complex:
        if x.dtype.kind == "c":             # float() would drop its imaginary part)
            return f"{complex(v):g}"
        return f"{float(v):g}"
    except (TypeError, ValueError):
        return "const"
