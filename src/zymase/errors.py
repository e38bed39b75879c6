""":class:`MlirError`, the user error of MLIR programs (parse, verify, emit, call, and
zymase-opt's arguments). It lives alone, importing nothing, so that zymase-opt can catch
it before it imports the IR (``--list-passes`` loads no dialect); :mod:`zymase.loader`
re-exports it."""

from __future__ import annotations


class MlirError(Exception):
    """A user error in an MLIR program: ``location: error: message`` on one line."""

    def __init__(self, message: str, location: str | None = None):
        self.message = _one_line(message)
        self.location = location
        super().__init__(f"{location}: error: {self.message}" if location else f"error: {self.message}")


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


__all__ = ["MlirError"]
