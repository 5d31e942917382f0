"""Sweeps of scenarios: serial or on Dask, written incrementally to a resumable Parquet dataset.

Contract: :func:`run_sweep` returns one record per requested scenario (failures included, with their error
text; a scenario whose worker was lost for good is recorded as such, never dropped). With ``out``, records
are appended in batches to a Parquet dataset directory (one ``part-*.parquet`` file per batch, written under
a temporary name and moved into place with ``os.replace``, so a reader never sees half a file); a later
call with the same ``out`` skips every scenario already recorded there (resume after an interruption).

On Dask (``executor="dask"``) the compiled base network and its base-case result are scattered to every
worker once; tasks carry only small scenario deltas (in chunks of ``chunk_size`` scenarios). Without
``scheduler`` or ``client`` an in-process :class:`distributed.LocalCluster` of ``n_workers`` single-threaded
worker processes is started and closed again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gasgrid.analysis.contingency import (
    ContingencyOptions,
    error_record,
    evaluate_scenario,
    rank_outages,
    records_frame,
)
from gasgrid.analysis.scenario import Scenario
from gasgrid.errors import InputError, MissingExtraError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import solve_steady
from gasgrid.steady.result import SteadyResult

if TYPE_CHECKING:
    from gasgrid.model.network import Network

EXECUTORS = ("serial", "dask")
Progress = Callable[[int, int], None]


@dataclass
class SweepResult:
    """Records of a sweep (one row per requested scenario) and how it ran."""

    records: pd.DataFrame
    evaluated: int  # scenarios evaluated in this call
    skipped: int  # scenarios found already recorded in ``out``
    elapsed_s: float
    base: SteadyResult
    out: Path | None = None

    @property
    def scenarios_per_s(self) -> float:
        return self.evaluated / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def ranked(self) -> pd.DataFrame:
        """Worst outages first (see :func:`gasgrid.analysis.contingency.rank_outages`)."""
        return rank_outages(self.records)


def read_dataset(out: str | os.PathLike[str]) -> pd.DataFrame:
    """All records stored in a sweep dataset directory (empty frame if there are none)."""
    files = sorted(Path(out).glob("part-*.parquet"))
    if not files:
        return records_frame([])
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _write_batch(out: Path, records: list[dict[str, Any]]) -> None:
    if not records:
        return
    name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = out / f".{name}.tmp"
    records_frame(records).to_parquet(tmp, index=False)
    os.replace(tmp, out / name)


def _check_meta(out: Path, base: CompiledNetwork) -> None:
    meta = out / "sweep.json"
    info = {"network": base.name, "n_nodes": base.n_nodes, "n_arcs": base.n_arcs}
    if meta.exists():
        old = json.loads(meta.read_text())
        if {k: old.get(k) for k in info} != info:
            raise InputError(f"holds a sweep of another network ({old}); use a new directory", kind="sweep",
                             field="out", element=str(out))
        return
    tmp = out / ".sweep.json.tmp"
    tmp.write_text(json.dumps(info))
    os.replace(tmp, meta)


def _eval_chunk(base: CompiledNetwork, chunk: list[Scenario], base_result: SteadyResult | None,
                options: ContingencyOptions) -> list[dict[str, Any]]:
    return [evaluate_scenario(base, s, base_result=base_result, options=options) for s in chunk]


def run_sweep(
    network: Network | CompiledNetwork,
    scenarios: Sequence[Scenario],
    *,
    executor: str = "serial",
    n_workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    out: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    chunk_size: int | None = None,
    options: ContingencyOptions | None = None,
    base_result: SteadyResult | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Evaluate every scenario (see the module contract).

    Args:
        network: the intact network.
        scenarios: the sweep; names must be unique (they key the records).
        executor: ``"serial"`` (in this process) or ``"dask"``.
        n_workers: worker processes of the LocalCluster started when neither ``scheduler`` nor ``client``.
        scheduler: address of an existing Dask scheduler (``tcp://host:8786``).
        client: an existing ``distributed.Client`` (takes precedence over ``scheduler``).
        out: Parquet dataset directory for incremental, resumable output.
        batch_size: records per Parquet file.
        chunk_size: scenarios per Dask task (default: about 4 tasks per worker, at most 16 per task).
        options: contingency options.
        base_result: base-case steady result (solved here if not given).
        progress: called as ``progress(done, total)`` after every finished scenario or chunk.
    """
    if executor not in EXECUTORS:
        raise InputError(f"must be one of {EXECUTORS}, got {executor!r}", kind="run_sweep", field="executor")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        dup = pd.Series(names)[pd.Series(names).duplicated()].iloc[0]
        raise InputError(f"scenario names must be unique; {dup!r} repeats", kind="run_sweep", field="scenarios")
    t0 = time.perf_counter()
    base = network if isinstance(network, CompiledNetwork) else network.compile()
    opts = options or ContingencyOptions()
    if base_result is None:
        base_result = solve_steady(base, options=opts.steady)
    out_path = Path(out) if out is not None else None
    done: set[str] = set()
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        _check_meta(out_path, base)
        done = set(read_dataset(out_path)["scenario"])
    todo = [s for s in scenarios if s.name not in done]
    new: list[dict[str, Any]] = []
    buffer: list[dict[str, Any]] = []

    def collect(recs: list[dict[str, Any]]) -> None:
        new.extend(recs)
        buffer.extend(recs)
        if out_path is not None and len(buffer) >= batch_size:
            _write_batch(out_path, buffer)
            buffer.clear()
        if progress is not None:
            progress(len(new), len(todo))

    try:
        if executor == "serial":
            for s in todo:
                collect([evaluate_scenario(base, s, base_result=base_result, options=opts)])
        elif todo:
            _run_dask(base, todo, base_result, opts, collect, n_workers=n_workers, scheduler=scheduler,
                      client=client, chunk_size=chunk_size)
    finally:
        if out_path is not None:
            _write_batch(out_path, buffer)
    elapsed = time.perf_counter() - t0
    frame = read_dataset(out_path) if out_path is not None else records_frame(new)
    frame = frame.drop_duplicates("scenario", keep="last").set_index("scenario")
    frame = frame.reindex([n for n in names if n in frame.index]).reset_index()
    return SweepResult(records=records_frame(frame.to_dict("records")), evaluated=len(new),
                       skipped=len(scenarios) - len(todo), elapsed_s=elapsed, base=base_result, out=out_path)


