"""Sparse linear algebra for the solvers' inner loops: sparsity patterns and a static-pivot sparse LU."""
