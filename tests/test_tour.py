"""The README's first command runs the tour: it must keep running, and write its pictures."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import tour  # noqa: E402


def test_tour_runs_and_writes_its_pictures(tmp_path, capsys):
    tour.main(out_dir=str(tmp_path), steps=60)
    out = capsys.readouterr().out
    for section in range(1, 16):
        assert f"=== {section}. " in out
    assert (tmp_path / "graph.svg").exists()
    assert "per-example gradients (256, 10) match a loop: True" in out
    assert "jit: 1 hit(s), 1 miss, 1 re-trace" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "plots skipped" in out
    else:
        assert (tmp_path / "moons.png").exists()
    try:
        import dask.array  # noqa: F401
    except ImportError:
        assert "skipped: dask is not installed" in out
    else:
        assert "-> dask.array.core.Array (a graph, nothing computed yet)" in out
        assert "same as on NumPy arrays: True" in out
