"""Recording a transient run at its save times and building the output Dataset.

Contract: :class:`Recorder` copies what the Dataset needs at every save time (node pressures, pipe end flows,
arc flows, injections, withdrawals, line pack, station power, fuel and modes, regulator modes, cumulative
boundary mass) and :meth:`Recorder.dataset` assembles the :class:`xarray.Dataset` described in
:mod:`gasgrid.transient.output`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gasgrid.transient.schemes import Scheme
from gasgrid.transient.stations import Controller, RegulatorCode, StationCode, legend
from gasgrid.transient.system import Controls, System
from gasgrid.units import Reference

if TYPE_CHECKING:
    import xarray as xr

    from gasgrid.transient.simulate import TransientOptions

F64 = NDArray[np.float64]


class Recorder:
    """Collects the saved quantities and builds the Dataset."""

    def __init__(self, system: System, ctl: Controller, save_times: F64, reference: Reference) -> None:
        self.system = system
        self.ctl = ctl
        self.save_times = save_times
        self.reference = reference
        self._next = 0  # index of the next save time not yet reached
        self.rows: dict[str, list] = {k: [] for k in ("t", "p", "qin", "qout", "qa", "sup", "dem", "lp", "lp_total", "cin",
                                                      "cout", "pw", "fuel", "cs_mode", "cv_mode")}

    def maybe_save(self, t: float, x: F64, u: Controls, u_cmd: Controls, cin: float, cout: float) -> None:
        """Record the state x at time t [s] if t is a save time (u: controls used, u_cmd: commanded)."""
        st = self.save_times
        if st.size:  # times come in increasing order: compare with the next save time only
            tol = 1e-6 * max(1.0, abs(t))
            while self._next < st.size and st[self._next] < t - tol:
                self._next += 1
            if self._next >= st.size or abs(st[self._next] - t) > tol:
                return
            self._next += 1
        g = self.system.grid
        net = g.net
        r = self.rows
        r["t"].append(t)
        r["p"].append(x[: g.n_nodes].copy())
        r["qin"].append(x[g.off_face + g.pipe_first_face()].copy())
        r["qout"].append(x[g.off_face + g.pipe_last_face()].copy())
        r["qa"].append(x[g.off_other : g.off_psupply].copy())
        sup = np.where(u.supply_on, u.supply_flow, 0.0)
        sup[g.psupply] = x[g.off_psupply :]
        r["sup"].append(sup)
        r["dem"].append(u.demand_flow.copy())
        lp = np.bincount(g.atom_pipe, weights=self.system.masses(x), minlength=len(net.pipe) + 1)
        r["lp"].append(lp[: len(net.pipe)])
        r["lp_total"].append(float(lp.sum()))
        r["pw"].append(self._station_power(x))
        r["fuel"].append(self.ctl.station_state(x, u.arc_mode)[1] if u.fuel is not None else np.zeros(len(net.compressor)))
        r["cs_mode"].append(self.ctl.station_codes(u_cmd))
        r["cv_mode"].append(self.ctl.regulator_codes(x, u_cmd))
        r["cin"].append(cin)
        r["cout"].append(cout)

    def _station_power(self, x: F64) -> F64:
        """Shaft power [W] of every compressor from its flow and pressures (zero when not compressing)."""
        g = self.system.grid
        cb = g.net.compressor
        if not len(cb):
            return np.zeros(0)
        pos = np.searchsorted(g.other_arcs, cb.arc)
        q = x[g.off_other + pos]
        ps, pd = x[g.net.arc_from[cb.arc]], x[g.net.arc_to[cb.arc]]
        return np.where(q > 0.0, self.system.stations.evaluate(q, ps, pd)[0], 0.0)

    def dataset(self, scheme: Scheme, dt: float, dx: float, options: TransientOptions, stats: dict) -> xr.Dataset:
        """The xarray Dataset of every saved time (see :mod:`gasgrid.transient.output`)."""
        import xarray as xr

        g = self.system.grid
        net = g.net
        r = self.rows
        t = np.asarray(r["t"])
        lp = np.asarray(r["lp"]).reshape(len(t), len(net.pipe))
        total = np.asarray(r["lp_total"])
        rho_ref = net.gas.reference_density(options.reference)
        pipe_ids = [str(a) for a in net.arc_ids[net.pipe.arc]]
        other_ids = [str(a) for a in net.arc_ids[g.other_arcs]]
        ds = xr.Dataset(
            {
                "p_Pa": (("time", "node"), np.asarray(r["p"]).reshape(len(t), g.n_nodes), {"units": "Pa"}),
                "p_min_Pa": (("node",), np.asarray(net.p_min, float), {"units": "Pa"}),
                "pipe_inflow_kg_s": (("time", "pipe"), np.asarray(r["qin"]).reshape(len(t), -1), {"units": "kg/s"}),
                "pipe_outflow_kg_s": (("time", "pipe"), np.asarray(r["qout"]).reshape(len(t), -1),
                                      {"units": "kg/s"}),
                "arc_flow_kg_s": (("time", "arc"), np.asarray(r["qa"]).reshape(len(t), -1), {"units": "kg/s"}),
                "supply_kg_s": (("time", "supply"), np.asarray(r["sup"]).reshape(len(t), -1), {"units": "kg/s"}),
                "demand_kg_s": (("time", "demand"), np.asarray(r["dem"]).reshape(len(t), -1), {"units": "kg/s"}),
                "compressor_power_W": (("time", "compressor"), np.asarray(r["pw"]).reshape(len(t), -1),
                                       {"units": "W", "what": "shaft power"}),
                "compressor_fuel_kg_s": (("time", "compressor"), np.asarray(r["fuel"]).reshape(len(t), -1),
                                         {"units": "kg/s", "what": "fuel gas withdrawn at the suction node"}),
                "compressor_mode": (("time", "compressor"),
                                    np.asarray(r["cs_mode"], dtype=np.int8).reshape(len(t), -1),
                                    {"legend": legend(StationCode), "what": "set point, binding limit or bypass"}),
                "control_valve_mode": (("time", "control_valve"),
                                       np.asarray(r["cv_mode"], dtype=np.int8).reshape(len(t), -1),
                                       {"legend": legend(RegulatorCode)}),
                "linepack_pipe_kg": (("time", "pipe"), lp, {"units": "kg"}),
                "linepack_kg": (("time",), total, {"units": "kg"}),
                "linepack_m3": (("time",), total / rho_ref,
                                {"units": "m3", "reference": str(options.reference.value)}),
                "cum_inflow_kg": (("time",), np.asarray(r["cin"]), {"units": "kg"}),
                "cum_outflow_kg": (("time",), np.asarray(r["cout"]), {"units": "kg"}),
            },
            coords={
                "time": ("time", t, {"units": "s"}),
                "node": [str(n) for n in net.node_ids],
                "pipe": pipe_ids,
                "arc": other_ids,
                "supply": [str(s) for s in net.supply.ids],
                "compressor": [str(a) for a in net.arc_ids[net.compressor.arc]],
                "demand": [str(d) for d in net.demand.ids],
                "control_valve": [str(a) for a in net.arc_ids[net.control_valve.arc]],
            },
            attrs={
                "network": net.name,
                "scheme": scheme.name,
                "scheme_order": scheme.order,
                "dt_s": float(dt),
                "dx_m": float(dx),
                "inertia": int(options.inertia),
                "reference": str(options.reference.value),
                "demand_nodes": ",".join(str(net.node_ids[i]) for i in np.unique(net.demand.node)),
                "wall_s": float(stats.get("wall_s", math.nan)),
            },
        )
        return ds
