"""Sparsity patterns: from a fixed list of (row, column) entries to compressed-sparse-column storage.

Contract: :func:`coo_pattern` maps every entry a kernel writes (repeats allowed, summed) to its slot in the CSC
``data`` array; the pattern is computed once per topology and every later matrix with the same entries is
assembled by scattering values into ``data[slot[k]]``. Compiled (numba) because it runs on every cold solve,
where ``np.unique`` and its surroundings cost more than the solve on networks of a few hundred nodes.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

I64 = NDArray[np.int64]
I32 = NDArray[np.int32]


@njit(cache=True, nogil=True)
def coo_pattern(n: int, rows: I64, cols: I64) -> tuple[I32, I32, I64]:
    """CSC pattern of an n x n matrix with entries at (rows[k], cols[k]), duplicates merged.

    Returns ``(indptr, indices, slot)``: row indices sorted within each column, and ``slot[k]`` the position
    of entry k in the CSC data array. Equivalent to ``np.unique(cols * n + rows, return_inverse=True)``."""
    m = rows.shape[0]
    # bucket the entries by column (counting sort, stable), then sort each column's few rows by insertion
    start = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        start[cols[k] + 1] += 1
    for j in range(n):
        start[j + 1] += start[j]
    fill = start[:-1].copy()
    order = np.empty(m, dtype=np.int64)
    for k in range(m):
        c = cols[k]
        order[fill[c]] = k
        fill[c] += 1
    for j in range(n):
        for i in range(start[j] + 1, start[j + 1]):
            k = order[i]
            r = rows[k]
            h = i - 1
            while h >= start[j] and rows[order[h]] > r:
                order[h + 1] = order[h]
                h -= 1
            order[h + 1] = k
    slot = np.empty(m, dtype=np.int64)
    indices = np.empty(m, dtype=np.int32)
    indptr = np.zeros(n + 1, dtype=np.int32)
    nnz = 0
    for j in range(n):
        prev = -1
        for i in range(start[j], start[j + 1]):
            k = order[i]
            if rows[k] != prev:
                prev = rows[k]
                indices[nnz] = prev
                nnz += 1
            slot[k] = nnz - 1
        indptr[j + 1] = nnz
    return indptr, indices[:nnz].copy(), slot
