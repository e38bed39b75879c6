import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("ZYMASE_VERIFY", "1")  # verify every derivative module the tests build
