"""Connected components kernel vs scipy; lazily built result tables; pickling solved networks and results."""

from __future__ import annotations

import pickle

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components as scipy_cc

from gasgrid.cases import load_case
from gasgrid.graph import connected_components
from gasgrid.steady import solve_steady


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.lists(
    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))))
def test_components_match_scipy(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = case
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    k, labels = connected_components(n, a, b)
    k_ref, ref = scipy_cc(sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    assert k == k_ref
    np.testing.assert_array_equal(labels, ref)  # same numbering (order of smallest vertex)


def test_tables_built_on_access_and_pickle_round_trip() -> None:
    c = load_case("gaslib-40").compile()
    res = solve_steady(c)
    assert not res._tables  # nothing built by the solve itself
    assert res.n_violations == len(res.violations)
    np.testing.assert_array_equal(res.p_Pa, res.nodes["p_Pa"].to_numpy())
    cols = res.violation_columns()
    assert len(cols["margin"]) == res.n_violations
    # a solved network (with its solver caches) and a result travel to Dask workers by pickle
    c2 = pickle.loads(pickle.dumps(c))
    res2 = pickle.loads(pickle.dumps(res))
    for name in ("nodes", "arcs", "supplies", "demands", "violations", "collapse"):
        a, b = getattr(res, name), getattr(res2, name)
        assert a.equals(b), name
    again = solve_steady(c2)
    np.testing.assert_allclose(again.p_Pa, res.p_Pa, rtol=1e-12)
