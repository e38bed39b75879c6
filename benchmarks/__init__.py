"""zymase's benchmark suite: the seed's case studies, side by side with jax.

    python -m benchmarks [case ...] [--quick | --tiny] [--out DIR] [--markdown BENCHMARKS.md]

One module per case (``CASES`` below, in order); :mod:`benchmarks.harness` does the
timing, cost analysis and comparison; :mod:`benchmarks.__main__` is the runner.
"""

CASES = ("kan", "slice_dot", "vector_norm", "loops", "sparse_hessian", "sparse_jacobian", "mlp_hessian", "vmc_laplacian", "activity", "checkpoint")
