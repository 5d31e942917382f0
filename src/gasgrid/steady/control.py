"""Station and regulator controllers (outer loop over control modes). Placeholder: fixed modes."""

from __future__ import annotations

from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady.options import SteadyOptions
from gasgrid.steady.result import SteadyResult


def solve_with_controllers(net: CompiledNetwork, opts: SteadyOptions, initial: SteadyResult | None) -> SteadyResult:
    from gasgrid.steady.solver import solve_fixed_modes

    return solve_fixed_modes(net, opts, initial)
