"""Pipe friction for the transient kernels: the laws of :func:`gasgrid.physics.friction.darcy_friction`, per face,
compiled by numba, and the local linear model the stepper evaluates between law evaluations.

Contract: :func:`law_lambda` returns (lambda, d ln lambda / d ln q) of one face's law at |q| [kg/s], with the same
formulas, constants (read from :mod:`gasgrid.physics.friction` when the arrays are built) and floors as
``darcy_friction`` (no pipeline efficiency, as the transient model uses it). Colebrook and AGA iterate per face
to ``COLEBROOK_RTOL`` (the numpy version iterates the whole vector until every element converged: the results
agree to that tolerance). :func:`face_friction` is the model the residual uses (see
:meth:`gasgrid.transient.system.System.friction`). The tests compare both with the physics module.

Per-face parameters live in one float array ``fp`` with rows ``FP_*`` and the law code in ``law``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from gasgrid.physics import friction as phys
from gasgrid.physics.kernels import colebrook_kernel
from gasgrid.transient._jit import JIT
from gasgrid.units import M_AIR, R_UNIVERSAL

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_LN10 = math.log(10.0)
RE_FLOOR = phys.RE_FLOOR
RTOL = phys.COLEBROOK_RTOL
AGA_DF = phys.AGA_DRAG_FACTOR
COLEBROOK, NIKURADSE, HOFER, SWAMEE_JAIN, FIXED = phys.COLEBROOK, phys.NIKURADSE, phys.HOFER, phys.SWAMEE_JAIN, phys.FIXED
WEYMOUTH, AGA = phys.WEYMOUTH, phys.AGA
Q_ABS_MIN = 1e-9  # kg/s: the law is evaluated at max(|q|, this), as System._law_lambda did
LOCAL_SPAN = 2.0  # the local model is used for 1/2 <= |q| / |q_ref| <= 2 only (the law itself beyond)

# rows of the per-face parameter array
FP_D, FP_REL, FP_LAM_FIXED, FP_CONST, FP_EXP, FP_Q_FLOOR, FP_MU, FP_LAM_FROZEN = range(8)
N_FP = 8


def face_parameters(law: I64, diameter: F64, roughness: F64, lam_fixed: F64, viscosity: float,
                    relative_density: float, base_temperature: float = 288.15,
                    base_pressure: float = 101_325.0) -> F64:
    """The (N_FP, n) parameter array of faces with the given laws and pipe data (SI).

    Classic laws: ln lambda = FP_CONST + FP_EXP ln X with X = q R / (G M_air) (Weymouth: lambda = exp(FP_CONST)),
    as in :func:`gasgrid.physics.friction.classic_lambda`, below FP_Q_FLOOR at the floor."""
    n = len(law)
    fp = np.zeros((N_FP, n))
    fp[FP_D] = diameter
    fp[FP_REL] = roughness / diameter
    fp[FP_LAM_FIXED] = np.nan_to_num(lam_fixed)
    fp[FP_MU] = viscosity
    G = relative_density
    for code, eq in phys.CLASSIC_EQUATIONS.items():
        sel = law == code
        if not sel.any():
            continue
        D = diameter[sel]
        const = (math.log(R_UNIVERSAL * math.pi**2 / (16.0 * M_AIR)) + 5.0 * np.log(D) + (eq.g - 1.0) * math.log(G)
                 + ((eq.a - 1.0) * math.log(base_pressure / base_temperature) - math.log(eq.C)) / eq.n
                 - (eq.d / eq.n) * np.log(D))
        if eq.m:
            const = const + eq.m * math.log(viscosity)
        if code == WEYMOUTH:  # evaluated at q = 1 (independent of q)
            const = const + (1.0 / eq.n - 2.0) * math.log(R_UNIVERSAL / (G * M_AIR))
        fp[FP_CONST, sel] = const
        fp[FP_EXP, sel] = 1.0 / eq.n - 2.0
        fp[FP_Q_FLOOR, sel] = RE_FLOOR * math.pi * D * viscosity / 4.0
    known = set(range(len(phys.LAW)))
    bad = set(np.unique(law).tolist()) - known
    if bad:
        from gasgrid.errors import InputError

        raise InputError(f"unknown friction law code {min(bad)}", kind="pipe", field="friction")
    _frozen(law.astype(np.int64), fp, R_UNIVERSAL / (G * M_AIR))
    return fp


@numba.njit(**JIT)
def _frozen(law: I64, fp: F64, xfac: float) -> None:
    """Every law is constant below Re = RE_FLOOR (derivative 0): its value there, per face (FP_LAM_FROZEN)."""
    for i in range(law.size):
        fp[FP_LAM_FROZEN, i] = law_lambda(law[i], 0.0, fp[FP_D, i], fp[FP_REL, i], fp[FP_MU, i],
                                          fp[FP_LAM_FIXED, i], fp[FP_CONST, i], fp[FP_EXP, i], fp[FP_Q_FLOOR, i],
                                          xfac, 0.0)[0]


@numba.njit(**JIT)
def _aga(re: float, rel: float) -> tuple[float, float]:
    ft = max(4.0 * math.log10(re) - 6.0, 1.0)
    for _ in range(50):
        g = ft - 4.0 * math.log10(re / ft) + 0.6
        step = g / (1.0 + 4.0 / (_LN10 * ft))
        ft = ft - step
        if abs(step) <= RTOL * ft:
            break
    dft = (4.0 / _LN10) / (1.0 + 4.0 / (_LN10 * ft))
    f_partial = AGA_DF * (ft + 0.6)
    f_rough = 4.0 * math.log10(3.7 / rel) if rel > 0.0 else math.inf
    if f_partial < f_rough:
        return 4.0 / (f_partial * f_partial), -2.0 * (AGA_DF * dft / f_partial)
    return 4.0 / (f_rough * f_rough), 0.0


@numba.njit(**JIT)
def law_lambda(code: int, q_abs: float, D: float, rel: float, mu: float, lam_fixed: float, c_log: float,
               e_log: float, q_floor: float, xfac: float, x0: float) -> tuple[float, float]:
    """lambda and d ln lambda / d ln q of a face's law at |q| = q_abs [kg/s]: diameter D [m], relative roughness,
    viscosity mu [Pa s], the fixed lambda, the classic laws' constants (``face_parameters``) and ``xfac`` =
    R / (G M_air); ``x0`` > 0 starts Colebrook's iteration at 1/sqrt(lambda) = x0 (e.g. the last value).
    Scalars only (array arguments would cost reference counting per call)."""
    q = max(q_abs, Q_ABS_MIN)
    if code == FIXED:
        return lam_fixed, 0.0
    re_raw = 4.0 * q / (math.pi * D * mu)
    frozen = re_raw < RE_FLOOR
    re = max(re_raw, RE_FLOOR)
    if code == COLEBROOK:
        lam, d, _ = colebrook_kernel(re, rel, x0)
    elif code == NIKURADSE:
        lam_lam = 64.0 / re
        x = 2.0 * math.log10(3.71 / rel) if rel > 0.0 else math.inf
        lam = (1.0 / (x * x) if math.isfinite(x) else 0.0) + lam_lam
        return lam, (0.0 if frozen else -lam_lam / lam)
    elif code == HOFER:
        lg = math.log10(re / 7.0)
        u = 4.518 * lg / re + rel / 3.71
        du = 4.518 / re * (1.0 / _LN10 - lg)
        x = -2.0 * math.log10(u)
        lam, d = x**-2, -2.0 * (-2.0 / (_LN10 * u) * du) / x
    elif code == SWAMEE_JAIN:
        t = 5.74 * re**-0.9
        u = rel / 3.7 + t
        lg = math.log10(u)
        lam, d = 0.25 / (lg * lg), 2.0 * 0.9 * t / (_LN10 * u * lg)
    elif code == AGA:
        lam, d = _aga(re, rel)
    elif code == WEYMOUTH:
        return math.exp(c_log), 0.0
    else:  # Panhandle A/B, IGT
        lam = math.exp(c_log + e_log * math.log(max(q, q_floor) * xfac))
        return lam, (0.0 if q < q_floor else e_log)
    return lam, (0.0 if frozen else d)


@numba.njit(**JIT)
def reference(q: F64, law: I64, fp: F64, xfac: float, q_floor: float, lam_prev: F64,
              q_ref: F64, lam: F64, dln: F64) -> None:
    """The law at |q_ref| = max(|q|, q_floor) on every face into (q_ref, lam, dln); ``lam_prev`` (or an empty array):
    an earlier reference, whose lambda starts the Colebrook iteration."""
    warm = lam_prev.size == q.size
    for i in range(q.size):
        aq = max(abs(q[i]), q_floor)
        x0 = 1.0 / math.sqrt(lam_prev[i]) if warm and lam_prev[i] > 0.0 else 0.0
        q_ref[i] = aq
        lam[i], dln[i] = law_lambda(law[i], aq, fp[FP_D, i], fp[FP_REL, i], fp[FP_MU, i], fp[FP_LAM_FIXED, i],
                                    fp[FP_CONST, i], fp[FP_EXP, i], fp[FP_Q_FLOOR, i], xfac, x0)


@numba.njit(**JIT)
def frozen(q_abs: float, D: float, mu: float) -> bool:
    """Whether |q| [kg/s] lies below the Reynolds floor in a pipe of diameter D [m] (every law is constant there,
    derivative 0: FP_LAM_FROZEN, which faces without flow need at every evaluation)."""
    return 4.0 * max(q_abs, Q_ABS_MIN) / (math.pi * D * mu) < RE_FLOOR


@numba.njit(**JIT)
def law_at(i: int, code: int, q_abs: float, fp: F64, xfac: float) -> tuple[float, float]:
    """:func:`law_lambda` of face i (parameters from ``fp``; below the Reynolds floor its constant value)."""
    if frozen(q_abs, fp[FP_D, i], fp[FP_MU, i]):
        return fp[FP_LAM_FROZEN, i], 0.0
    return law_lambda(code, q_abs, fp[FP_D, i], fp[FP_REL, i], fp[FP_MU, i], fp[FP_LAM_FIXED, i], fp[FP_CONST, i],
                      fp[FP_EXP, i], fp[FP_Q_FLOOR, i], xfac, 0.0)


@numba.njit(**JIT)
def local_model(q_abs: float, mode: int, lam_fixed: float, inv_q_ref: float, lam_ref: float,
                dln_ref: float) -> tuple[float, float, bool]:
    """lambda, d ln lambda / d ln q under ``mode`` (0: every law fixed, 1: local model around the reference flow
    1 / inv_q_ref) and whether the law itself is needed instead (mode 2, or beyond a factor 2 from the reference)."""
    if mode == 0:
        return lam_fixed, 0.0, False
    if mode == 1:
        ratio = q_abs * inv_q_ref
        far = ratio > LOCAL_SPAN or ratio * LOCAL_SPAN < 1.0
        return lam_ref * (1.0 + dln_ref * (ratio - 1.0)), dln_ref, far
    return 0.0, 0.0, True


@numba.njit(**JIT)
def laminar_floor(lam: float, dln: float, q_abs: float, lam_q_lam: float) -> tuple[float, float]:
    """lambda |q| [kg/s] with the laminar floor, and d(lambda q|q|)/dq / (lambda |q|) (2 + dln, 1 laminar)."""
    lam_q = lam * q_abs
    if lam_q < lam_q_lam:
        return lam_q_lam, 1.0
    return lam_q, 2.0 + dln


@numba.njit(**JIT)
def close_bounds(span: float) -> tuple[float, float]:
    """Ratios |q| / |q_ref| safely inside exp(-span), exp(span) (the logarithm decides only near the edges)."""
    return math.exp(-span) * (1.0 + 1e-12), math.exp(span) * (1.0 - 1e-12)


@numba.njit(**JIT)
def flow_close(aq: float, inv_q_ref: float, big: float, lo: float, hi: float, span: float) -> bool:
    """Whether |ln(|q| / |q_ref|)| <= span, or |q| <= big (not turbulent: not checked)."""
    if aq > big:
        r = max(aq, 1e-12) * inv_q_ref
        if not (lo < r < hi) and abs(math.log(r)) > span:
            return False
    return True


@numba.njit(**JIT)
def friction_close(q: F64, inv_q_ref: F64, big: float, span: float) -> bool:
    """Whether |ln(|q| / |q_ref|)| <= span on every face with |q| > big (see simulate._friction_close)."""
    lo, hi = close_bounds(span)
    for i in range(q.size):  # noqa: SIM110 (numba compiles the loop, not all() of a generator)
        if not flow_close(abs(q[i]), inv_q_ref[i], big, lo, hi, span):
            return False
    return True


__all__ = ["N_FP", "close_bounds", "face_parameters", "flow_close", "friction_close", "frozen", "laminar_floor", "law_at",
           "law_lambda", "local_model", "reference"]
