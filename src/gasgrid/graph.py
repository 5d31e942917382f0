"""Small graph kernels used on every solve (compiled with numba: the scipy.sparse.csgraph route costs more in
matrix construction and validation than in the search itself on networks of a few hundred arcs)."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

I64 = NDArray[np.int64]


@njit(cache=True, nogil=True)
def _components(n: int, a: I64, b: I64) -> tuple[int, I64]:
    parent = np.arange(n)
    for k in range(a.shape[0]):
        x, y = a[k], b[k]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x != y:
            if x < y:
                parent[y] = x
            else:
                parent[x] = y
    label = np.full(n, -1, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        r = i
        while parent[r] != r:
            r = parent[r]
        if label[r] < 0:
            label[r] = count
            count += 1
        out[i] = label[r]
    return count, out


def connected_components(n: int, a: ArrayLike, b: ArrayLike) -> tuple[int, I64]:
    """Connected components of the undirected graph on vertices 0..n-1 with edges (a[k], b[k]).

    Returns (number of components, label per vertex); components are numbered in the order of their smallest
    vertex, as :func:`scipy.sparse.csgraph.connected_components` numbers them."""
    a_arr = np.ascontiguousarray(a, dtype=np.int64)
    b_arr = np.ascontiguousarray(b, dtype=np.int64)
    count, labels = _components(int(n), a_arr, b_arr)
    return int(count), labels
