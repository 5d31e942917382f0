"""GasLib with active elements on set points (issue 3 acceptance): stations on discharge control at their
outlet bound, regulators on outlet set points. Outcomes are data: a state with every violation listed."""

from __future__ import annotations

import pytest

from gasgrid.cases import load_case
from gasgrid.io.gaslib_controls import activate_controls
from gasgrid.steady import SteadyOptions, SteadyStatus, solve_steady

pytestmark = pytest.mark.usefixtures("strict_fp")


@pytest.mark.parametrize("name", ["gaslib-40", "gaslib-582"])
def test_active_elements_give_a_state_with_violations_listed(name: str) -> None:
    net = activate_controls(load_case(name, scale=1.0))
    meta = net.meta["gaslib"]["controls"]
    r = solve_steady(net)
    assert r.status in (SteadyStatus.SOLVED, SteadyStatus.VIOLATIONS), r.message
    assert r.mass_balance_error <= 1e-9
    assert (r.nodes["p_bar"].dropna() > 0).all()
    cs = r.compressors
    assert set(cs["mode"]) == {"discharge"}
    # every station either runs at its set point or names why not
    for _, row in cs.iterrows():
        assert row["active_mode"] == "discharge" or row["binding_limit"]
    if r.status is SteadyStatus.VIOLATIONS:
        assert len(r.violations) and r.violations["margin"].lt(0).all()
    if name == "gaslib-582":
        assert meta["bypass_valves_closed"]  # GasLib draws bypass valves around regulators and stations


def test_gaslib_40_stations_cannot_lift_above_their_outlet_bound() -> None:
    # the slack entry sits at 81 bar and the stations' outlet bound is 71 bar: they cannot compress, so the
    # controller bypasses them and says so
    r = solve_steady(activate_controls(load_case("gaslib-40", scale=1.0)))
    cs = r.compressors
    assert (cs["state"] == "bypass").all()
    assert cs["binding_limit"].str.contains("cannot lift|reverse flow").all()


def test_limits_do_not_break_convergence_on_gaslib() -> None:
    # cases that converge with fixed modes must not fail once limits are active
    for name in ("gaslib-11", "gaslib-24", "gaslib-40", "gaslib-135"):
        net = load_case(name)
        fixed = solve_steady(net, options=SteadyOptions(controllers=False))
        limited = solve_steady(net)
        if fixed.status is not SteadyStatus.NOT_CONVERGED:
            assert limited.status is not SteadyStatus.NOT_CONVERGED, (name, limited.message)
