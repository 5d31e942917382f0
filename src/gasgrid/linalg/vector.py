"""Small compiled vector reductions shared by the steady and transient Newton loops."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]


@njit(cache=True, nogil=True, error_model="numpy")
def abs_max(x: F64, start: int, stop: int) -> float:
    """max |x[start:stop]| (0 when empty, NaN if any entry is NaN), as np.max(np.abs(...), initial=0)."""
    out = 0.0
    for i in range(start, stop):
        v = abs(x[i])
        if v > out:
            out = v
        elif v != v:
            return v
    return out
