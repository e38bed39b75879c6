import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("ZYMASE_VERIFY", "1")  # verify every derivative module the tests build
# XLA compilation is about half of the suite's time: tests compile with XLA's cheaper
# backend settings (LLVM optimizes less, and fusions are emitted by XLA's older IR
# emitters, which compile in half the time of its MLIR fusion emitters; values are
# compared with the same tolerances, and test_loop_copies' checks of the compiled HLO
# pass with and without them). The benchmarks compile with the defaults.
XLA_TEST_FLAGS = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true --xla_cpu_use_fusion_emitters=false"
os.environ.setdefault("XLA_FLAGS", XLA_TEST_FLAGS)


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def x64():
    """float64 for one test module (``pytestmark = pytest.mark.usefixtures("x64")``)."""
    import jax

    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", old)


# Tests that each take several seconds of CPU run first: pytest-xdist (``-n 2``) deals
# out the first quarter of the collection in turn, so the long ones are spread over
# both workers and none of them is left alone at the end while the other worker idles.
RUN_FIRST = (
    "tests/test_opt_hypothesis.py::test_optimizer_preserves_values",
    "tests/test_composition.py::test_sharded_over_four_host_devices",
    "tests/test_linalg.py::test_jax_differentiates_the_emitted_solve_twice",
    "tests/test_linalg.py::test_hessian_vector_product",
    "tests/test_benchmarks_smoke.py",
    "tests/test_libraries.py::test_grad_refused_by_jax_checkpointed_by_zymase",
    "tests/test_libraries.py::test_grad_matches_jax",
    "tests/test_nested.py::test_jax_transformations_over_nested_results",
)


def pytest_configure(config):
    # pytest-xdist's own mark, registered here too for runs without xdist (-p no:xdist).
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker under --dist loadgroup")


def pytest_collection_modifyitems(config, items):
    """Move the tests of RUN_FIRST to the front (a stable sort: the order is otherwise
    unchanged, and the same on every xdist worker)."""

    def first(item) -> bool:
        nodeid = item.nodeid if item.nodeid.startswith("tests/") else "tests/" + item.nodeid
        return any(nodeid == p or nodeid.startswith(p + "[") or nodeid.startswith(p + "::") for p in RUN_FIRST)

    items.sort(key=lambda item: not first(item))
