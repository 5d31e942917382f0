"""AGA8-DC92 GROSS characterisation method (virial equation in the equivalent hydrocarbon, N2 and CO2).

Port of the NIST reference implementation (E. W. Lemmon, github.com/usnistgov/AGA8, ``Gross`` module: SetupGross,
Bmix, PressureGross, DensityGross, GrossHv, GrossInputs, GrossMethod1, GrossMethod2) with its coefficients,
vectorised with numpy. Z = 1 + B rho + C rho^2 with B and C of a three-component pseudo mixture.

Contract: the public functions take SI (K, Pa, mol/m^3, J/mol) and return SI; a :class:`GrossMixture` is
built once from a full composition (``from_fractions``) or from the Method 1 / Method 2 inputs. Invalid inputs
raise :class:`~gasgrid.errors.InputError` instead of NIST's error codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.errors import ConvergenceError, InputError
from gasgrid.gas.components import MOLAR_MASS

FloatArray = NDArray[np.float64]

R_GROSS = 8.31451  # J/(mol K)
M_REF_AIR = 28.9625  # g/mol, the GROSS method's air
_M_N2, _M_CO2 = MOLAR_MASS[1] * 1e3, MOLAR_MASS[2] * 1e3  # g/mol
_G1, _G2 = -2.709328, 0.021062199  # molar mass of the equivalent hydrocarbon vs its heating value

# Ideal gross molar heating values at 25 °C used by GROSS (AGA Report 5, 2009), kJ/mol, AGA8 order
_XHN = np.array([
    890.63, 0.0, 0.0, 1560.69, 2219.17, 2868.2, 2877.4, 3528.83, 3535.77, 4194.95, 4853.43, 5511.8, 6171.15,
    6829.77, 285.83, 0.0, 282.98, 44.016, 562.01, 0.0, 0.0,
])  # fmt: skip

# b0 + b1 T + b2 T^2 for B(N2-N2), B(N2-CO2), B(CO2-CO2), l/mol
_B_N2N2 = (-0.1446, 0.00074091, -0.00000091195)
_B_N2CO2 = (-0.339693, 0.00161176, -0.00000204429)
_B_CO2CO2 = (-0.86834, 0.0040376, -0.0000051657)
# c0 + c1 T + c2 T^2 for C(N2-N2-N2), C(N2-N2-CO2), C(N2-CO2-CO2), C(CO2-CO2-CO2), (l/mol)^2
_C_222 = (0.0078498, -0.000039895, 0.000000061187)
_C_223 = (0.00552066, -0.0000168609, 0.0000000157169)
_C_233 = (0.00358783, 0.00000806674, -0.0000000325798)
_C_333 = (0.0020513, 0.000034888, -0.000000083703)
# bCHx[k][i], cCHx[k][i]: coefficient i of HCH^i has the temperature polynomial sum_k x[k][i] T^k
_BCHX = np.array([
    [-0.425468, 0.000877118, -0.000000824747],
    [0.002865, -0.00000556281, 0.00000000431436],
    [-0.00000462073, 0.0000000088151, -6.08319e-12],
])  # fmt: skip
_CCHX = np.array([
    [-0.302488, 0.000646422, -0.000000332805],
    [0.00195861, -0.00000422876, 0.0000000022316],
    [-0.00000316302, 0.00000000688157, -3.67713e-12],
])  # fmt: skip


def _poly(c: tuple[float, float, float], T: FloatArray) -> FloatArray:
    return c[0] + c[1] * T + c[2] * T * T


@dataclass(frozen=True)
class GrossMixture:
    """GROSS pseudo mixture: mole fractions of the equivalent hydrocarbon, N2 and CO2, and the molar ideal
    gross heating value of the equivalent hydrocarbon at 25 °C, ``hch`` [J/mol]."""

    x_ch: float
    x_n2: float
    x_co2: float
    hch: float

    @classmethod
    def from_fractions(cls, x: ArrayLike) -> GrossMixture:
        """From 21 mole fractions in AGA8 order (NIST ``GrossHv``)."""
        xa = np.asarray(x, dtype=float)
        x_ch = 1.0 - xa[1] - xa[2]
        hn = float(xa @ _XHN)
        return cls(x_ch=x_ch, x_n2=float(xa[1]), x_co2=float(xa[2]), hch=hn / x_ch * 1e3 if x_ch > 0 else 0.0)

    @property
    def molar_heating_value(self) -> float:
        """Ideal gross molar heating value of the mixture at 25 °C, J/mol."""
        return self.hch * self.x_ch

    @classmethod
    def method1(cls, hv: float, gr: float, x_co2: float, *, T_h: float = 298.15, T_d: float = 273.15,
                p_d: float = 101_325.0) -> GrossMixture:  # fmt: skip
        """GROSS Method 1 (NIST ``GrossMethod1``): volumetric ideal gross heating value ``hv`` [J/m^3] with
        combustion at ``T_h`` [K], relative density ``gr`` at ``T_d`` [K], ``p_d`` [Pa], and the CO2 fraction."""
        if gr <= 0 or hv <= 0:
            raise InputError("GROSS method 1 needs a relative density > 0 and a heating value > 0", kind="gas")
        Pd = p_d / 1e3
        Hv = hv / 1e6
        zref = 1.0 + Pd / R_GROSS / T_d * (-0.12527 + 0.000591 * T_d - 0.000000662 * T_d**2)
        zd = 1.0
        mix = cls(0.0, 0.0, x_co2, 0.0)
        for _ in range(20):
            z_old = zd
            hn = zd * R_GROSS * T_d / Pd * Hv * (1.0 + 0.0001027 * (T_h - 298.15))  # kJ/mol at 25 °C
            mm = gr * zd * M_REF_AIR / zref
            x_ch = (mm + (x_co2 - 1.0) * _M_N2 - x_co2 * _M_CO2 - _G2 * hn) / (_G1 - _M_N2)
            x_n2 = 1.0 - x_ch - x_co2
            if x_n2 < 0:
                raise InputError("GROSS method 1 gives a negative nitrogen fraction for these inputs", kind="gas")
            mix = cls(x_ch, x_n2, x_co2, hn / x_ch * 1e3)
            B, _ = mix.virial(T_d)
            zd = 1.0 + float(B) * Pd / R_GROSS / T_d
            if abs(z_old - zd) < 1e-7:
                break
        return mix

    @classmethod
    def method2(cls, gr: float, x_n2: float, x_co2: float, *, T_d: float = 273.15,
                p_d: float = 101_325.0) -> GrossMixture:  # fmt: skip
        """GROSS Method 2 (NIST ``GrossMethod2``): relative density ``gr`` at ``T_d`` [K], ``p_d`` [Pa] and the
        N2 and CO2 fractions."""
        if gr <= 0:
            raise InputError("GROSS method 2 needs a relative density > 0", kind="gas")
        Pd = p_d / 1e3
        x_ch = 1.0 - x_n2 - x_co2
        zref = 1.0 + Pd / R_GROSS / T_d * (-0.12527 + 0.000591 * T_d - 0.000000662 * T_d**2)
        z = 1.0
        mix = cls(x_ch, x_n2, x_co2, 0.0)
        for _ in range(20):
            z_old = z
            mm = gr * z * M_REF_AIR / zref
            mr_ch = (mm - x_n2 * _M_N2 - x_co2 * _M_CO2) / x_ch
            mix = cls(x_ch, x_n2, x_co2, (mr_ch - _G1) / _G2 * 1e3)
            B, _ = mix.virial(T_d)
            z = 1.0 + float(B) * Pd / R_GROSS / T_d
            if abs(z_old - z) < 1e-7:
                break
        return mix

    def virial(self, T: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Second [l/mol] and third [(l/mol)^2] virial coefficients at T [K] (NIST ``Bmix``, NIST units)."""
        T = np.asarray(T, dtype=float)
        H = self.hch / 1e3
        powers = np.array([1.0, H, H * H])
        Tk = np.stack([np.ones_like(T), T, T * T], axis=-1)
        B11 = Tk @ _BCHX @ powers
        C111 = Tk @ _CCHX @ powers
        B22, B23, B33 = _poly(_B_N2N2, T), _poly(_B_N2CO2, T), _poly(_B_CO2CO2, T)
        C222, C223, C233, C333 = (_poly(c, T) for c in (_C_222, _C_223, _C_233, _C_333))
        if np.any(B11 * B33 < 0) or np.any(C111 < 0):
            raise InputError("GROSS virial coefficients are invalid at this temperature/heating value", kind="gas")
        B12 = (0.72 + 0.00001875 * (320.0 - T) ** 2) * (B11 + B22) / 2.0
        B13 = -0.865 * np.sqrt(B11 * B33)
        f = 0.92 + 0.0013 * (T - 270.0)
        C112 = f * np.cbrt(C111**2 * C222)
        C122 = f * np.cbrt(C222**2 * C111)
        C113 = 0.92 * np.cbrt(C111**2 * C333)
        C133 = 0.92 * np.cbrt(C333**2 * C111)
        C123 = 1.1 * np.cbrt(C111 * C222 * C333)
        x1, x2, x3 = self.x_ch, self.x_n2, self.x_co2
        B = B11 * x1 * x1 + B22 * x2 * x2 + B33 * x3 * x3 + 2 * (B12 * x1 * x2 + B13 * x1 * x3 + B23 * x2 * x3)
        C = (C111 * x1**3 + C222 * x2**3 + C333 * x3**3 + 6 * C123 * x1 * x2 * x3
             + 3 * (C112 * x1 * x1 * x2 + C113 * x1 * x1 * x3 + C122 * x1 * x2 * x2 + C133 * x1 * x3 * x3
                    + C223 * x2 * x2 * x3 + C233 * x2 * x3 * x3))  # fmt: skip
        return B, C


