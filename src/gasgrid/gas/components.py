"""Pure-component data for the 21 natural-gas components of AGA8 (in AGA8 order) and composition checks.

Contract: :data:`COMPONENTS` fixes the canonical names and their order; every per-component array in
:mod:`gasgrid.gas` uses it. :func:`parse_composition` turns user mole fractions (any alias, any case) into a
canonical tuple or raises :class:`~gasgrid.errors.InputError`; it never normalises silently.

Sources (SI after conversion):
    * molar masses: AGA8-DC92 DETAIL as coded by NIST (github.com/usnistgov/AGA8, ``SetupDetail``), so that
      ``Gas.molar_mass`` and the equation of state agree exactly;
    * critical constants: the pure-fluid reference equations in CoolProp 8 (``Tcrit``, ``pcrit``), rounded;
    * molar heating values: ISO 6976:2016 Table 3 (ideal gas, combustion at 0, 15, 20 and 25 °C), kJ/mol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gasgrid.errors import InputError

COMPONENTS: tuple[str, ...] = (
    "CH4", "N2", "CO2", "C2H6", "C3H8", "iC4", "nC4", "iC5", "nC5", "nC6", "nC7",
    "nC8", "nC9", "nC10", "H2", "O2", "CO", "H2O", "H2S", "He", "Ar",
)  # fmt: skip
INDEX: dict[str, int] = {name: i for i, name in enumerate(COMPONENTS)}

_ALIASES: dict[str, tuple[str, ...]] = {
    "CH4": ("methane", "c1"),
    "N2": ("nitrogen",),
    "CO2": ("carbon dioxide", "carbondioxide", "carbon_dioxide"),
    "C2H6": ("ethane", "c2"),
    "C3H8": ("propane", "c3", "n-propane"),
    "iC4": ("isobutane", "i-butane", "i-c4", "ic4h10", "2-methylpropane"),
    "nC4": ("n-butane", "butane", "n-c4", "nc4h10"),
    "iC5": ("isopentane", "i-pentane", "i-c5", "ic5h12", "2-methylbutane"),
    "nC5": ("n-pentane", "pentane", "n-c5", "nc5h12"),
    "nC6": ("n-hexane", "hexane", "n-c6", "c6h14"),
    "nC7": ("n-heptane", "heptane", "n-c7", "c7h16"),
    "nC8": ("n-octane", "octane", "n-c8", "c8h18"),
    "nC9": ("n-nonane", "nonane", "n-c9", "c9h20"),
    "nC10": ("n-decane", "decane", "n-c10", "c10h22"),
    "H2": ("hydrogen",),
    "O2": ("oxygen",),
    "CO": ("carbon monoxide", "carbonmonoxide", "carbon_monoxide"),
    "H2O": ("water",),
    "H2S": ("hydrogen sulfide", "hydrogen sulphide", "hydrogensulfide", "hydrogen_sulfide"),
    "He": ("helium",),
    "Ar": ("argon",),
}
ALIASES: dict[str, str] = {}
for _canonical, _names in _ALIASES.items():
    for _alias in (_canonical, *_names):
        ALIASES[_alias.lower()] = _canonical

# kg/mol (NIST AGA8 SetupDetail, MMiDetail in g/mol / 1000)
MOLAR_MASS = np.array([
    16.043, 28.0135, 44.01, 30.07, 44.097, 58.123, 58.123, 72.15, 72.15, 86.177, 100.204,
    114.231, 128.258, 142.285, 2.0159, 31.9988, 28.01, 18.0153, 34.082, 4.0026, 39.948,
]) / 1000.0  # fmt: skip

# K (CoolProp 8 pure-fluid EOS critical temperatures)
T_CRIT = np.array([
    190.564, 126.192, 304.128, 305.322, 369.890, 407.810, 425.125, 460.350, 469.700, 507.820, 541.226,
    568.740, 594.548, 617.699, 33.144, 154.599, 132.860, 647.096, 373.101, 5.195, 150.687,
])  # fmt: skip

# Pa (CoolProp 8 pure-fluid EOS critical pressures)
P_CRIT = np.array([
    4.5992e6, 3.3958e6, 7.3773e6, 4.8722e6, 4.2512e6, 3.6290e6, 3.7960e6, 3.3782e6, 3.3675e6, 3.0441e6,
    2.7738e6, 2.4836e6, 2.2819e6, 2.1013e6, 1.2964e6, 5.0464e6, 3.4982e6, 22.064e6, 8.9989e6, 0.22832e6,
    4.8630e6,
])  # fmt: skip

# ISO 6976:2016 Table 3, ideal-gas molar calorific values in kJ/mol for combustion at 0, 15, 20 and 25 °C
# (the 25 °C column also appears in NIST's AGA8 Gross.cpp). Components not listed (N2, CO2, O2, He, Ar) are
# incombustible: 0. Water's gross value is its enthalpy of condensation, as ISO 6976 tabulates it.
COMBUSTION_TEMPERATURES_C: tuple[int, ...] = (0, 15, 20, 25)
_GROSS_KJ_MOL: dict[str, tuple[float, float, float, float]] = {
    "CH4": (892.92, 891.51, 891.05, 890.58),
    "C2H6": (1564.35, 1562.14, 1561.42, 1560.69),
    "C3H8": (2224.03, 2221.10, 2220.13, 2219.17),
    "iC4": (2874.21, 2870.58, 2869.39, 2868.20),
    "nC4": (2883.35, 2879.76, 2878.58, 2877.40),
    "iC5": (3536.01, 3531.68, 3530.25, 3528.83),
    "nC5": (3542.91, 3538.60, 3537.19, 3535.77),
    "nC6": (4203.24, 4198.24, 4196.60, 4194.95),
    "nC7": (4862.88, 4857.18, 4855.31, 4853.43),
    "nC8": (5522.41, 5516.01, 5513.90, 5511.80),
    "nC9": (6182.92, 6175.82, 6173.48, 6171.15),
    "nC10": (6842.69, 6834.90, 6832.33, 6829.77),
    "H2": (286.63, 286.15, 285.99, 285.83),
    "CO": (282.80, 282.91, 282.95, 282.98),
    "H2O": (45.064, 44.431, 44.222, 44.013),
    "H2S": (562.94, 562.38, 562.19, 562.01),
}
_NET_KJ_MOL: dict[str, tuple[float, float, float, float]] = {
    "CH4": (802.82, 802.69, 802.65, 802.60),
    "C2H6": (1429.12, 1428.84, 1428.74, 1428.64),
    "C3H8": (2043.71, 2043.37, 2043.23, 2043.11),
    "iC4": (2648.83, 2648.42, 2648.26, 2648.12),
    "nC4": (2658.45, 2657.60, 2657.45, 2657.32),
    "iC5": (3265.54, 3265.08, 3264.89, 3264.73),
    "nC5": (3272.45, 3272.00, 3271.83, 3271.67),
    "nC6": (3887.71, 3887.21, 3887.01, 3886.84),
    "nC7": (4502.28, 4501.72, 4501.49, 4501.30),
    "nC8": (5116.73, 5116.11, 5115.87, 5115.66),
    "nC9": (5732.17, 5731.49, 5731.22, 5730.99),
    "nC10": (6346.88, 6346.14, 6345.85, 6345.59),
    "H2": (241.56, 241.72, 241.76, 241.81),
    "CO": (282.80, 282.91, 282.95, 282.98),
    "H2S": (517.87, 517.95, 517.97, 517.99),
}


def molar_heating_values(basis: str, combustion_T_C: int = 25) -> np.ndarray:
    """Per-component ideal-gas molar calorific values, J/mol, in :data:`COMPONENTS` order."""
    tables = {"gross": _GROSS_KJ_MOL, "net": _NET_KJ_MOL}
    if basis not in tables:
        raise InputError(f"basis must be 'gross' or 'net', got {basis!r}", kind="gas", field="basis")
    if combustion_T_C not in COMBUSTION_TEMPERATURES_C:
        raise InputError(
            f"combustion temperature must be one of {COMBUSTION_TEMPERATURES_C} °C, got {combustion_T_C!r}",
            kind="gas",
            field="combustion_T_C",
        )
    column = COMBUSTION_TEMPERATURES_C.index(combustion_T_C)
    table = tables[basis]
    return np.array([table[name][column] * 1e3 if name in table else 0.0 for name in COMPONENTS])


def canonical_name(name: str) -> str:
    """The canonical component name for an alias (case-insensitive), or InputError."""
    key = str(name).strip().lower()
    if key not in ALIASES:
        raise InputError(
            f"unknown component {name!r}; allowed: {', '.join(COMPONENTS)} (or names such as 'methane')",
            kind="gas",
            field="composition",
        )
    return ALIASES[key]


def parse_composition(
    mole_fractions: Mapping[str, float], *, normalise: bool = False, tol: float = 1e-6
) -> tuple[tuple[str, float], ...]:
    """Validate mole fractions and return ``((name, x), ...)`` in canonical order, zeros dropped.

    Raises InputError for unknown or repeated components, fractions outside [0, 1] or non-finite, and a sum
    that differs from 1 by more than ``tol`` (unless ``normalise=True``, which rescales explicitly).
    """
    if not isinstance(mole_fractions, Mapping) or len(mole_fractions) == 0:
        raise InputError("give a non-empty mapping of component name to mole fraction", kind="gas",
                         field="composition")  # fmt: skip
    values: dict[str, float] = {}
    for raw_name, raw_x in mole_fractions.items():
        name = canonical_name(raw_name)
        if name in values:
            raise InputError(f"component {name} is given twice (as {raw_name!r} and an alias)", kind="gas",
                             field="composition")  # fmt: skip
        try:
            x = float(raw_x)
        except (TypeError, ValueError):
            raise InputError(f"mole fraction of {name} must be a number, got {raw_x!r}", kind="gas",
                             field="composition") from None  # fmt: skip
        if not (math.isfinite(x) and 0.0 <= x <= 1.0):
            raise InputError(f"mole fraction of {name} must be in [0, 1], got {x!r}", kind="gas",
                             field="composition")  # fmt: skip
        values[name] = x
    total = math.fsum(values.values())
    if total <= 0.0:
        raise InputError("mole fractions sum to 0", kind="gas", field="composition")
    if normalise:
        values = {k: v / total for k, v in values.items()}
    elif abs(total - 1.0) > tol:
        raise InputError(
            f"mole fractions must sum to 1 within {tol:g}, got sum {total:.9g} "
            "(pass normalise=True to rescale)",
            kind="gas",
            field="composition",
        )
    return tuple((name, values[name]) for name in COMPONENTS if values.get(name, 0.0) > 0.0)


def to_vector(composition: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Mole fractions as a length-21 array in :data:`COMPONENTS` order."""
    x = np.zeros(len(COMPONENTS))
    for name, value in composition:
        x[INDEX[canonical_name(name)]] = value
    return x
