"""Colorings of sparsity patterns for compressed Jacobians and Hessians (numpy only).

- :func:`color_columns`: columns of one color share no row, so one forward-mode
  product with the sum of their unit vectors gives each of them exactly
  (``J[i, j] = (J s_c)[i]`` with ``c = color[j]``). Greedy, largest-first ordering
  (columns by decreasing number of nonzeros).
- :func:`color_rows`: the same on the transpose, for reverse mode.
- :func:`color_symmetric`: a star coloring of the adjacency graph of a symmetric
  pattern (Gebremedhin, Manne and Pothen's greedy algorithm: a distance-1 coloring in
  which every path on four vertices uses at least three colors), for Hessians by
  Hessian-vector products. Each nonzero ``H[i, j]`` is then read directly from
  ``(H s_{c(j)})[i]`` when ``j`` is the only column of its color in row ``i``, else from
  ``(H s_{c(i)})[j]``; :func:`symmetric_sources` checks that one of the two holds for
  every nonzero and the coloring falls back to :func:`color_columns` (always direct)
  otherwise, so recovery never rests on the algorithm being right.
"""

from __future__ import annotations

import numpy as np

from .sparsity import Pattern, unique_sorted

STAR_WORK_LIMIT = 50_000_000
"""Above this estimated work (sum of deg^3), symmetric patterns are colored by columns."""


def _adjacency(p: Pattern) -> list[list[int]]:
    return [p.indices[p.indptr[r] : p.indptr[r + 1]].tolist() for r in range(p.shape[0])]


def _largest_first(degrees: np.ndarray) -> np.ndarray:
    return np.argsort(-degrees, kind="stable")


GREEDY_WORK_LIMIT = 20_000_000
"""Above this work (sum over rows of nnz^2), columns get one color each (no compression)."""


def color_columns(p: Pattern) -> np.ndarray:
    """A color per column; columns of one color share no row. Nearly dense patterns,
    where the greedy search would cost more than it can save, get one color per column."""
    m, n = p.shape
    if float(np.sum(np.diff(p.indptr).astype(np.float64) ** 2)) > GREEDY_WORK_LIMIT:
        return np.arange(n, dtype=np.int64)
    rows_of = _adjacency(p.transpose())  # per column, its rows
    cols_of = _adjacency(p)  # per row, its columns
    color = np.full(n, -1, np.int64)
    forbidden = np.full(n + 1, -1, np.int64)
    for v in _largest_first(np.diff(p.transpose().indptr)):
        v = int(v)
        for r in rows_of[v]:
            for w in cols_of[r]:
                c = color[w]
                if c >= 0:
                    forbidden[c] = v
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return color


def color_rows(p: Pattern) -> np.ndarray:
    """A color per row; rows of one color share no column."""
    return color_columns(p.transpose())


def _star(p: Pattern) -> np.ndarray:
    n = p.shape[0]
    nbr = [[w for w in row if w != v] for v, row in enumerate(_adjacency(p))]
    color = np.full(n, -1, np.int64)
    forbidden = np.full(n + 1, -1, np.int64)
    for v in _largest_first(np.array([len(x) for x in nbr], np.int64)):
        v = int(v)
        for w in nbr[v]:
            cw = color[w]
            if cw >= 0:
                forbidden[cw] = v
            for x in nbr[w]:
                if x == v or color[x] < 0:
                    continue
                if cw < 0:
                    forbidden[color[x]] = v
                else:
                    for y in nbr[x]:
                        if y != w and color[y] == cw:
                            forbidden[color[x]] = v
                            break
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return color


def column_sources(p: Pattern, color: np.ndarray) -> np.ndarray | None:
    """Per nonzero (CSR order), the flat index ``color[j] * m + i`` of its value in the
    compressed (colors, m) matrix of a column coloring; None when the coloring is invalid."""
    return _compressed_sources(p.rows(), p.indices, color, p.shape[0])


def symmetric_sources(p: Pattern, color: np.ndarray) -> np.ndarray | None:
    """Per nonzero (CSR order), the flat index in the compressed (colors, n) matrix of
    Hessian-vector products ``H s_c`` from which it is read directly; None when some
    nonzero cannot be read directly."""
    n = p.shape[0]
    rows, cols = p.rows(), p.indices
    ncolors = int(color.max()) + 1 if color.size else 0
    key = rows * max(ncolors, 1) + color[cols]
    uniq, counts = unique_sorted(key, counts=True)

    def single(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        k = r * max(ncolors, 1) + color[c]
        pos = np.searchsorted(uniq, k)
        found = uniq[np.minimum(pos, uniq.size - 1)] == k
        return found & (counts[np.minimum(pos, uniq.size - 1)] == 1)

    if rows.size == 0:
        return np.zeros(0, np.int64)
    direct = single(rows, cols)  # j alone in row i among its color
    mirror = single(cols, rows)  # i alone in row j among its color
    if not np.all(direct | mirror):
        return None
    return np.where(direct, color[cols] * n + rows, color[rows] * n + cols)


def color_symmetric(p: Pattern) -> tuple[np.ndarray, np.ndarray]:
    """(colors, sources) for a symmetric pattern: a star coloring when it recovers every
    nonzero directly, else a column coloring."""
    degrees = np.diff(p.indptr).astype(np.float64)
    if float(np.sum(degrees**3)) <= STAR_WORK_LIMIT:
        color = _star(p)
        src = symmetric_sources(p, color)
        if src is not None:
            return color, src
    color = color_columns(p)
    src = column_sources(p, color)
    assert src is not None, "internal error: a column coloring that is not structurally orthogonal"
    return color, src


def row_sources(p: Pattern, color: np.ndarray) -> np.ndarray | None:
    """Per nonzero (CSR order), the flat index ``color[i] * n + j`` of its value in the
    compressed (colors, n) matrix of a row coloring; None when the coloring is invalid."""
    return _compressed_sources(p.indices, p.rows(), color, p.shape[1])


def _compressed_sources(kept: np.ndarray, colored: np.ndarray, color: np.ndarray, width: int) -> np.ndarray | None:
    """``color[colored] * width + kept`` per nonzero, or None when two nonzeros of one
    ``kept`` index share a color (they would land in one compressed entry)."""
    ncolors = int(color.max()) + 1 if color.size else 0
    key = kept * max(ncolors, 1) + color[colored]
    if unique_sorted(key).size != key.size:
        return None
    return color[colored] * width + kept
