"""Reference equations of state (AGA8-DC92 DETAIL and GROSS, GERG-2008) behind :meth:`Gas.z_and_dz_dp`.

Contract: :func:`reference_z_and_dz_dp` takes arrays p [Pa, absolute] and T [K] of one shape and returns Z and
dZ/dp [1/Pa]. The network solvers call it every Newton iteration on 10^3-10^5 pressures, so for each distinct
temperature (up to :data:`MAX_TABULATED_TEMPERATURES` per call) it evaluates a cubic Hermite table of Z(p)
built once from the exact equation (see :mod:`gasgrid.gas.tabulation`); with more distinct temperatures it
evaluates the exact equation point by point (AGA8) instead of building hundreds of tables.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gasgrid.errors import InputError
from gasgrid.gas import aga8, gerg, gross
from gasgrid.gas.components import to_vector
from gasgrid.gas.tabulation import CACHE, ExactZ, ZTable

if TYPE_CHECKING:
    from gasgrid.gas.model import Gas

FloatArray = NDArray[np.float64]

MAX_TABULATED_TEMPERATURES = 16
T_RANGE = (143.0, 676.0)  # K, extended range of AGA8-DC92 DETAIL
P_LIMIT = 280e6  # Pa, extended range of AGA8-DC92 DETAIL (GERG-2008: 70 MPa normal, 300 MPa extended)
_CHUNK = 8192  # points per vectorised exact evaluation (bounds the 58-term work arrays to ~4 MB each)


@lru_cache(maxsize=64)
def detail_mixture(composition: tuple[tuple[str, float], ...]) -> aga8.DetailMixture:
    """The AGA8 DETAIL composition terms for a canonical composition (cached)."""
    return aga8.DetailMixture.from_fractions(to_vector(composition))


@lru_cache(maxsize=64)
def gross_mixture(composition: tuple[tuple[str, float], ...]) -> gross.GrossMixture:
    """The AGA8 GROSS pseudo mixture for a canonical composition (cached)."""
    return gross.GrossMixture.from_fractions(to_vector(composition))


def _composition(gas: Gas) -> tuple[tuple[str, float], ...]:
    if gas.composition is None:
        raise InputError(
            f"equation of state {gas.eos.value!r} needs a composition; build the gas with "
            "Gas.from_composition({...}) or choose eos='papay', 'cnga' or 'ideal'",
            kind="gas",
            field="composition",
        )
    return gas.composition


def _check_range(p: FloatArray, T: FloatArray) -> None:
    lo, hi = T_RANGE
    if T.size and not (np.all(lo <= T) and np.all(hi >= T)):
        bad = T[(lo > T) | (hi < T) | ~np.isfinite(T)]
        raise InputError(f"must be in [{lo}, {hi}] K for the reference equations of state, got {bad.flat[0]!r}",
                         kind="gas", field="T")  # fmt: skip
    if p.size and np.nanmax(p, initial=0.0) > P_LIMIT:
        raise InputError(f"must be at most {P_LIMIT:g} Pa for the reference equations of state, got "
                         f"{np.nanmax(p):g}", kind="gas", field="p")  # fmt: skip


def _exact_aga8(mix: aga8.DetailMixture, T: float) -> ExactZ:
    def exact(p: FloatArray) -> tuple[FloatArray, FloatArray]:
        return _chunked(mix, np.full(p.shape, T), p)

    return exact


def _chunked(mix: aga8.DetailMixture, T: FloatArray, p: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.empty(p.size)
    dz = np.empty(p.size)
    Tf, pf = T.ravel(), p.ravel()
    for start in range(0, pf.size, _CHUNK):
        sl = slice(start, start + _CHUNK)
        z[sl], dz[sl] = aga8.z_and_dz_dp(mix, Tf[sl], pf[sl])
    return z.reshape(p.shape), dz.reshape(p.shape)


def exact_z_and_dz_dp(gas: Gas, p: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Z and dZ/dp from the exact equation, no tables (p > 0; p <= 0 gets the linear continuation)."""
    from gasgrid.gas.model import EOS

    composition = _composition(gas)
    p, T = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(T, dtype=float))
    _check_range(p, T)
    z = np.full(p.shape, np.nan)
    dz = np.full(p.shape, np.nan)
    pos = p > 0
    if gas.eos is EOS.AGA8:
        mix = detail_mixture(composition)
        z[pos], dz[pos] = _chunked(mix, T[pos], p[pos])
    elif gas.eos is EOS.GROSS:
        z[pos], dz[pos] = gross.z_and_dz_dp(gross_mixture(composition), T[pos], p[pos])
    else:
        for t in np.unique(T[pos]):
            sel = pos & np.equal(T, t)
            z[sel], dz[sel] = gerg.z_and_dz_dp(composition, float(t), p[sel])
    nonpos = p <= 0
    for t in np.unique(T[nonpos]):
        sel = nonpos & np.equal(T, t)
        if gas.eos is EOS.AGA8:
            slope = float(detail_mixture(composition).second_virial(t) / (aga8.R_DETAIL * t))
        elif gas.eos is EOS.GROSS:
            slope = _gross_slope0(composition, float(t))
        else:
            slope = gerg.slope_at_zero(composition, float(t))
        z[sel] = 1.0 + slope * p[sel]
        dz[sel] = slope
    return z, dz


