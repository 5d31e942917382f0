"""Sweeps: one record per scenario, resumable Parquet output, Dask execution that survives a killed worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gasgrid.analysis.scenario import DemandScale, Outage, Scenario, n_minus_1_scenarios
from gasgrid.analysis.sweep import read_dataset, run_sweep
from gasgrid.cases import load_case
from gasgrid.errors import InputError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import solve_steady
from gasgrid.steady.result import SteadyResult


@pytest.fixture(scope="module")
def gaslib582() -> tuple[CompiledNetwork, SteadyResult]:
    c = load_case("gaslib-582", scale=0.9).compile()
    return c, solve_steady(c)


def _subset(c: CompiledNetwork, n: int) -> list[Scenario]:
    every = n_minus_1_scenarios(c, kinds=("pipe", "short_pipe", "valve", "resistor", "control_valve", "compressor"))
    step = max(1, len(every) // n)
    return every[::step][:n]


def test_serial_sweep_has_a_record_per_scenario(gaslib582: tuple[CompiledNetwork, SteadyResult]) -> None:
    c, base = gaslib582
    scenarios = [*_subset(c, 40), Scenario("broken", (Outage("pipe", "not-a-pipe"),)),
                 Scenario("more-demand", (DemandScale(1.05),))]
    res = run_sweep(c, scenarios, base_result=base)
    assert list(res.records["scenario"]) == [s.name for s in scenarios]
    broken = res.records.set_index("scenario").loc["broken"]
    assert broken["status"] == "error" and "not-a-pipe" in broken["error"]
    ok = res.records[res.records["error"] == ""]
    assert len(ok) == len(scenarios) - 1
    assert (ok["unserved_kg_s"] >= 0).all()
    ranked = res.ranked()
    assert ranked["rank"].tolist() == list(range(1, len(scenarios) + 1))
    assert ranked.iloc[-1]["scenario"] == "broken"  # failures rank last, but are listed
    u = ranked["unserved_kg_s"].iloc[:-1].to_numpy()
    assert (u[:-1] >= u[1:]).all()


def test_duplicate_names_and_bad_executor_are_errors(gaslib582: tuple[CompiledNetwork, SteadyResult]) -> None:
    c, base = gaslib582
    s = _subset(c, 1)[0]
    with pytest.raises(InputError, match="unique"):
        run_sweep(c, [s, s], base_result=base)
    with pytest.raises(InputError, match="executor"):
        run_sweep(c, [s], executor="threads", base_result=base)


def test_interrupted_sweep_resumes(tmp_path: Path, gaslib582: tuple[CompiledNetwork, SteadyResult]) -> None:
    c, base = gaslib582
    scenarios = _subset(c, 12)

    class Stop(Exception):
        pass

    def interrupt(done: int, total: int) -> None:
        if done == 7:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(c, scenarios, out=tmp_path, batch_size=3, base_result=base, progress=interrupt)
    kept = read_dataset(tmp_path)
    assert len(kept) == 7  # two full batches and the partial one flushed on the way out
    assert not list(tmp_path.glob(".*.tmp"))
    res = run_sweep(c, scenarios, out=tmp_path, batch_size=3, base_result=base)
    assert res.skipped == 7 and res.evaluated == 5
    assert sorted(res.records["scenario"]) == sorted(s.name for s in scenarios)
    assert len(read_dataset(tmp_path)) == 12


@pytest.mark.slow
def test_dask_sweep_survives_a_killed_worker(tmp_path: Path, gaslib582: tuple[CompiledNetwork, SteadyResult]) -> None:
    distributed = pytest.importorskip("distributed")
    c, base = gaslib582
    scenarios = _subset(c, 48)
    killed: list[str] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)

        def kill_one(done: int, total: int) -> None:
            if not killed and done >= 4:
                victim = sorted(client.scheduler_info()["workers"])[0]
                pid = client.run(os.getpid, workers=[victim])[victim]
                killed.append(victim)
                os.kill(pid, signal.SIGKILL)  # the worker process dies mid-sweep; its nanny restarts it

        res = run_sweep(c, scenarios, executor="dask", client=client, chunk_size=2, out=tmp_path, batch_size=8,
                        base_result=base, progress=kill_one)
    assert killed
    assert sorted(res.records["scenario"]) == sorted(s.name for s in scenarios)
    assert len(read_dataset(tmp_path)) == len(scenarios)
    # a killed worker's chunk is recomputed elsewhere: no scenario ends as an error
    assert (res.records["error"] == "").all(), res.records.loc[res.records["error"] != "", "error"].tolist()
