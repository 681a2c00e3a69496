"""Every Python block of README.md and docs/*.md runs as pasted, and prints what it says.

One test per page runs the page's ```python blocks in order, in one namespace, as a
user pasting them into a fresh interpreter would (everything a block uses is imported
or made on the page), in a temporary working directory. The conventions (written down
for doc authors in docs/contributing-primitives.md, "Code blocks in the docs"):

- Every fenced block names its language: ```python (run), ```bash (shell commands) or
  ```text (program output, diagrams, tables).
- A statement that prints ends with ``# -> what it prints`` (several lines of output:
  one ``# -> line`` comment per line, right after the statement). The test compares the
  printed text with it: whitespace may differ, ``...`` stands for any text, and a number
  matches when the printed one, rounded to the digits shown, equals it (``3.7e-21``
  matches ``3.6972e-21``; ``0.25`` matches ``0.2500001``).
- A ```python block that is deliberately not runnable (an excerpt of a file, a template)
  has a line ``# not run: <why>``; the test skips it and counts it (keep them rare).
"""
import ast
import contextlib
import decimal
import io
import pathlib
import re
import sys
import tokenize
import types

import numpy as np
import pytest

import chainrule as cr

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
LANGUAGES = {"python", "bash", "text"}
MAX_NOT_RUN = 4          # deliberately unrunnable ```python blocks, over all pages

_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_NOT_RUN = re.compile(r"^\s*# not run: \S")
_ARROW = "# ->"


class Block:
    def __init__(self, page, line, lang, text):
        self.page, self.line, self.lang, self.text = page, line, lang, text

    @property
    def not_run(self):
        return any(_NOT_RUN.match(s) for s in self.text.splitlines())

    def __repr__(self):
        return f"{self.page}:{self.line}"


def blocks(page):
    """The fenced blocks of a page: (first line of code, 1-based), language, the code
    with the fence's indentation removed."""
    out, lines, i = [], (ROOT / page).read_text().splitlines(), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = len(m.group(1)), m.group(2), i + 1
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            i += 1
        if i == len(lines):
            raise AssertionError(f"{page}:{start}: a code block is not closed")
        body = [s[indent:] if s[:indent].strip() == "" else s for s in lines[start:i]]
        out.append(Block(page, start + 1, lang, "\n".join(body) + "\n"))
        i += 1
    return out


# -- what a statement says it prints ---------------------------------------------------

_NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_EXPECTED_TOKEN = re.compile(rf"(\.\.\.|\s+|(?<![\w.]){_NUMBER}(?![\w]))")


def matches(expected, printed):
    """Whether ``printed`` is what ``expected`` (a ``# ->`` text) says: whitespace may
    differ, ``...`` is any text, numbers are compared to the digits ``expected`` shows."""
    pattern, numbers = [], []
    for tok in _EXPECTED_TOKEN.split(expected.strip()):
        if not tok:
            continue
        if tok == "...":
            pattern.append(".*?")
        elif tok.isspace():
            pattern.append(r"\s*")
        elif re.fullmatch(_NUMBER, tok):
            pattern.append(rf"\s*({_NUMBER})\s*")
            numbers.append(tok)
        else:
            pattern.append(r"\s*" + re.escape(tok))
    m = re.fullmatch("".join(pattern), printed.strip(), re.S)
    if m is None:
        return False
    for want, got in zip(numbers, m.groups()):
        want = decimal.Decimal(want)
        half_digit = decimal.Decimal(5).scaleb(want.as_tuple().exponent - 1)
        if abs(decimal.Decimal(got) - want) > half_digit * (1 + decimal.Decimal("1e-9")):
            return False
    return True


def statements(block):
    """The block's top-level statements, each with the output its ``# ->`` comments
    state (None where it states none)."""
    tree = ast.parse(block.text, filename=repr(block))
    arrows = {}                                     # line -> text of a '# ->' comment
    own_line = set()                                # lines holding nothing but it
    for tok in tokenize.generate_tokens(io.StringIO(block.text).readline):
        if tok.type == tokenize.COMMENT and tok.string.startswith(_ARROW):
            arrows[tok.start[0]] = tok.string[len(_ARROW):].strip()
            if not tok.line[:tok.start[1]].strip():
                own_line.add(tok.start[0])
    out, used = [], set()
    for stmt in tree.body:
        expected, line = [], stmt.end_lineno
        if line in arrows and line not in own_line:
            expected.append(arrows[line])
            used.add(line)
        line += 1
        while line in own_line:
            expected.append(arrows[line])
            used.add(line)
            line += 1
        out.append((stmt, "\n".join(expected) if expected else None))
    stray = sorted(set(arrows) - used)
    assert not stray, (f"{block.page}:{block.line + stray[0] - 1}: a '# ->' comment must "
                       "end a statement's last line or follow it directly")
    return out


