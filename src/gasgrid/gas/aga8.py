"""AGA8-DC92 DETAIL characterisation equation of state, vectorised with numpy.

Port of the NIST reference implementation (E. W. Lemmon, github.com/usnistgov/AGA8, ``Detail`` module:
SetupDetail, MolarMassDetail, PressureDetail, DensityDetail, PropertiesDetail); the coefficient tables are
those of that code. The algorithm follows it step by step, with two changes: everything is vectorised over
temperature/density arrays, and a density iteration that fails raises :class:`ConvergenceError` instead of
returning the ideal-gas density.

Contract: the public functions take and return SI (Pa, K, mol/m^3, J/(mol K), m/s). Internally the NIST
units are kept (kPa, mol/l, J/mol) so that intermediate values can be compared with the reference code.
A :class:`DetailMixture` holds the composition-dependent terms (``xTermsDetail``) and is computed once per
composition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.errors import ConvergenceError, InputError
from gasgrid.gas.components import COMPONENTS, MOLAR_MASS

FloatArray = NDArray[np.float64]

R_DETAIL = 8.31451  # J/(mol K), the gas constant of AGA8-DC92
NC = len(COMPONENTS)  # 21
NTERMS = 58

# --- equation-of-state coefficients, n = 1..58 (NIST SetupDetail) ---------------------------------------------
_AN = np.array([
    0.1538326, 1.341953, -2.998583, -0.04831228, 0.3757965, -1.589575, -0.05358847, 0.88659463,
    -0.71023704, -1.471722, 1.32185035, -0.78665925, 0.00000000229129, 0.1576724, -0.4363864, -0.04408159,
    -0.003433888, 0.03205905, 0.02487355, 0.07332279, -0.001600573, 0.6424706, -0.4162601, -0.06689957,
    0.2791795, -0.6966051, -0.002860589, -0.008098836, 3.150547, 0.007224479, -0.7057529, 0.5349792,
    -0.07931491, -1.418465, -5.99905e-17, 0.1058402, 0.03431729, -0.007022847, 0.02495587, 0.04296818,
    0.7465453, -0.2919613, 7.294616, -9.936757, -0.005399808, -0.2432567, 0.04987016, 0.003733797,
    1.874951, 0.002168144, -0.6587164, 0.000205518, 0.009776195, -0.02048708, 0.01557322, 0.006862415,
    -0.001226752, 0.002850908,
])  # fmt: skip
_BN = np.array([1] * 18 + [2] * 9 + [3] * 10 + [4] * 7 + [5] * 5 + [6] * 2 + [7] * 2 + [8] * 3 + [9] * 2)
_KN = np.zeros(NTERMS + 1, dtype=int)  # 1-based while filling
for _n, _k in {13: 3, 14: 2, 15: 2, 16: 2, 17: 4, 18: 4, 21: 2, 22: 2, 23: 2, 24: 4, 25: 4, 26: 4, 27: 4,
               29: 1, 30: 1, 31: 2, 32: 2, 33: 3, 34: 3, 35: 4, 36: 4, 37: 4, 40: 2, 41: 2, 42: 2, 43: 4,
               44: 4, 46: 2, 47: 2, 48: 4, 49: 4, 51: 2, 53: 2, 54: 1, 55: 2, 56: 2, 57: 2,
               58: 2}.items():  # fmt: skip
    _KN[_n] = _k
_KN = _KN[1:]
_UN = np.array([
    0, 0.5, 1, 3.5, -0.5, 4.5, 0.5, 7.5, 9.5, 6, 12, 12.5, -6, 2, 3, 2, 2, 11, -0.5, 0.5, 0, 4, 6, 21, 23,
    22, -1, -0.5, 7, -1, 6, 4, 1, 9, -13, 21, 8, -0.5, 0, 2, 7, 9, 22, 23, 1, 9, 3, 8, 23, 1.5, 5, -0.5, 4,
    7, 3, 0, 1, 0,
], dtype=float)  # fmt: skip


def _flags(ones: tuple[int, ...]) -> NDArray[np.bool_]:
    f = np.zeros(NTERMS, dtype=bool)
    f[np.array(ones) - 1] = True
    return f


_FN = _flags((13, 27, 30, 35))
_GN = _flags((5, 6, 25, 29, 32, 33, 34, 51, 54, 56))
_QN = _flags((7, 16, 26, 28, 37, 42, 47, 49, 52, 58))
_SN = _flags((8, 9))
_WN = _flags((10, 11, 12))
assert _BN.size == NTERMS and _AN.size == NTERMS and _UN.size == NTERMS

# --- pure-component parameters, i = 1..21 -----------------------------------------------------------------------
_EI = np.array([
    151.3183, 99.73778, 241.9606, 244.1667, 298.1183, 324.0689, 337.6389, 365.5999, 370.6823, 402.636293,
    427.72263, 450.325022, 470.840891, 489.558373, 26.95794, 122.7667, 105.5348, 514.0156, 296.355,
    2.610111, 119.6299,
])  # fmt: skip
_KI = np.array([
    0.4619255, 0.4479153, 0.4557489, 0.5279209, 0.583749, 0.6406937, 0.6341423, 0.6738577, 0.6798307,
    0.7175118, 0.7525189, 0.784955, 0.8152731, 0.8437826, 0.3514916, 0.4186954, 0.4533894, 0.3825868,
    0.4618263, 0.3589888, 0.4216551,
])  # fmt: skip
_GI = np.array([
    0.0, 0.027815, 0.189065, 0.0793, 0.141239, 0.256692, 0.281835, 0.332267, 0.366911, 0.289731, 0.337542,
    0.383381, 0.427354, 0.469659, 0.034369, 0.021, 0.038953, 0.3325, 0.0885, 0.0, 0.0,
])  # fmt: skip
_QI = np.zeros(NC)
_QI[[2, 17, 18]] = [0.69, 1.06775, 0.633276]
_FI = np.zeros(NC)
_FI[14] = 1.0  # hydrogen: high-temperature parameter
_SI = np.zeros(NC)
_SI[[17, 18]] = [1.5822, 0.39]  # dipole parameters of water and H2S
_WI = np.zeros(NC)
_WI[17] = 1.0  # association parameter of water


def _binary(pairs: dict[tuple[int, int], float]) -> FloatArray:
    """Symmetric 21x21 matrix of ones with the given 1-based (i, j) entries."""
    m = np.ones((NC, NC))
    for (i, j), value in pairs.items():
        m[i - 1, j - 1] = m[j - 1, i - 1] = value
    return m


_EIJ = _binary({
    (1, 2): 0.97164, (1, 3): 0.960644, (1, 5): 0.994635, (1, 6): 1.01953, (1, 7): 0.989844, (1, 8): 1.00235,
    (1, 9): 0.999268, (1, 10): 1.107274, (1, 11): 0.88088, (1, 12): 0.880973, (1, 13): 0.881067,
    (1, 14): 0.881161, (1, 15): 1.17052, (1, 17): 0.990126, (1, 18): 0.708218, (1, 19): 0.931484,
    (2, 3): 1.02274, (2, 4): 0.97012, (2, 5): 0.945939, (2, 6): 0.946914, (2, 7): 0.973384, (2, 8): 0.95934,
    (2, 9): 0.94552, (2, 15): 1.08632, (2, 16): 1.021, (2, 17): 1.00571, (2, 18): 0.746954,
    (2, 19): 0.902271, (3, 4): 0.925053, (3, 5): 0.960237, (3, 6): 0.906849, (3, 7): 0.897362,
    (3, 8): 0.726255, (3, 9): 0.859764, (3, 10): 0.855134, (3, 11): 0.831229, (3, 12): 0.80831,
    (3, 13): 0.786323, (3, 14): 0.765171, (3, 15): 1.28179, (3, 17): 1.5, (3, 18): 0.849408,
    (3, 19): 0.955052, (4, 5): 1.02256, (4, 7): 1.01306, (4, 9): 1.00532, (4, 15): 1.16446,
    (4, 18): 0.693168, (4, 19): 0.946871, (5, 7): 1.0049, (5, 15): 1.034787, (6, 15): 1.3, (7, 15): 1.3,
    (10, 19): 1.008692, (11, 19): 1.010126, (12, 19): 1.011501, (13, 19): 1.012821, (14, 19): 1.014089,
    (15, 17): 1.1,
})  # fmt: skip
_UIJ = _binary({
    (1, 2): 0.886106, (1, 3): 0.963827, (1, 5): 0.990877, (1, 7): 0.992291, (1, 9): 1.00367,
    (1, 10): 1.302576, (1, 11): 1.191904, (1, 12): 1.205769, (1, 13): 1.219634, (1, 14): 1.233498,
    (1, 15): 1.15639, (1, 19): 0.736833, (2, 3): 0.835058, (2, 4): 0.816431, (2, 5): 0.915502,
    (2, 7): 0.993556, (2, 15): 0.408838, (2, 19): 0.993476, (3, 4): 0.96987, (3, 10): 1.066638,
    (3, 11): 1.077634, (3, 12): 1.088178, (3, 13): 1.098291, (3, 14): 1.108021, (3, 17): 0.9,
    (3, 19): 1.04529, (4, 5): 1.065173, (4, 6): 1.25, (4, 7): 1.25, (4, 8): 1.25, (4, 9): 1.25,
    (4, 15): 1.61666, (4, 19): 0.971926, (10, 19): 1.028973, (11, 19): 1.033754, (12, 19): 1.038338,
    (13, 19): 1.042735, (14, 19): 1.046966,
})  # fmt: skip
_KIJ = _binary({
    (1, 2): 1.00363, (1, 3): 0.995933, (1, 5): 1.007619, (1, 7): 0.997596, (1, 9): 1.002529,
    (1, 10): 0.982962, (1, 11): 0.983565, (1, 12): 0.982707, (1, 13): 0.981849, (1, 14): 0.980991,
    (1, 15): 1.02326, (1, 19): 1.00008, (2, 3): 0.982361, (2, 4): 1.00796, (2, 15): 1.03227,
    (2, 19): 0.942596, (3, 4): 1.00851, (3, 10): 0.910183, (3, 11): 0.895362, (3, 12): 0.881152,
    (3, 13): 0.86752, (3, 14): 0.854406, (3, 19): 1.00779, (4, 5): 0.986893, (4, 15): 1.02034,
    (4, 19): 0.999969, (10, 19): 0.96813, (11, 19): 0.96287, (12, 19): 0.957828, (13, 19): 0.952441,
    (14, 19): 0.948338,
})  # fmt: skip
_GIJ = _binary({(1, 3): 0.807653, (1, 15): 1.95731, (2, 3): 0.982746, (3, 4): 0.370296, (3, 18): 1.67309})

# Ideal-gas parameters n0i[i][1..7] and th0i[i][4..7] (NIST SetupDetail, before its final adjustment)
_N0 = np.array([
    # n0_1, n0_2, n0_3, n0_4, n0_5, n0_6, n0_7
    [29.83843397, -15999.69151, 4.00088, 0.76315, 0.0046, 8.74432, -4.46921],
    [17.56770785, -2801.729072, 3.50031, 0.13732, -0.1466, 0.90066, 0.0],
    [20.65844696, -4902.171516, 3.50002, 2.04452, -1.06044, 2.03366, 0.01393],
    [36.73005938, -23639.65301, 4.00263, 4.33939, 1.23722, 13.1974, -6.01989],
    [44.70909619, -31236.63551, 4.02939, 6.60569, 3.197, 19.1921, -8.37267],
    [34.30180349, -38525.50276, 4.06714, 8.97575, 5.25156, 25.1423, 16.1388],
    [36.53237783, -38957.80933, 4.33944, 9.44893, 6.89406, 24.4618, 14.7824],
    [43.17218626, -51198.30946, 4.0, 11.7618, 20.1101, 33.1688, 0.0],
    [42.67837089, -45215.83, 4.0, 8.95043, 21.836, 33.4032, 0.0],
    [46.99717188, -52746.83318, 4.0, 11.6977, 26.8142, 38.6164, 0.0],
    [52.07631631, -57104.81056, 4.0, 13.7266, 30.4707, 43.5561, 0.0],
    [57.25830934, -60546.76385, 4.0, 15.6865, 33.8029, 48.1731, 0.0],
    [62.09646901, -66600.12837, 4.0, 18.0241, 38.1235, 53.3415, 0.0],
    [65.93909154, -74131.45483, 4.0, 21.0069, 43.4931, 58.3657, 0.0],
    [13.07520288, -5836.943696, 2.47906, 0.95806, 0.45444, 1.56039, -1.3756],
    [16.8017173, -2318.32269, 3.50146, 1.07558, 1.01334, 0.0, 0.0],
    [17.45786899, -2635.244116, 3.50055, 1.02865, 0.00493, 0.0, 0.0],
    [21.57882705, -7766.733078, 4.00392, 0.01059, 0.98763, 3.06904, 0.0],
    [21.5830944, -6069.035869, 4.0, 3.11942, 1.00243, 0.0, 0.0],
    [10.04639507, -745.375, 2.5, 0.0, 0.0, 0.0, 0.0],
    [10.04639507, -745.375, 2.5, 0.0, 0.0, 0.0, 0.0],
])
_TH0 = np.array([
    [820.659, 178.41, 1062.82, 1090.53], [662.738, 680.562, 1740.06, 0.0], [919.306, 865.07, 483.553, 341.109],
    [559.314, 223.284, 1031.38, 1071.29], [479.856, 200.893, 955.312, 1027.29],
    [438.27, 198.018, 1905.02, 893.765], [468.27, 183.636, 1914.1, 903.185], [292.503, 910.237, 1919.37, 0.0],
    [178.67, 840.538, 1774.25, 0.0], [182.326, 859.207, 1826.59, 0.0], [169.789, 836.195, 1760.46, 0.0],
    [158.922, 815.064, 1693.07, 0.0], [156.854, 814.882, 1693.79, 0.0], [164.947, 836.264, 1750.24, 0.0],
    [228.734, 326.843, 1651.71, 1671.69], [2235.71, 1116.69, 0.0, 0.0], [1550.45, 704.525, 0.0, 0.0],
    [268.795, 1141.41, 2507.37, 0.0], [1833.63, 847.181, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
])  # fmt: skip
# SetupDetail's final step: n0_3 -> n0_3 - 1 and n0_1 -> n0_1 - ln(d0), d0 = 101.325 / (R 298.15) mol/l
_N0[:, 2] -= 1.0
_N0[:, 0] -= np.log(101.325 / R_DETAIL / 298.15)


def _precompute() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Bsnij2 (21x21x18) and the binary K, U, G terms of SetupDetail."""
    g_mean = (_GI[:, None] + _GI[None, :]) / 2.0
    bsnij = np.ones((NC, NC, 18))
    n18 = slice(0, 18)
    bsnij[:, :, _GN[n18]] = (_GIJ * g_mean)[:, :, None]
    bsnij[:, :, _QN[n18]] *= np.outer(_QI, _QI)[:, :, None]
    bsnij[:, :, _FN[n18]] *= np.outer(_FI, _FI)[:, :, None]
    bsnij[:, :, _SN[n18]] *= np.outer(_SI, _SI)[:, :, None]
    bsnij[:, :, _WN[n18]] *= np.outer(_WI, _WI)[:, :, None]
    eij = _EIJ * np.sqrt(np.outer(_EI, _EI))
    bs2 = _AN[n18] * eij[:, :, None] ** _UN[n18] * np.outer(_KI, _KI)[:, :, None] ** 1.5 * bsnij
    ki25, ei25 = _KI**2.5, _EI**2.5
    kij5 = (_KIJ**5 - 1.0) * np.outer(ki25, ki25)
    uij5 = (_UIJ**5 - 1.0) * np.outer(ei25, ei25)
    gij5 = (_GIJ - 1.0) * g_mean
    return bs2, kij5, uij5, gij5


