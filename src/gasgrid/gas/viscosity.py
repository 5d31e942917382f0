"""Natural-gas viscosity correlations (the network solvers use ``Gas.viscosity``, a constant, by default).

Contract: SI in, SI out (kg/m^3, K, kg/mol -> Pa s); vectorised over numpy arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.errors import InputError

FloatArray = NDArray[np.float64]


def lee_gonzalez_eakin(rho: ArrayLike, T: ArrayLike, M: ArrayLike) -> FloatArray:
    """Dynamic viscosity [Pa s] of a natural gas by Lee, Gonzalez and Eakin (1966, J. Pet. Technol. 18(8)).

    Args:
        rho: gas density at the state, kg/m^3 (e.g. ``gas.density(p, T)``).
        T: temperature, K.
        M: molar mass, kg/mol.

    The correlation is stated in field units: mu [cP] = 1e-4 K exp(X rho^Y) with rho in g/cm^3, T in °R and M in
    g/mol, K = (9.4 + 0.02 M) T^1.5 / (209 + 19 M + T), X = 3.5 + 986/T + 0.01 M, Y = 2.4 - 0.2 X. Quoted accuracy
    about 2-4 % for sweet natural gases.
    """
    rho_a, T_a, M_a = (np.asarray(v, dtype=float) for v in (rho, T, M))
    for name, v in (("rho", rho_a), ("T", T_a), ("M", M_a)):
        if np.any(~np.isfinite(v)) or np.any(v < 0 if name == "rho" else v <= 0):
            raise InputError(f"must be finite and {'>= 0' if name == 'rho' else '> 0'}", kind="viscosity",
                             field=name)  # fmt: skip
    T_R = 1.8 * T_a
    M_g = 1000.0 * M_a
    rho_gcc = rho_a / 1000.0
    K = (9.4 + 0.02 * M_g) * T_R**1.5 / (209.0 + 19.0 * M_g + T_R)
    X = 3.5 + 986.0 / T_R + 0.01 * M_g
    Y = 2.4 - 0.2 * X
    mu_cP = 1e-4 * K * np.exp(X * rho_gcc**Y)
    return np.asarray(mu_cP * 1e-3)
