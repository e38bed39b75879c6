"""``make demo``: the seed's case studies at quick sizes, zymase side by side with jax.

Runs the benchmark suite (``benchmarks/``) in quick mode and prints one table — case, jax
time, zymase time, speedup, max |zymase - jax| — then writes the plots and results.json
into ``demo-out/`` (or the directory given with ``--out``). Where zymase loses, the table
says so (speedup below 1); a case zymase fails on is shown as FAILED with the error.

    python -m zymase.demo [--out DIR] [case ...]

The full run with more sizes and runs is ``make bench`` (``python -m benchmarks``).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zymase.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*", help="cases to run (default: all)")
    ap.add_argument("--out", default="demo-out", help="directory for the plots and results.json (default: demo-out)")
    args = ap.parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    root = pathlib.Path(__file__).resolve().parents[2]
    if (root / "benchmarks" / "__main__.py").exists() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from benchmarks.__main__ import main as bench_main
    except ImportError as e:
        raise SystemExit(f"zymase.demo needs the benchmarks/ package of a source checkout ({e})")
    print(f"zymase demo: the seed's case studies at quick sizes; plots and results go to {args.out}/")
    return bench_main([*args.cases, "--quick", "--out", args.out])


if __name__ == "__main__":
    sys.exit(main())