def run_block(block, namespace):
    for stmt, expected in statements(block):
        line = block.line + stmt.end_lineno - 1
        module = ast.Module(body=[stmt], type_ignores=[])
        ast.increment_lineno(module, block.line - 1)  # tracebacks name the page's lines
        code = compile(module, block.page, "exec")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(code, namespace)
        sys.stdout.write(buf.getvalue())             # shown by pytest on a failure
        if expected is not None and not matches(expected, buf.getvalue()):
            raise AssertionError(f"{block.page}:{line} prints\n{buf.getvalue()}"
                                 f"but the page says\n{expected}")


# -- the tests -------------------------------------------------------------------------

def _readme(ns):
    """The ten lines' claims beyond what they print."""
    assert isinstance(ns["g"], np.ndarray) and ns["g"].dtype == np.float64
    np.testing.assert_allclose(ns["per_example"].mean(0), ns["g"], rtol=1e-12)
    np.testing.assert_allclose(ns["H"], ns["H"].T, atol=1e-12)


CHECKS = {"README.md": _readme}


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A temporary working directory, and NumPy's and chainrule's global settings
    (print options, floating-point error handling, random state, config) restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    options = {k: getattr(cr.config, k) for k in cr.config._options}
    state = np.random.get_state()
    with np.printoptions(), np.errstate():
        yield tmp_path
    np.random.set_state(state)
    for k, v in options.items():
        cr.config.update(k, v)


# pages whose code needs an optional peer (skipped, naming it, when it is not installed)
NEEDS = {"docs/scale.md": "dask.array", "docs/nn.md": "matplotlib",
         "docs/tutorial.md": "matplotlib"}


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_prints_what_it_says(page, isolated):
    if page in NEEDS:
        pytest.importorskip(NEEDS[page])
    name = "docs_" + re.sub(r"\W", "_", page)
    module = types.ModuleType(name)        # a real module, so dataclasses and pickle work
    sys.modules[name] = module
    try:
        for block in blocks(page):
            if block.lang == "python" and not block.not_run:
                run_block(block, module.__dict__)
        if page in CHECKS:
            CHECKS[page](module.__dict__)
    finally:
        del sys.modules[name]


def test_every_block_names_its_language():
    untagged = [b for p in PAGES for b in blocks(p) if b.lang not in LANGUAGES]
    assert not untagged, (f"fenced blocks without a language among {sorted(LANGUAGES)}: "
                          f"{untagged}")


def test_blocks_not_run_are_rare_and_say_why():
    not_run = [b for p in PAGES for b in blocks(p) if b.lang == "python" and b.not_run]
    assert len(not_run) <= MAX_NOT_RUN, f"{len(not_run)} blocks are not run: {not_run}"


def test_readme_ten_lines_are_ten_lines():
    text = (ROOT / "README.md").read_text()
    code = re.search(r"## Ten lines\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len([s for s in code.splitlines() if s.strip()]) <= 10


@pytest.mark.parametrize("expected, printed, ok", [
    ("36.0", "36.0", True),
    ("{'w': array([3., 3., 3.]), 'b': array(-1.)}",
     "{'w': array([3.        , 3.        , 3.        ]), 'b': array(-1.)}", True),
    ("{'w': array([3., 3., 3.]), 'b': array(-1.)}", "{'w': array([ 3., 3., 3.]), "
     "'b': array(-1.)}", True),
    ("3.7e-21", "3.6972e-21", True),
    ("3.7e-21", "3.76e-21", False),
    ("-0.841470984807897", "-0.8414709848078965", True),
    ("nit=21, ...", "nit=21, nfev=28", True),
    ("nit=21, ...", "nit=22, nfev=28", False),
    ("f64[] = sin a", "f64[] = sin a", True),
    ("0.25", "0.26", False),
])
def test_the_output_convention(expected, printed, ok):
    assert matches(expected, printed) is ok
