"""Results of a transient run: the xarray Dataset, line pack, mass balance and survival times.

Contract: :class:`TransientResult` carries an :class:`xarray.Dataset` with one value per save time:

* ``p_Pa`` (time, node): node pressures; ``p_min_Pa`` (node): the nodes' minimum pressures;
* ``pipe_inflow_kg_s`` / ``pipe_outflow_kg_s`` (time, pipe): flow at the from / to end of every pipe;
* ``arc_flow_kg_s`` (time, arc): flow of every non-pipe arc; ``supply_kg_s`` (time, supply) injections;
  ``demand_kg_s`` (time, demand) withdrawals; ``compressor_power_W`` (time, compressor): shaft power from
  :func:`gasgrid.physics.compressor.station_power`; ``compressor_fuel_kg_s`` (time, compressor): fuel gas
  withdrawn at the suction node (gas-turbine drivers, ``TransientOptions.fuel_gas``);
* ``compressor_mode`` (time, compressor) and ``control_valve_mode`` (time, control_valve): integer codes of
  what governs each station (set point, binding limit, bypass and why) and regulator, decoded by the
  variable's ``legend`` attribute (:class:`~gasgrid.transient.stations.StationCode`,
  :class:`~gasgrid.transient.stations.RegulatorCode`);
* ``linepack_pipe_kg`` (time, pipe), ``linepack_kg`` (time) and ``linepack_m3`` (time, volume at the reference
  condition named in its attributes); the total also holds the gas of pipe-less nodes (``node_volume_m3``);
* ``cum_inflow_kg`` / ``cum_outflow_kg`` (time): boundary mass (outflow: demands and fuel gas) integrated
  with the scheme's own quadrature,
  so that ``linepack_kg - linepack_kg[0] - (cum_inflow_kg - cum_outflow_kg)`` is the mass-balance error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gasgrid.errors import InputError

if TYPE_CHECKING:
    import xarray as xr

F64 = NDArray[np.float64]


class TransientStatus(Enum):
    SUCCESS = "success"
    NEWTON_FAILED = "newton_failed"
    INFEASIBLE = "infeasible"


@dataclass
class TransientResult:
    """Outcome of :func:`gasgrid.transient.simulate` (see module docstring for the Dataset)."""

    dataset: xr.Dataset
    status: TransientStatus
    message: str
    stats: dict[str, Any] = field(default_factory=dict)
    final_state: F64 | None = None

    @property
    def ok(self) -> bool:
        return self.status is TransientStatus.SUCCESS

    def mass_balance_error(self) -> tuple[float, float]:
        """(absolute error [kg], error relative to the boundary throughput) at the worst save time.

        Throughput is the larger of the cumulative inflow and outflow, and at least 1 kg.
        """
        ds = self.dataset
        lp = ds["linepack_kg"].to_numpy()
        cin = ds["cum_inflow_kg"].to_numpy()
        cout = ds["cum_outflow_kg"].to_numpy()
        cin, cout = cin - cin[0], cout - cout[0]  # the first save time need not be t0
        err = lp - lp[0] - (cin - cout)
        thr = np.maximum(np.maximum(np.abs(cin), np.abs(cout)), 1.0)
        k = int(np.argmax(np.abs(err) / thr))
        return float(abs(err[k])), float(abs(err[k]) / thr[k])

    def pressures_bar(self) -> pd.DataFrame:
        """Node pressures [bar] as a DataFrame indexed by time [s]."""
        return self.dataset["p_Pa"].to_pandas() / 1e5

    def survival_time(self, **kwargs: Any) -> pd.Series:
        """See :func:`survival_time`."""
        return survival_time(self.dataset, **kwargs)

    def to_netcdf(self, path: str | Path) -> Path:
        """Write the Dataset to NetCDF (needs netCDF4 or scipy). Returns the path."""
        p = Path(path)
        self.dataset.to_netcdf(p)
        return p

    def to_parquet(self, path: str | Path) -> Path:
        """Write the time series as a long table (time, variable, element, value) to Parquet."""
        p = Path(path)
        frames = []
        for name, da in self.dataset.data_vars.items():
            if "time" not in da.dims:
                continue
            if da.ndim == 1:
                df = pd.DataFrame({"time_s": da["time"].to_numpy(), "element": "", "value": da.to_numpy()})
            else:
                other = next(d for d in da.dims if d != "time")
                df = da.to_dataframe(name="value").reset_index().rename(columns={"time": "time_s", other: "element"})
                df = df[["time_s", "element", "value"]]
            df.insert(1, "variable", name)
            frames.append(df)
        table = pd.concat(frames, ignore_index=True)
        table["element"] = table["element"].astype(str)
        table.to_parquet(p, index=False)
        return p


def survival_time(
    ds: xr.Dataset,
    *,
    nodes: list[str] | None = None,
    p_min_Pa: float | dict[str, float] | None = None,
    after_s: float | None = None,
) -> pd.Series:
    """Time [s] from ``after_s`` (default: the first save time) until each node first drops below its minimum
    pressure, interpolated linearly between save times; ``inf`` if it never does within the run, 0 if it is
    already below at ``after_s``.

    Args:
        ds: the Dataset of a :class:`TransientResult`.
        nodes: node ids (default: the nodes with a demand).
        p_min_Pa: one threshold for all, a mapping per node, or None for the nodes' own ``p_min``.
        after_s: start of the clock (e.g. the time of the disruption), s.
    """
    t = ds["time"].to_numpy()
    t_start = float(t[0]) if after_s is None else float(after_s)
    if nodes is None:
        nodes = [str(n) for n in np.unique(ds.attrs.get("demand_nodes", "").split(",")) if n]
    node_ids = [str(n) for n in ds["node"].to_numpy()]
    out = {}
    for n in nodes:
        if n not in node_ids:
            raise InputError("survival time asked for an unknown node", kind="node", element=n)
        p = ds["p_Pa"].sel(node=n).to_numpy()
        if p_min_Pa is None:
            pmin = float(ds["p_min_Pa"].sel(node=n))
        elif isinstance(p_min_Pa, dict):
            pmin = float(p_min_Pa[n])
        else:
            pmin = float(p_min_Pa)
        out[n] = _first_crossing(t, p, pmin, t_start) - t_start
    return pd.Series(out, name="survival_time_s", dtype=float)


def _first_crossing(t: F64, p: F64, pmin: float, t_start: float) -> float:
    m = t >= t_start
    if not m.any():
        raise InputError(f"after_s = {t_start:g} s is after the last save time {t[-1]:g} s")
    k0 = int(np.argmax(m))
    if k0 > 0:  # interpolate the value at t_start
        p0 = float(np.interp(t_start, t, p))
        t = np.concatenate([[t_start], t[k0:]])
        p = np.concatenate([[p0], p[k0:]])
    below = np.flatnonzero(p < pmin)
    if not below.size:
        return float("inf")
    k = int(below[0])
    if k == 0:
        return float(t[0])
    return float(t[k - 1] + (p[k - 1] - pmin) / (p[k - 1] - p[k]) * (t[k] - t[k - 1]))
