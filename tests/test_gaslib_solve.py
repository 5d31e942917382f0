"""GasLib instances with active elements passive (issue 2 acceptance): a hydraulic state with mass balance
<= 1e-9 and every violation listed, or "infeasible" naming where the pressure collapses — never p <= 0."""

from __future__ import annotations

import numpy as np
import pytest

from gasgrid.cases import load_case
from gasgrid.steady import SteadyStatus, solve_steady

pytestmark = pytest.mark.usefixtures("strict_fp")


@pytest.mark.parametrize(("name", "scale"), [("gaslib-582", 0.9), ("gaslib-582", 1.0), ("gaslib-4197", 1.0)])
def test_passive_gaslib_gives_a_state_with_violations(name: str, scale: float) -> None:
    net = load_case(name, scale=scale)  # default rule: the entry with the highest allowed pressure is the slack
    r = solve_steady(net)
    assert r.status is SteadyStatus.VIOLATIONS, r.message
    assert r.mass_balance_error <= 1e-9
    assert (r.nodes["p_bar"] > 0).all()
    # every listed violation is a real breach, and every breach is listed
    p, lo, hi = r.nodes["p_bar"], r.nodes["p_min_bar"], r.nodes["p_max_bar"]
    breaches = int(((p < lo - 1e-6) | (p > hi + 1e-6)).sum())
    node_rows = r.violations[r.violations["kind"] == "node"]
    assert len(node_rows) == breaches
    assert (r.violations["margin"] < 0).all()


def test_gaslib_582_exits_needing_compression_are_listed() -> None:
    # without compression some exits (contract minimum 41-74 bar) are not met from a 50-bar entry: infeasible,
    # and the message names where the pressure collapses
    net = load_case("gaslib-582", scale=0.9, slack=[("source_27", 50.01325)])
    r = solve_steady(net)
    assert r.status is SteadyStatus.INFEASIBLE
    assert r.collapse.index[0] in r.message
    assert np.isnan(r.nodes.loc[r.collapse.index, "p_bar"]).all()