_BS2, _KIJ5, _UIJ5, _GIJ5 = _precompute()
_KI25, _EI25 = _KI**2.5, _EI**2.5
_COEF_T1 = R_DETAIL * (_UN - 1.0)
_COEF_T2 = _COEF_T1 * _UN


@dataclass(frozen=True)
class DetailMixture:
    """Composition-dependent terms of DETAIL (NIST ``xTermsDetail``), computed once per composition.

    Attributes: x (mole fractions, AGA8 order), molar_mass [kg/mol], K3 (size parameter K^3, l/mol),
    Bs (18 second-virial sums, l/mol), Csn (58 coefficients of the density series).
    """

    x: FloatArray
    molar_mass: float
    K3: float
    Bs: FloatArray
    Csn: FloatArray

    @classmethod
    def from_fractions(cls, x: ArrayLike) -> DetailMixture:
        """Build from 21 mole fractions in :data:`gasgrid.gas.components.COMPONENTS` order (sum 1)."""
        xa = np.asarray(x, dtype=float)
        if xa.shape != (NC,) or np.any(xa < 0) or abs(xa.sum() - 1.0) > 1e-6:
            raise InputError(f"need {NC} non-negative mole fractions summing to 1", kind="gas",
                             field="composition")  # fmt: skip
        upper = np.triu(np.ones((NC, NC)), 1)
        xij = 2.0 * np.outer(xa, xa) * upper  # binary pairs i < j, counted twice as in NIST
        K3 = float((xa @ _KI25) ** 2 + np.sum(xij * _KIJ5)) ** 0.6
        U = float((xa @ _EI25) ** 2 + np.sum(xij * _UIJ5)) ** 0.2
        G = float(xa @ _GI + np.sum(xij * _GIJ5))
        Q = float(xa @ _QI)
        F = float(xa**2 @ _FI)
        diag = np.einsum("iin->in", _BS2)
        Bs = xa**2 @ diag + np.einsum("ij,ijn->n", xij, _BS2)
        Csn = _AN * U**_UN
        Csn = np.where(_GN, Csn * G, Csn)
        Csn = np.where(_QN, Csn * Q * Q, Csn)
        Csn = np.where(_FN, Csn * F, Csn)
        Csn[:12] = 0.0  # only n = 13..58 enter the density series
        return cls(x=xa, molar_mass=float(xa @ MOLAR_MASS), K3=K3, Bs=Bs, Csn=Csn)

    def second_virial(self, T: ArrayLike) -> FloatArray:
        """Second virial coefficient B(T), m^3/mol (the p -> 0 limit of dZ/dp is B/(R T))."""
        T_arr = np.asarray(T, dtype=float)
        return np.asarray(np.sum(self.Bs * T_arr[..., None] ** (-_UN[:18]), axis=-1) / 1000.0)


