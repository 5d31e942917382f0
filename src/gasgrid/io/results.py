"""Writing steady results as tables (CSV and Parquet), atomically: a failed run never clobbers good output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from gasgrid.io.atomic import atomic_dir

if TYPE_CHECKING:
    from gasgrid.steady.result import SteadyResult

TABLES = ("nodes", "arcs", "supplies", "demands", "compressors", "control_valves", "violations", "collapse")


def write_results(result: SteadyResult, out_dir: str | Path, *, formats: tuple[str, ...] = ("csv", "parquet")) -> Path:
    """Write every result table as ``<table>.csv`` / ``<table>.parquet`` plus ``summary.json`` into
    ``out_dir`` (replaced as a whole only once everything is written). Pressures are absolute bar unless the
    column says ``barg``; flows in kg/s and Nm^3/h (0 °C, 1.01325 bar)."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        for name in TABLES:
            frame = getattr(result, name)
            if frame is None or (frame.empty and name not in ("nodes", "arcs", "violations")):
                continue
            if "csv" in formats:
                frame.to_csv(tmp / f"{name}.csv")
            if "parquet" in formats:
                frame.to_parquet(tmp / f"{name}.parquet")
        summary = {**result.summary(), "message": result.message, "timings_s": result.timings}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return out