def reference_z_and_dz_dp(gas: Gas, p: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Z and dZ/dp [1/Pa] for EOS.AGA8, GROSS and GERG2008, tabulated per temperature (see module doc)."""
    from gasgrid.gas.model import EOS

    if gas.eos not in (EOS.AGA8, EOS.GERG2008, EOS.GROSS):
        raise InputError(f"{gas.eos.value!r} is not a reference equation of state", kind="gas", field="eos")
    composition = _composition(gas)
    p, T = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(T, dtype=float))
    _check_range(p, T)
    # the usual isothermal call has one temperature: avoid sorting 10^5 equal values
    temperatures = T.ravel()[:1] if T.size and T.min() == T.max() else np.unique(T)
    if temperatures.size > MAX_TABULATED_TEMPERATURES:
        return exact_z_and_dz_dp(gas, p, T)
    z = np.empty(p.shape)
    dz = np.empty(p.shape)
    for t in temperatures:
        sel = np.equal(T, t) if temperatures.size > 1 else Ellipsis
        p_sel = p[sel]
        p_needed = float(np.nanmax(p_sel, initial=0.0))
        table = table_for(gas, composition, float(t), p_needed)
        z[sel], dz[sel] = table.evaluate(p_sel)
    return z, dz


def table_for(gas: Gas, composition: tuple[tuple[str, float], ...], T: float, p_needed: float) -> ZTable:
    """The cached Z(p) table of ``gas`` at T [K] covering [0, p_needed] Pa (built or extended on demand)."""
    from gasgrid.gas.model import EOS

    key = (gas.eos.value, composition, T)
    if gas.eos is EOS.AGA8:
        mix = detail_mixture(composition)
        exact = _exact_aga8(mix, T)

        def slope0() -> float:
            return float(mix.second_virial(T) / (aga8.R_DETAIL * T))

        what = f"AGA8 Z(p) of {gas.name!r} at {T:g} K"
    elif gas.eos is EOS.GROSS:
        gmix = gross_mixture(composition)

        def exact(p: FloatArray) -> tuple[FloatArray, FloatArray]:
            return gross.z_and_dz_dp(gmix, T, p)

        def slope0() -> float:
            return _gross_slope0(composition, T)

        what = f"AGA8 GROSS Z(p) of {gas.name!r} at {T:g} K"
    else:

        def exact(p: FloatArray) -> tuple[FloatArray, FloatArray]:
            return gerg.z_and_dz_dp(composition, T, p)

        def slope0() -> float:
            return gerg.slope_at_zero(composition, T)

        what = f"GERG-2008 Z(p) of {gas.name!r} at {T:g} K"
    return CACHE.table(key, exact, slope0, p_needed, what=what)


def _gross_slope0(composition: tuple[tuple[str, float], ...], T: float) -> float:
    B, _ = gross_mixture(composition).virial(T)
    return float(B) / (gross.R_GROSS * T) / 1e3