def _run_dask(base: CompiledNetwork, todo: list[Scenario], base_result: SteadyResult, opts: ContingencyOptions,
              collect: Callable[[list[dict[str, Any]]], None], *, n_workers: int, scheduler: str | None,
              client: Any, chunk_size: int | None) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingExtraError("distributed", "distributed", "Dask sweeps") from exc
    own_cluster = own_client = None
    if client is None:
        if scheduler is not None:
            client = own_client = Client(scheduler)
        else:
            own_cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
            client = own_client = Client(own_cluster)
    try:
        n_w = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        size = chunk_size or max(1, min(16, len(todo) // (4 * n_w) or 1))
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        base_f = client.scatter(base, broadcast=True)
        res_f = client.scatter(base_result, broadcast=True)
        futures = {client.submit(_eval_chunk, base_f, ch, res_f, opts, pure=False): ch for ch in chunks}
        for fut in as_completed(list(futures)):
            chunk = futures.pop(fut)
            try:
                recs = fut.result()
            except Exception as exc:
                recs = [error_record(s, exc) for s in chunk]
            fut.release()
            collect(recs)
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()





def n_minus_1(
    network: Network | CompiledNetwork,
    *,
    kinds: tuple[str, ...] = ("pipe", "compressor", "control_valve", "supply"),
    elements: tuple[str, ...] | None = None,
    extra: Sequence[Scenario] = (),
    **sweep: Any,
) -> SweepResult:
    """N-1 sweep: every in-service element of ``kinds`` (or the listed ``elements``) out in turn, plus
    ``extra`` scenarios (e.g. common-mode outages); keywords go to :func:`run_sweep`."""
    from gasgrid.analysis.scenario import n_minus_1_scenarios

    base = network if isinstance(network, CompiledNetwork) else network.compile()
    scenarios = [*n_minus_1_scenarios(base, kinds=kinds, elements=elements), *extra]
    return run_sweep(base, scenarios, **sweep)

__all__ = ["EXECUTORS", "SweepResult", "n_minus_1", "read_dataset", "run_sweep"]
