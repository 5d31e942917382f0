"""gasgrid.linalg: compiled sparse linear algebra for the solvers' inner loops.

:mod:`gasgrid.linalg.pattern` maps a fixed list of matrix entries to compressed-sparse-column storage (once per
topology); :mod:`gasgrid.linalg.sparse_lu` factorises matrices that share one sparsity pattern (Newton steps)
with a symbolic analysis done once and numba kernels callable from compiled code.
"""

from gasgrid.linalg.pattern import coo_pattern
from gasgrid.linalg.sparse_lu import (
    DEFAULT_PIVOT_TOL,
    LUFactors,
    LUPattern,
    analyse,
    lu_factor,
    lu_solve,
)

__all__ = ["DEFAULT_PIVOT_TOL", "LUFactors", "LUPattern", "analyse", "coo_pattern", "lu_factor", "lu_solve"]