class _Alphar(NamedTuple):
    a00: FloatArray  # residual Helmholtz energy, J/mol
    a01: FloatArray  # D d(ar)/dD
    a02: FloatArray  # D^2 d2(ar)/dD2
    a03: FloatArray  # D^3 d3(ar)/dD3
    a10: FloatArray  # d(ar)/dT, J/(mol K)
    a11: FloatArray  # D d2(ar)/dD dT
    a20: FloatArray  # T d2(ar)/dT2


def _alphar(mix: DetailMixture, T: FloatArray, D: FloatArray) -> _Alphar:
    """Residual Helmholtz energy and derivatives (NIST ``AlpharDetail``); T in K, D in mol/l, broadcast."""
    T, D = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(D, dtype=float))
    Tun = T[..., None] ** (-_UN)
    Dred = mix.K3 * D[..., None]
    Dk = Dred ** np.arange(10)
    Dbn = np.take(Dk, _BN, axis=-1)
    Dkn = np.take(Dk, _KN, axis=-1)
    expn = np.where(_KN > 0, np.exp(-Dkn), 1.0)
    sum_b = np.zeros_like(Tun)
    sum_b[..., :18] = (mix.Bs * D[..., None] - mix.Csn[:18] * Dred) * Tun[..., :18]
    sum0 = mix.Csn * Dbn * Tun * expn  # Csn is zero for n < 13
    bkd = _BN - _KN * Dkn
    ckd = _KN * _KN * Dkn
    c2 = bkd * (bkd - 1.0) - ckd
    c3 = (bkd - 2.0) * c2 + ckd * (1.0 - _KN - 2.0 * bkd)
    s0 = sum0 + sum_b
    s1 = sum0 * bkd + sum_b
    RT = R_DETAIL * T
    return _Alphar(
        a00=RT * s0.sum(-1),
        a01=RT * s1.sum(-1),
        a02=RT * (sum0 * c2).sum(-1),
        a03=RT * (sum0 * c3).sum(-1),
        a10=-(s0 @ _COEF_T1),
        a11=-(s1 @ _COEF_T1),
        a20=s0 @ _COEF_T2,
    )


