"""The :class:`Gas` value object and the cheap correlation equations of state (ideal, Papay, CNGA).

Reference equations (AGA8-DC92 DETAIL and GROSS, GERG-2008) live in their own modules and are evaluated through
``Gas.z`` as well, through Z(p) tables built once per temperature (:mod:`gasgrid.gas.tabulation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.errors import InputError
from gasgrid.units import M_AIR, PSI, R_UNIVERSAL, Reference

if TYPE_CHECKING:
    from gasgrid.gas.aga8 import DetailProperties

FloatArray = NDArray[np.float64]


class EOS(StrEnum):
    """Equation of state used for the compressibility factor Z(p, T)."""

    IDEAL = "ideal"
    PAPAY = "papay"
    CNGA = "cnga"
    AGA8 = "aga8"  # AGA8-DC92 DETAIL characterisation (own implementation, needs a composition)
    GERG2008 = "gerg2008"  # GERG-2008 through CoolProp (optional extra)
    GROSS = "gross"  # AGA8-DC92 GROSS characterisation method (own implementation, needs a composition)

    @classmethod
    def parse(cls, text: str) -> EOS:
        try:
            return cls(text.strip().lower().replace("-", "").replace("_", ""))
        except ValueError:
            raise InputError(
                f"unknown equation of state {text!r}; allowed: {', '.join(m.value for m in cls)}"
            ) from None


@dataclass(frozen=True)
class Gas:
    """A natural gas, described by its molar mass and pseudo-critical point (and optionally a composition).

    Attributes (SI):
        molar_mass: kg/mol.
        pc: pseudo-critical pressure, Pa (absolute).
        Tc: pseudo-critical temperature, K.
        eos: equation of state for Z.
        viscosity: dynamic viscosity, Pa s (treated as constant in the network solvers).
        kappa: isentropic exponent cp/cv (used for compressor head where no better model is given).
        hhv_mass: gross (superior) calorific value, J/kg; NaN if unknown.
        composition: ((name, mole fraction), ...) in canonical component order (see
            :mod:`gasgrid.gas.components`; aliases and mappings are accepted and canonicalised, the sum must be
            1 within 1e-6) or None. Required by the reference equations (AGA8, GROSS, GERG2008).
    """

    molar_mass: float = 0.01737  # kg/mol; G = 0.6
    pc: float = 4.6e6
    Tc: float = 195.0
    eos: EOS = EOS.PAPAY
    viscosity: float = 1.1e-5
    kappa: float = 1.3
    hhv_mass: float = float("nan")
    composition: tuple[tuple[str, float], ...] | None = None
    name: str = "natural gas"
    _extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        checks = {
            "molar_mass": (self.molar_mass, 0.002, 0.2, "kg/mol"),
            "pc": (self.pc, 1e5, 2e7, "Pa"),
            "Tc": (self.Tc, 5.0, 700.0, "K"),
            "viscosity": (self.viscosity, 1e-7, 1e-3, "Pa s"),
            "kappa": (self.kappa, 1.0, 1.7, "-"),
        }
        for name, (value, lo, hi, unit) in checks.items():
            if not (np.isfinite(value) and lo <= value <= hi):
                raise InputError(f"must be in [{lo}, {hi}] {unit}, got {value!r}", kind="gas", field=name)
        if not isinstance(self.eos, EOS):
            object.__setattr__(self, "eos", EOS.parse(str(self.eos)))
        if self.composition is not None:
            from gasgrid.gas.components import parse_composition

            raw = self.composition if isinstance(self.composition, Mapping) else dict(self.composition)
            object.__setattr__(self, "composition", parse_composition(raw))
        elif self.eos in (EOS.AGA8, EOS.GERG2008, EOS.GROSS):
            raise InputError(
                f"equation of state {self.eos.value!r} needs a composition: use Gas.from_composition({{...}})",
                kind="gas",
                field="composition",
            )

    # --- derived constants -------------------------------------------------------------------------
    @property
    def R_specific(self) -> float:
        """Specific gas constant R/M, J/(kg K)."""
        return R_UNIVERSAL / self.molar_mass

    @property
    def relative_density(self) -> float:
        """Ideal-gas relative density (specific gravity) G = M / M_air."""
        return self.molar_mass / M_AIR

    # --- equation of state -------------------------------------------------------------------------
    def z(self, p: ArrayLike, T: ArrayLike) -> FloatArray:
        """Compressibility factor Z at absolute pressure p [Pa] and temperature T [K]."""
        return self.z_and_dz_dp(p, T)[0]

    def dz_dp(self, p: ArrayLike, T: ArrayLike) -> FloatArray:
        """Partial derivative of Z with respect to p [1/Pa] at constant T."""
        return self.z_and_dz_dp(p, T)[1]

    def z_and_dz_dp(self, p: ArrayLike, T: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Z and dZ/dp [1/Pa], vectorised."""
        p_arr = np.asarray(p, dtype=float)
        T_arr = np.broadcast_to(np.asarray(T, dtype=float), p_arr.shape)
        if self.eos is EOS.IDEAL:
            return np.ones_like(p_arr), np.zeros_like(p_arr)
        if self.eos is EOS.PAPAY:
            return _papay(p_arr, T_arr, self.pc, self.Tc)
        if self.eos is EOS.CNGA:
            return _cnga(p_arr, T_arr, self.relative_density)
        from gasgrid.gas.reference import reference_z_and_dz_dp

        return reference_z_and_dz_dp(self, p_arr, T_arr)

    def density(self, p: ArrayLike, T: ArrayLike) -> FloatArray:
        """Mass density rho = p M / (Z R T), kg/m^3."""
        p_arr = np.asarray(p, dtype=float)
        return p_arr / (self.z(p_arr, T) * self.R_specific * np.asarray(T, dtype=float))

    def reference_density(self, reference: Reference = Reference.NORMAL) -> float:
        """Density at a volume reference condition, kg/m^3 (real gas: Z at the reference state).

        A density stated by the data (e.g. GasLib's ``normDensity`` at 0 °C) takes precedence for NORMAL.
        """
        given = self._extra.get("normal_density")
        if given is not None and reference is Reference.NORMAL:
            return float(given)
        rho = self.density(reference.p, reference.T)
        if given is not None:
            # scale by the ratio of the given to the computed normal density so all references agree
            rho_n = self.density(Reference.NORMAL.p, Reference.NORMAL.T)
            rho = rho * float(given) / rho_n
        return float(rho)

    def with_(self, **changes: Any) -> Gas:
        """A copy with some attributes changed."""
        from dataclasses import replace

        changes.setdefault("_extra", dict(self._extra))
        return replace(self, **changes)

    # --- heating value ------------------------------------------------------------------------------
    def calorific_value(
        self, reference: Reference = Reference.STANDARD, basis: str = "gross", *, combustion_T_C: int = 25
    ) -> float:
        """Ideal-gas volumetric calorific value, J/m^3 at the volume ``reference`` condition (ISO 6976 style).

        H_v = sum(x_i H_i) p_ref / (R T_ref), with the ISO 6976:2016 molar values at ``combustion_T_C``
        (0, 15, 20 or 25 °C). Without a composition only the gross value is known: hhv_mass * M p_ref / (R T_ref).
        """
        if self.composition is not None:
            from gasgrid.gas.components import molar_heating_values, to_vector

            h_molar = float(to_vector(self.composition) @ molar_heating_values(basis, combustion_T_C))
        elif basis == "gross" and np.isfinite(self.hhv_mass):
            h_molar = self.hhv_mass * self.molar_mass
        else:
            raise InputError(
                f"the {basis!r} calorific value needs a composition (Gas.from_composition) or, for 'gross', "
                "hhv_mass",
                kind="gas",
                field="composition",
            )
        return h_molar * reference.p / (R_UNIVERSAL * reference.T)

    def wobbe_index(self, reference: Reference = Reference.STANDARD, basis: str = "gross", *,
                    combustion_T_C: int = 25) -> float:  # fmt: skip
        """Wobbe index H_v / sqrt(d), J/m^3, with the ideal-gas relative density d = M / M_air."""
        h_v = self.calorific_value(reference, basis, combustion_T_C=combustion_T_C)
        return h_v / float(np.sqrt(self.relative_density))

    # --- caloric properties (compressor calculations) ----------------------------------------------
    def isentropic_exponent(self, p: ArrayLike, T: ArrayLike) -> FloatArray:
        """Isentropic exponent kappa = -(v/p)(dp/dv)_s at p [Pa] and T [K].

        Real gas from AGA8-DC92 DETAIL when the composition is known (whatever ``eos`` says), else the
        constant ``self.kappa``.
        """
        if self.composition is None:
            return np.broadcast_to(np.asarray(self.kappa, dtype=float), np.broadcast(p, T).shape).copy()
        return self._detail_properties(p, T).kappa

    def cp_mass(self, p: ArrayLike, T: ArrayLike) -> FloatArray:
        """Isobaric specific heat capacity, J/(kg K) at p [Pa] and T [K].

        Real gas from AGA8-DC92 DETAIL when the composition is known, else the ideal gas of constant kappa:
        cp = kappa / (kappa - 1) R_specific.
        """
        if self.composition is None:
            cp = self.kappa / (self.kappa - 1.0) * self.R_specific
            return np.broadcast_to(np.asarray(cp, dtype=float), np.broadcast(p, T).shape).copy()
        return self._detail_properties(p, T).cp / self.molar_mass

    def _detail_properties(self, p: ArrayLike, T: ArrayLike) -> DetailProperties:
        from gasgrid.gas import aga8
        from gasgrid.gas.reference import detail_mixture

        assert self.composition is not None
        return aga8.properties_tp(detail_mixture(self.composition), T, p)

    # --- constructors ------------------------------------------------------------------------------
    @classmethod
    def from_composition(
        cls,
        mole_fractions: Mapping[str, float],
        *,
        eos: EOS | str = EOS.AGA8,
        viscosity: float = 1.1e-5,
        name: str = "natural gas",
        normalise: bool = False,
    ) -> Gas:
        """Build a gas from mole fractions, e.g. ``{"methane": 0.9, "C2H6": 0.05, "N2": 0.05}``.

        Component names are case-insensitive formulas or names (see :mod:`gasgrid.gas.components`). The
        fractions must sum to 1 within 1e-6 unless ``normalise=True``. Derived (SI): molar mass [kg/mol]
        (AGA8 component masses), pseudo-critical pc [Pa] and Tc [K] by Kay's rule, gross calorific value per
        mass [J/kg] (ISO 6976:2016 molar values at 25 °C), ideal-gas isentropic exponent at 15 °C (AGA8
        ideal-gas part).
        """
        from gasgrid.gas import aga8
        from gasgrid.gas.components import (
            MOLAR_MASS,
            P_CRIT,
            T_CRIT,
            molar_heating_values,
            parse_composition,
            to_vector,
        )

        composition = parse_composition(mole_fractions, normalise=normalise)
        x = to_vector(composition)
        M = float(x @ MOLAR_MASS)
        cp0 = float(aga8.ideal_cp(aga8.DetailMixture.from_fractions(x), 288.15))
        kappa = cp0 / (cp0 - aga8.R_DETAIL)
        return cls(
            molar_mass=M,
            pc=float(x @ P_CRIT),
            Tc=float(x @ T_CRIT),
            eos=EOS.parse(eos) if isinstance(eos, str) else eos,
            viscosity=viscosity,
            kappa=kappa,
            hhv_mass=float(x @ molar_heating_values("gross", 25)) / M,
            composition=composition,
            name=name,
        )

    @classmethod
    def from_properties(
        cls,
        *,
        molar_mass: float | None = None,
        normal_density: float | None = None,
        pc: float | None = None,
        Tc: float | None = None,
        eos: EOS | str = EOS.PAPAY,
        viscosity: float = 1.1e-5,
        kappa: float = 1.3,
        hhv_mass: float = float("nan"),
        name: str = "natural gas",
    ) -> Gas:
        """Build a gas from bulk properties.

        Args:
            molar_mass: kg/mol. If omitted, derived from ``normal_density`` (ideal gas at 0 °C, 1.01325 bar
                corrected by Z there).
            normal_density: kg/m^3 at 0 °C and 1.01325 bar; kept and used for Nm^3 conversions.
            pc, Tc: pseudo-critical pressure [Pa] and temperature [K]; if omitted, Sutton's correlation
                from the relative density.
        """
        if molar_mass is None and normal_density is None:
            raise InputError("give molar_mass or normal_density", kind="gas")
        if molar_mass is None:
            assert normal_density is not None
            ref = Reference.NORMAL
            molar_mass = normal_density * R_UNIVERSAL * ref.T / ref.p * 0.9975
        G = molar_mass / M_AIR
        if pc is None:
            pc = (756.8 - 131.0 * G - 3.6 * G * G) * PSI  # Sutton (1985), psia -> Pa
        if Tc is None:
            Tc = (169.2 + 349.5 * G - 74.0 * G * G) / 1.8  # Sutton, degR -> K
        extra: dict[str, Any] = {}
        if normal_density is not None:
            extra["normal_density"] = float(normal_density)
        return cls(
            molar_mass=float(molar_mass),
            pc=float(pc),
            Tc=float(Tc),
            eos=EOS.parse(eos) if isinstance(eos, str) else eos,
            viscosity=viscosity,
            kappa=kappa,
            hhv_mass=hhv_mass,
            name=name,
            _extra=extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for files and reports (SI units)."""
        out: dict[str, Any] = {
            "name": self.name,
            "molar_mass_kg_mol": self.molar_mass,
            "pc_Pa": self.pc,
            "Tc_K": self.Tc,
            "eos": self.eos.value,
            "viscosity_Pa_s": self.viscosity,
            "kappa": self.kappa,
            "hhv_J_kg": self.hhv_mass,
        }
        if "normal_density" in self._extra:
            out["normal_density_kg_m3"] = self._extra["normal_density"]
        if self.composition is not None:
            out["composition"] = dict(self.composition)
        return out


def _papay(p: FloatArray, T: FloatArray, pc: float, Tc: float) -> tuple[FloatArray, FloatArray]:
    """Papay (1968): Z = 1 - 3.52 pr exp(-2.26 Tr) + 0.274 pr^2 exp(-1.878 Tr)."""
    pr = p / pc
    Tr = T / Tc
    a = 3.52 * np.exp(-2.26 * Tr)
    b = 0.274 * np.exp(-1.878 * Tr)
    z = 1.0 - a * pr + b * pr * pr
    dz = (-a + 2.0 * b * pr) / pc
    return z, dz


def _cnga(p: FloatArray, T: FloatArray, G: float) -> tuple[FloatArray, FloatArray]:
    """California Natural Gas Association: Z = 1 / (1 + p_g 344400 10^(1.785 G) / T_F^3.825).

    The correlation is stated in gauge psi and degrees Rankine (Menon 2005, eq. 1.34); gauge is taken
    against 1 atm.
    """
    pg_psi = (p - 101_325.0) / PSI
    T_R = T * 1.8
    c = 344_400.0 * 10.0 ** (1.785 * G) / T_R**3.825
    denom = 1.0 + c * pg_psi
    z = 1.0 / denom
    dz = -c / PSI / (denom * denom)
    return z, dz
