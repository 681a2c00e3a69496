"""The README's example runs and says what it claims."""
import pathlib
import re

import numpy as np


def test_readme_ten_line_example_runs():
    text = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    code = re.search(r"## Ten lines\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    ns = {}
    exec(code, ns)
    assert isinstance(ns["g"], np.ndarray) and ns["g"].dtype == np.float64
    assert ns["per_example"].shape == (8, 3, 2)
    assert ns["H"].shape == (6, 6)
    np.testing.assert_allclose(ns["per_example"].mean(0), ns["g"], rtol=1e-12)
    np.testing.assert_allclose(ns["H"], ns["H"].T, atol=1e-12)
