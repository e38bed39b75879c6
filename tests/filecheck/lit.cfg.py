import os
import sys

import lit.formats

config.name = "zymase"
config.test_format = lit.formats.ShTest(False)  # lit's internal shell (provides `not`)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit.cfg.py", "Inputs"]

# Tools come from the virtual environment lit runs in.
bin_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
config.environment["JAX_PLATFORMS"] = "cpu"
config.substitutions.append(("FileCheck", "filecheck"))
config.substitutions.append(("%python", sys.executable))
# `--run` compiles with XLA's cheaper backend settings, as the pytest suite does
# (tests/conftest.py): the values checked are the same.
config.environment["XLA_FLAGS"] = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true --xla_cpu_use_fusion_emitters=false"
