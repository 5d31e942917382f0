"""linalg.pattern.coo_pattern: the CSC pattern and scatter slots of a COO entry list, against np.unique."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gasgrid.linalg.pattern import coo_pattern


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 3, 0), (7, 40, 1), (50, 400, 2), (300, 2000, 3)])
def test_matches_unique_and_scipy(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, m)
    cols = rng.integers(0, n, m)
    indptr, indices, slot = coo_pattern(n, rows, cols)
    uniq, ref_slot = np.unique(cols * n + rows, return_inverse=True)
    np.testing.assert_array_equal(indices, uniq % n)
    np.testing.assert_array_equal(slot, ref_slot.ravel())
    assert indptr.dtype == indices.dtype == np.int32 and indptr[-1] == len(uniq)
    # scattering values through the slots sums duplicates, as scipy's COO -> CSC does
    vals = rng.standard_normal(m)
    data = np.bincount(slot, weights=vals, minlength=len(indices))
    ours = sp.csc_matrix((data, indices, indptr), shape=(n, n)).toarray()
    np.testing.assert_allclose(ours, sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).toarray(), rtol=1e-14)


def test_empty_and_empty_columns() -> None:
    indptr, indices, slot = coo_pattern(4, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert list(indptr) == [0, 0, 0, 0, 0] and len(indices) == 0 and len(slot) == 0
    indptr, indices, slot = coo_pattern(4, np.array([3, 0, 3]), np.array([2, 2, 2]))
    assert list(indptr) == [0, 0, 0, 2, 2] and list(indices) == [0, 3] and list(slot) == [1, 0, 1]
