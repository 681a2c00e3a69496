"""Run the whole course in order: seeds 000 to 004.

Run:  python examples/course/run_all.py [--fast] [--out DIR]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _course  # noqa: E402

SCRIPTS = ["seed000_forward_reverse", "seed001_exercises", "seed002_cookbook",
           "seed003_moons", "seed004_optimisation"]


def main(fast=False, out_dir="out"):
    results, times = {}, {}
    for name in SCRIPTS:
        print(f"\n{'#' * 80}\n# {name}.py\n{'#' * 80}", flush=True)
        t0 = time.perf_counter()
        module = __import__(name)
        results[name] = module.main(fast=fast, out_dir=out_dir)
        times[name] = time.perf_counter() - t0
    print(f"\n{'#' * 80}\n# the course ran in {sum(times.values()):.1f} s: " + ", ".join(
        f"{k} {v:.1f} s" for k, v in times.items()))
    print(f"# plots and pictures are in {os.path.abspath(out_dir)}")
    return results


if __name__ == "__main__":
    args = _course.parse_args(__doc__)
    main(fast=args.fast, out_dir=args.out)
