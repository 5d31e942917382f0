"""Observed order of convergence in dt of every implicit scheme (STYLE.md tier 2).

Problem: a 20 km DN600 pipe (Colebrook friction, Papay Z, 50 m rise), inlet pressure 60 bar, outlet withdrawal
following a smooth cosine swing from 100 to 160 kg/s and back over an hour, started from its steady state.
The grid is the same for all runs (dx = 2 km), so the difference to a run with a much smaller dt is the time
discretisation error alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from gasgrid import EOS, Gas, Network
from gasgrid.transient import (
    BDF2,
    BoundaryConditions,
    ExplicitStaggered,
    ImplicitEuler,
    NewtonOptions,
    Theta,
    TimeSeries,
    TransientOptions,
    simulate,
)

T = 3600.0
DTS = (120.0, 60.0, 30.0)
DT_REF = 5.0


def _problem() -> tuple[Network, BoundaryConditions]:
    net = Network("order", gas=Gas(eos=EOS.PAPAY), temperature_K=288.15)
    net.add_node("a")
    net.add_node("b", elevation_m=50.0)
    net.add_pipe("p", "a", "b", length_km=20.0, diameter_mm=600.0, friction="colebrook")
    net.add_supply("s", "a", mode="pressure", p_set_bar=60.0)
    net.add_demand("d", "b", flow_kg_s=100.0)
    t = np.linspace(0.0, T, 721)
    bc = BoundaryConditions(demand_flow_kg_s={"d": TimeSeries(t, 100.0 + 30.0 * (1.0 - np.cos(2 * np.pi * t / T)))})
    return net, bc


def _outlet(scheme: object, dt: float, inertia: bool) -> np.ndarray:
    net, bc = _problem()
    opts = TransientOptions(inertia=inertia, newton=NewtonOptions(tol=1e-12))
    res = simulate(net, bc, scheme=scheme, dt=dt, t_end=T, dx=2000.0, saveat=600.0, options=opts)  # type: ignore[arg-type]
    _, rel = res.mass_balance_error()
    assert rel <= 1e-9
    return res.dataset["p_Pa"].sel(node="b").to_numpy()


@pytest.fixture(scope="module", params=[True, False], ids=["inertia", "no-inertia"])
def reference(request: pytest.FixtureRequest) -> tuple[bool, np.ndarray]:
    return request.param, _outlet(BDF2(), DT_REF, request.param)


@pytest.mark.parametrize("scheme", [ImplicitEuler(), BDF2(), Theta(0.5)], ids=lambda s: s.name)
def test_observed_order_matches_declared_order(scheme: object, reference: tuple[bool, np.ndarray],
                                               strict_fp: None) -> None:
    inertia, ref = reference
    errors = np.array([np.max(np.abs(_outlet(scheme, dt, inertia) - ref)) for dt in DTS])
    orders = np.log2(errors[:-1] / errors[1:])
    declared = scheme.order  # type: ignore[attr-defined]
    assert np.all(np.abs(orders - declared) <= 0.25), f"observed orders {orders}, errors {errors} Pa"
    assert errors[-1] > 1.0  # Pa: far above the Newton tolerance, so the orders measure the scheme


def test_theta_one_is_implicit_euler() -> None:
    assert Theta(1.0).order == 1
    a = _outlet(Theta(1.0), 120.0, True)
    b = _outlet(ImplicitEuler(), 120.0, True)
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_observed_order_in_dx_is_two() -> None:
    """The staggered grid is second order in space (same dt everywhere, so the time error cancels)."""

    def outlet(dx: float) -> np.ndarray:
        net, bc = _problem()
        res = simulate(net, bc, scheme=BDF2(), dt=20.0, t_end=T, dx=dx, saveat=600.0,
                       options=TransientOptions(newton=NewtonOptions(tol=1e-12)))
        return res.dataset["p_Pa"].sel(node="b").to_numpy()

    ref = outlet(250.0)
    errors = np.array([np.max(np.abs(outlet(dx) - ref)) for dx in (4000.0, 2000.0, 1000.0)])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(orders - 2.0) <= 0.25), f"observed orders {orders}, errors {errors} Pa"


def test_explicit_staggered_scheme_is_first_order() -> None:
    """Within its CFL bound (4.9 s on 2 km cells), over the first 20 minutes of the same problem."""

    def outlet(scheme: object, dt: float) -> np.ndarray:
        net, bc = _problem()
        res = simulate(net, bc, scheme=scheme, dt=dt, t_end=1200.0, dx=2000.0, saveat=300.0,  # type: ignore[arg-type]
                       options=TransientOptions(newton=NewtonOptions(tol=1e-12)))
        assert res.mass_balance_error()[1] <= 1e-9
        return res.dataset["p_Pa"].sel(node="b").to_numpy()

    ref = outlet(BDF2(), 1.0)
    errors = np.array([np.max(np.abs(outlet(ExplicitStaggered(), dt) - ref)) for dt in (4.0, 2.0, 1.0)])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(orders - ExplicitStaggered().order) <= 0.25), f"orders {orders}, errors {errors} Pa"