def _alpha0(mix: DetailMixture, T: FloatArray, D: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Ideal-gas Helmholtz energy a0 [J/mol], da0/dT and T d2a0/dT2 [J/(mol K)] (NIST ``Alpha0Detail``)."""
    T, D = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(D, dtype=float))
    present = mix.x > 0
    x, n0, th0 = mix.x[present], _N0[present], _TH0[present]
    logD = np.log(np.where(D > 0, D, 1e-20))[..., None]
    logT = np.log(T)[..., None]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        th0T = th0 / T[..., None, None]  # (..., nc, 4)
        ep = np.exp(th0T)
        hsn = (ep - 1.0 / ep) / 2.0
        hcn = (ep + 1.0 / ep) / 2.0
        active = th0 > 0
        sinh_terms = np.array([True, False, True, False])  # j = 4 and 6 are sinh terms, 5 and 7 cosh
        hyp = np.where(sinh_terms, hsn, hcn)
        coth = np.where(sinh_terms, hcn / hsn, hsn / hcn)
        sign = np.where(sinh_terms, 1.0, -1.0)
        log_hyp = np.log(np.abs(hyp))
        n_hyp = n0[:, 3:7]
        sum0 = np.where(active, sign * n_hyp * log_hyp, 0.0).sum(-1)
        sum1 = np.where(active, sign * n_hyp * (log_hyp - th0T * coth), 0.0).sum(-1)
        sum2 = np.where(active, n_hyp * (th0T / hyp) ** 2, 0.0).sum(-1)
    logxD = logD + np.log(x)
    a0 = (x * (logxD + n0[:, 0] + n0[:, 1] / T[..., None] - n0[:, 2] * logT + sum0)).sum(-1)
    a1 = (x * (logxD + n0[:, 0] - n0[:, 2] * (1.0 + logT) + sum1)).sum(-1)
    a2 = -(x * (n0[:, 2] + sum2)).sum(-1)
    return a0 * R_DETAIL * T, a1 * R_DETAIL, a2 * R_DETAIL


# --- public SI interface --------------------------------------------------------------------------------------
def pressure(mix: DetailMixture, T: ArrayLike, rho: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Pressure [Pa] and Z at temperature T [K] and molar density rho [mol/m^3] (NIST ``PressureDetail``)."""
    T_arr = np.asarray(T, dtype=float)
    D = np.asarray(rho, dtype=float) / 1000.0
    ar = _alphar(mix, T_arr, D)
    Z = 1.0 + ar.a01 / (R_DETAIL * T_arr)
    return D * R_DETAIL * T_arr * Z * 1000.0, Z


def density(mix: DetailMixture, T: ArrayLike, p: ArrayLike, *, rtol: float = 1e-11) -> FloatArray:
    """Molar density [mol/m^3] at T [K] and p [Pa] > 0 (NIST ``DensityDetail``, vectorised).

    Newton iteration on ln(v) with ln(p) as the target, started from the ideal gas; points where dp/drho < 0
    or p < 0 step ln(v) by +0.1 as in the reference code. Raises ConvergenceError after 20 iterations.
    """
    T_b, p_b = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(p, dtype=float))
    T_arr, p_arr = T_b.ravel(), p_b.ravel()
    P = p_arr / 1000.0  # kPa
    if np.any(~(P > 0)):
        raise InputError("DETAIL density needs p > 0 Pa", kind="gas", field="p")
    plog = np.log(P)
    vlog = -np.log(P / (R_DETAIL * T_arr))
    todo = np.arange(P.size)
    for _ in range(20):
        if todo.size == 0:
            break
        Tt, vl = T_arr[todo], vlog[todo]
        if np.any((vl < -7) | (vl > 100)):
            break
        D = np.exp(-vl)
        ar = _alphar(mix, Tt, D)
        RT = R_DETAIL * Tt
        P2 = D * (RT + ar.a01)
        dPdD = RT + 2.0 * ar.a01 + ar.a02
        bad = (dPdD < 0) | (P2 <= 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vdiff = np.where(bad, -0.1, (np.log(np.where(bad, 1.0, P2)) - plog[todo]) * P2 / (-D * dPdD))
        vlog[todo] = vl - vdiff
        todo = todo[bad | (np.abs(vdiff) >= rtol)]
    if todo.size:
        k = todo[0]
        raise ConvergenceError(
            f"AGA8 DETAIL density iteration did not converge at T = {T_arr[k]:g} K, p = {p_arr[k]:g} Pa "
            "(state outside the range of the equation or in the two-phase region)"
        )
    vlog = vlog.reshape(T_b.shape)
    return np.exp(-vlog) * 1000.0


def z_and_dz_dp(mix: DetailMixture, T: ArrayLike, p: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Z and (dZ/dp)_T [1/Pa] at T [K] and p [Pa] > 0, from the exact density solve (no tabulation)."""
    T_arr, p_arr = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(p, dtype=float))
    D = density(mix, T_arr, p_arr) / 1000.0
    ar = _alphar(mix, T_arr, D)
    RT = R_DETAIL * T_arr
    Z = 1.0 + ar.a01 / RT
    dPdD = RT + 2.0 * ar.a01 + ar.a02
    # dZ/dP = (dPdD - Z R T) / (D R T dPdD) with the difference formed analytically (no cancellation at p -> 0)
    dz_dP = (ar.a01 + ar.a02) / (D * RT * dPdD) / 1000.0
    return Z, dz_dP


class DetailProperties(NamedTuple):
    """Thermodynamic properties at one or more states, SI (molar quantities per mol of mixture)."""

    p: FloatArray  # Pa
    rho: FloatArray  # mol/m^3
    Z: FloatArray
    dp_drho: FloatArray  # Pa/(mol/m^3), constant T
    d2p_drho2: FloatArray  # Pa/(mol/m^3)^2
    dp_dT: FloatArray  # Pa/K, constant density
    u: FloatArray  # J/mol
    h: FloatArray  # J/mol
    s: FloatArray  # J/(mol K)
    cv: FloatArray  # J/(mol K)
    cp: FloatArray  # J/(mol K)
    w: FloatArray  # speed of sound, m/s
    g: FloatArray  # J/mol
    jt: FloatArray  # Joule-Thomson coefficient, K/Pa
    kappa: FloatArray  # isentropic exponent w^2 M / (Z R T) = -(v/p)(dp/dv)_s


def properties(mix: DetailMixture, T: ArrayLike, rho: ArrayLike) -> DetailProperties:
    """All properties of NIST ``PropertiesDetail`` at T [K] and molar density rho [mol/m^3] > 0."""
    T_arr, rho_arr = np.broadcast_arrays(np.asarray(T, dtype=float), np.asarray(rho, dtype=float))
    D = rho_arr / 1000.0
    if np.any(~(D > 0)):
        raise InputError("DETAIL properties need a density > 0", kind="gas", field="rho")
    a0 = _alpha0(mix, T_arr, D)
    ar = _alphar(mix, T_arr, D)
    RT = R_DETAIL * T_arr
    Z = 1.0 + ar.a01 / RT
    P = D * RT * Z
    dPdD = RT + 2.0 * ar.a01 + ar.a02
    dPdT = D * R_DETAIL + D * ar.a11
    A = a0[0] + ar.a00
    S = -a0[1] - ar.a10
    U = A + T_arr * S
    Cv = -(a0[2] + ar.a20)
    H = U + P / D
    G = A + P / D
    Cp = Cv + T_arr * (dPdT / D) ** 2 / dPdD
    d2PdD2 = (2.0 * ar.a01 + 4.0 * ar.a02 + ar.a03) / D
    JT = (T_arr / D * dPdT / dPdD - 1.0) / Cp / D
    Mm = mix.molar_mass * 1000.0  # g/mol
    W2 = np.maximum(1000.0 * Cp / Cv * dPdD / Mm, 0.0)
    kappa = W2 * Mm / (RT * 1000.0 * Z)
    return DetailProperties(
        p=P * 1000.0, rho=rho_arr, Z=Z, dp_drho=dPdD, d2p_drho2=d2PdD2 / 1000.0, dp_dT=dPdT * 1000.0,
        u=U, h=H, s=S, cv=Cv, cp=Cp, w=np.sqrt(W2), g=G, jt=JT / 1000.0, kappa=kappa,
    )  # fmt: skip


def properties_tp(mix: DetailMixture, T: ArrayLike, p: ArrayLike) -> DetailProperties:
    """Properties at T [K] and p [Pa] > 0 (density solve, then :func:`properties`)."""
    return properties(mix, T, density(mix, T, p))


def ideal_cp(mix: DetailMixture, T: ArrayLike) -> FloatArray:
    """Ideal-gas isobaric molar heat capacity cp0 [J/(mol K)] of the DETAIL ideal-gas part at T [K]."""
    T_arr = np.asarray(T, dtype=float)
    return -_alpha0(mix, T_arr, np.ones_like(T_arr))[2] + R_DETAIL
