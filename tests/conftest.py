import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("ZYMASE_VERIFY", "1")  # verify every derivative module the tests build


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def x64():
    """float64 for one test module (``pytestmark = pytest.mark.usefixtures("x64")``)."""
    import jax

    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", old)
