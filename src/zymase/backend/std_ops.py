"""lax emitters for MLIR's standard dialects: arith, math and scf (func.call lives in
:mod:`.emitter`), on scalars and tensors, so MLIR written by hand runs."""