def density(mix: GrossMixture, T: ArrayLike, p: ArrayLike, *, rtol: float = 1e-11) -> FloatArray:
    """Molar density [mol/m^3] at T [K] and p [Pa] > 0 (NIST ``DensityGross``, vectorised)."""
    T_b, p_b = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(p, dtype=float))
    if np.any(~(p_b > 0)):
        raise InputError("GROSS density needs p > 0 Pa", kind="gas", field="p")
    B, C = mix.virial(T_b)
    P = p_b / 1e3
    RT = R_GROSS * T_b
    plog = np.log(P)
    vlog = -np.log(P / RT)
    for _ in range(30):
        D = np.exp(-vlog)
        P2 = D * RT * (1.0 + B * D + C * D * D)
        dPdD = RT * (1.0 + 2.0 * B * D + 3.0 * C * D * D)
        bad = (dPdD < 0) | (P2 <= 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vdiff = np.where(bad, -0.1, (np.log(np.where(bad, 1.0, P2)) - plog) * P2 / (-D * dPdD))
        vlog = vlog - vdiff
        if not np.any(bad) and np.all(np.abs(vdiff) < rtol):
            return np.exp(-vlog) * 1e3
    raise ConvergenceError("AGA8 GROSS density iteration did not converge (state outside the method's range)")


def z_and_dz_dp(mix: GrossMixture, T: ArrayLike, p: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Z and (dZ/dp)_T [1/Pa] at T [K] and p [Pa] > 0."""
    T_b, p_b = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(p, dtype=float))
    D = density(mix, T_b, p_b) / 1e3
    B, C = mix.virial(T_b)
    Z = 1.0 + B * D + C * D * D
    dPdD = R_GROSS * T_b * (1.0 + 2.0 * B * D + 3.0 * C * D * D)
    return Z, (B + 2.0 * C * D) / dPdD / 1e3


def relative_density(mix: GrossMixture, molar_mass: float, *, T_d: float = 273.15, p_d: float = 101_325.0) -> float:
    """Real-gas relative density at T_d [K], p_d [Pa] for a gas of ``molar_mass`` [kg/mol] (``GrossInputs``)."""
    Pd = p_d / 1e3
    zref = 1.0 + (-0.12527 + 0.000591 * T_d - 0.000000662 * T_d**2) * Pd / R_GROSS / T_d
    z, _ = z_and_dz_dp(mix, T_d, p_d)
    return float(molar_mass * 1e3 * zref / M_REF_AIR / z)
