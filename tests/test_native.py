"""Native .gasgrid format: exact round trips, validation with file and line, versioning, atomic writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

import gasgrid as gg
from gasgrid.components import KINDS
from gasgrid.errors import InputError
from gasgrid.io import atomic, native
from gasgrid.io.matgas import read_matgas
from gasgrid.io.native import FORMAT_VERSION, MANIFEST, load_network, save_network

DATA = Path(__file__).parent / "data"


def every_kind_network() -> gg.Network:
    """One element of every kind, with awkward values: repr-sensitive floats, NaN, inf, quotes, commas."""
    gas = gg.Gas.from_properties(normal_density=0.7853, pc=4.6e6, Tc=195.3, hhv_mass=5.4e7, name="H-gas")
    net = gg.Network("every kind", gas=gas, temperature_K=283.15, crs="EPSG:4326")
    net.add_node("n1", x=13.404954, y=52.520008, elevation_m=34.5, p_min_bar=1.0 / 3.0, p_max_bar=84.0,
                 name='Berlin "Mitte", hub', group="east")
    net.add_node("n2", x=0.1 + 0.2, y=1e-300, name="line\nbreak")
    net.add_node("n3")
    net.add_node("n4", p_min_bar=math.nan)  # NaN where the default is not NaN: written "nan"
    net.add_pipe("p1", "n1", "n2", length_km=123.456789012345, diameter_mm=1422.4, roughness_mm=0.012,
                 friction="fixed", lambda_fixed=0.00912345678901234, heat_transfer_W_m2K=2.0)
    net.add_short_pipe("sp", "n2", "n3", in_service=False)
    net.add_valve("v", "n3", "n4", open=False)
    net.add_resistor("r", "n4", "n1", drag_factor=4.5, diameter_mm=500.0)
    net.add_control_valve("cv", "n2", "n4", mode="set_point", p_set_bar=40.0, p_in_min_bar=45.0)
    net.add_compressor("cs", "n4", "n3", mode="ratio", ratio=1.35, ratio_max=1.6, power_max_MW=23.5)
    net.add_supply("s1", "n1", p_set_bar=70.0, flow_min_kg_s=-math.inf, flow_max_kg_s=500.0)
    net.add_supply("s2", "n3", mode="flow", flow_kg_s=12.5)
    net.add_demand("d1", "n2", flow_kg_s=-2.0 / 7.0, priority=3, group="B")
    net.meta["study"] = {"author": "x", "values": [1, 2.5, None], "nan": math.nan, "inf": -math.inf}
    return net


def assert_same(a: gg.Network, b: gg.Network) -> None:
    assert (a.name, a.temperature_K, a.crs) == (b.name, b.temperature_K, b.crs)
    assert json.dumps(a.gas.to_dict()) == json.dumps(b.gas.to_dict())
    for kind in KINDS:
        pdt.assert_frame_equal(a.table(kind), b.table(kind), check_exact=True)


def test_round_trip_is_exact(tmp_path: Path) -> None:
    net = every_kind_network()
    out = save_network(net, tmp_path / "case.gasgrid")
    back = load_network(out)
    assert_same(net, back)
    assert back.meta["study"]["values"] == [1, 2.5, None]
    assert math.isnan(back.meta["study"]["nan"]) and back.meta["study"]["inf"] == -math.inf
    # and again: saving what was loaded gives byte-identical files
    again = save_network(back, tmp_path / "again.gasgrid")
    for f in out.iterdir():
        assert f.read_bytes() == (again / f.name).read_bytes()


def test_manifest_contents(tmp_path: Path) -> None:
    out = save_network(every_kind_network(), tmp_path / "case.gasgrid")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "gasgrid" and manifest["format_version"] == FORMAT_VERSION
    assert manifest["tables"]["pipe"]["columns"]["length_km"] == {"dtype": "float", "unit": "km"}
    assert manifest["tables"]["pipe"]["rows"] == 1
    assert manifest["gas"]["normal_density_kg_m3"] == 0.7853
    assert (out / "pipe.csv").read_text(encoding="utf-8").splitlines()[0].startswith("id,from_node,to_node,length_km")
    assert (out / "node.csv").read_text(encoding="utf-8").splitlines()[-1] == "n4,,,0.0,nan,inf,,,"


def test_empty_tables_are_not_written(tmp_path: Path) -> None:
    net = gg.Network("tiny")
    net.add_node("a")
    out = save_network(net, tmp_path / "tiny.gasgrid")
    assert sorted(p.name for p in out.iterdir()) == ["network.json", "node.csv"]
    assert_same(net, load_network(out / MANIFEST))


def test_matgas_case_round_trips(tmp_path: Path) -> None:
    net = read_matgas(DATA / "gasmodels" / "gaslib-582-G.m")
    back = load_network(save_network(net, tmp_path / "g582.gasgrid"))
    assert_same(net, back)
    assert back.meta["matgas"]["tables"]["pipe"]["rows"] == net.meta["matgas"]["tables"]["pipe"]["rows"]


def _write(folder: Path, manifest: dict, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _valid(tmp_path: Path) -> Path:
    net = gg.Network("v")
    net.add_node("a")
    net.add_node("b")
    net.add_pipe("p", "a", "b", length_km=1.0, diameter_mm=100.0)
    return save_network(net, tmp_path / "v.gasgrid")


def test_newer_version_is_rejected(tmp_path: Path) -> None:
    folder = _valid(tmp_path)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=r"network\.json.*format_version 2.*upgrade gasgrid"):
        load_network(folder)


def test_version_0_is_migrated(tmp_path: Path) -> None:
    folder = _write(tmp_path / "old.gasgrid",
                    {"version": 0, "name": "old", "temperature": 280.0, "gas": {"molar_mass_kg_mol": 0.018},
                     "tables": ["node", "pipe"]},
                    {"node.csv": "id,pmin_bar,pmax_bar\na,2.0,70.0\nb,,\n",
                     "pipe.csv": "id,from_node,to_node,length_km,diameter_mm\np,a,b,10.0,600.0\n"})
    net = load_network(folder)
    assert net.temperature_K == 280.0 and net.gas.molar_mass == 0.018
    assert net.nodes.loc["a", "p_min_bar"] == 2.0 and net.nodes.loc["a", "p_max_bar"] == 70.0
    assert net.nodes.loc["b", "p_min_bar"] == 1.01325  # an empty cell means the column default
    assert net.pipes.loc["p", "length_km"] == 10.0


def test_migration_table_covers_every_old_version() -> None:
    assert set(native.MIGRATIONS) == set(range(FORMAT_VERSION))


@pytest.mark.parametrize(
    ("file", "text", "pattern"),
    [
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm,colour\n", r"pipe\.csv:1.*unknown column 'colour'"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm\np,a,b,ten,100\n",
         r"pipe\.csv:2.*'p'.*length_km.*expected float, got 'ten'"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm\np,a,b,-1,100\n",
         r"pipe\.csv:2.*'p'.*length_km.*must be in"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm\np,a,zz,1,100\n",
         r"pipe\.csv:2.*references unknown node 'zz'"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm\np,a,b,1\n", r"pipe\.csv:2.*expected 5 cells"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm\np,a,b,1,1\n\np,a,b,1,2\n",
         r"pipe\.csv:4.*duplicate id"),
        ("pipe.csv", "from_node,to_node\n", r"pipe\.csv:1.*first column must be 'id'"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm,in_service\np,a,b,1,1,maybe\n",
         r"pipe\.csv:2.*in_service.*expected bool"),
        ("pipe.csv", "id,from_node,to_node,length_km,diameter_mm\np,a,a,1,1\n", r"pipe\.csv:2.*from_node equals"),
        ("pipe.csv", "", r"pipe\.csv:1.*empty file"),
        ("network.json", "{not json", r"network\.json:1.*invalid JSON"),
        ("network.json", '{"format": "other", "format_version": 1}', r"format is 'other'"),
        ("network.json", '{"format": "gasgrid", "format_version": "1"}', r"format_version must be"),
        ("network.json", '{"format": "gasgrid", "format_version": 1, "tables": {"heater": {"file": "x.csv"}}}',
         r"unknown component kind 'heater'"),
        ("network.json", '{"format": "gasgrid", "format_version": 1, "tables": {"node": {"file": "gone.csv"}}}',
         r"table file gone\.csv is missing"),
        ("network.json", '{"format": "gasgrid", "format_version": 1, "temperature_K": 900}',
         r"temperature_K.*must be in"),
        ("network.json", '{"format": "gasgrid", "format_version": 1, "gas": {"molar_mass_kg_mol": 5}}',
         r"gas.*molar_mass"),
        ("network.json", '{"format": "gasgrid", "format_version": 1, "gas": {"colour": 1}}', r"unknown gas field"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path: Path, file: str, text: str, pattern: str) -> None:
    folder = _valid(tmp_path)
    (folder / file).write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=pattern):
        load_network(folder)


def test_unit_mismatch_is_rejected(tmp_path: Path) -> None:
    folder = _valid(tmp_path)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["tables"]["pipe"]["columns"]["length_km"]["unit"] = "m"
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=r"length_km.*declares unit 'm', gasgrid expects 'km'"):
        load_network(folder)


def test_hand_edited_tables_load(tmp_path: Path) -> None:
    folder = save_network(every_kind_network(), tmp_path / "x.gasgrid")
    with open(folder / "node.csv", "a", encoding="utf-8") as fh:
        fh.write("n5,1.5,2.5,,,,,,\n")  # a row added by hand; empty cells are missing values
    net = load_network(folder)
    assert net.nodes.loc["n5", "y"] == 2.5 and net.nodes.loc["n5", "elevation_m"] == 0.0  # the default


def test_not_a_gasgrid_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a gasgrid folder"):
        load_network(tmp_path)


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    foreign = tmp_path / "results"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(InputError, match="refusing to replace"):
        save_network(every_kind_network(), foreign)
    assert (foreign / "precious.txt").read_text() == "keep me"


def test_a_file_in_the_way_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "x.gasgrid").write_text("not a folder")
    with pytest.raises(InputError, match=r"x\.gasgrid: cannot write"):
        save_network(every_kind_network(), tmp_path / "x.gasgrid")
    assert (tmp_path / "x.gasgrid").read_text() == "not a folder"


def test_unserialisable_meta_is_an_input_error(tmp_path: Path) -> None:
    net = every_kind_network()
    net.meta["bad"] = object()
    with pytest.raises(InputError, match="meta"):
        save_network(net, tmp_path / "x.gasgrid")
    assert not (tmp_path / "x.gasgrid").exists()


def test_failed_save_keeps_previous_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _valid(tmp_path)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def boom(*args: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(native, "_table_to_csv", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        save_network(every_kind_network(), target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["v.gasgrid"]  # no temporaries left behind


def test_overwrite_replaces_whole_folder(tmp_path: Path) -> None:
    target = save_network(every_kind_network(), tmp_path / "x.gasgrid")
    net = gg.Network("small")
    net.add_node("a")
    save_network(net, target)
    assert sorted(p.name for p in target.iterdir()) == ["network.json", "node.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gasgrid"]


def test_atomic_file_helpers(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "out.txt"
    atomic.atomic_write_text(f, "one")
    with pytest.raises(ValueError, match="boom"), atomic.atomic_open(f) as fh:
        fh.write("two")
        raise ValueError("boom")
    assert f.read_text() == "one"
    atomic.atomic_write_bytes(f, b"three")
    assert f.read_bytes() == b"three"
    with atomic.atomic_path(f) as tmp:
        assert tmp.parent == f.parent and tmp != f
        tmp.write_text("four")
    assert f.read_text() == "four"
    assert sorted(p.name for p in f.parent.iterdir()) == ["out.txt"]
    with pytest.raises(ValueError, match="for writing"), atomic.atomic_open(f, "r"):
        pass
    with pytest.raises(FileExistsError), atomic.atomic_dir(f):
        pass


def test_frame_dtypes_survive(tmp_path: Path) -> None:
    back = load_network(save_network(every_kind_network(), tmp_path / "x.gasgrid"))
    assert back.demands["priority"].dtype == "int64"
    assert back.valves["open"].dtype == bool
    assert isinstance(back.table("node"), pd.DataFrame)


# --- format dispatch ---------------------------------------------------------------------------------------
def test_convert_matgas_to_native_and_back(tmp_path: Path) -> None:
    from gasgrid.io.convert import Format, convert, detect_format, read_network

    out = convert(DATA / "gasmodels" / "case-6.m", tmp_path / "case6.gasgrid")
    assert detect_format(out) is Format.GASGRID
    assert_same(read_matgas(DATA / "gasmodels" / "case-6.m"), read_network(out))
    again = convert(out, tmp_path / "copy", to="gasgrid")
    assert_same(load_network(out), load_network(again))
    net = read_network(DATA / "gasmodels" / "case-6.m", conventions="gasgrid")
    assert net.gas.eos.value == "papay"


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"in_path": "x.xyz", "out_path": "y.gasgrid"}, r"x\.xyz.*cannot tell the format"),
        ({"in_path": "x.m", "out_path": "y.gasgrid", "from_": "excel"}, r"unknown input format 'excel'"),
        ({"in_path": "x.m", "out_path": "y.gasgrid"}, r"x\.m.*no such file"),
        ({"in_path": "OUT.geojson", "out_path": "y.gasgrid"}, r"cannot read geojson"),
    ],
)
def test_convert_errors(tmp_path: Path, kwargs: dict, pattern: str) -> None:
    from gasgrid.io.convert import convert

    kwargs = {k: (str(tmp_path / v) if k.endswith("path") else v) for k, v in kwargs.items()}
    with pytest.raises(InputError, match=pattern):
        convert(**kwargs)


def test_convert_rejects_unknown_options_and_unwritable_formats(tmp_path: Path) -> None:
    from gasgrid.io.convert import convert, write_network

    with pytest.raises(InputError, match=r"unknown option\(s\) \['colour'\]"):
        convert(DATA / "gasmodels" / "case-6.m", tmp_path / "x.gasgrid", read_options={"colour": 1})
    with pytest.raises(InputError, match="cannot write matgas"):
        write_network(every_kind_network(), tmp_path / "x.m")
    assert not list(tmp_path.iterdir())


def test_convert_reads_gastransim_folders(tmp_path: Path) -> None:
    from gasgrid.io.convert import Format, convert, detect_format

    case = DATA / "lanl" / "gastransim" / "8-node"
    assert (case / "network.json").is_file(), "GasTranSim test data missing"
    assert detect_format(case) is Format.GASTRANSIM
    out = convert(case, tmp_path / "8node.gasgrid")
    assert len(load_network(out).nodes) > 0


def _bundled_gaslib() -> list[str]:
    try:
        from gasgrid.cases.gaslib import list_gaslib_cases
    except ImportError:
        return []
    return list(list_gaslib_cases())


@pytest.mark.parametrize("case", _bundled_gaslib())
def test_bundled_gaslib_cases_round_trip(tmp_path: Path, case: str) -> None:
    from gasgrid.cases.gaslib import load_gaslib_case

    net = load_gaslib_case(case)  # with nomination, .cs station data and .cdf where bundled
    back = load_network(save_network(net, tmp_path / f"{case}.gasgrid"))
    assert_same(net, back)
    assert sorted(back.meta) == sorted(net.meta)


@pytest.mark.parametrize("variant", ["east-route", "east-route-pos2"])
def test_east_route_round_trips(tmp_path: Path, variant: str) -> None:
    import gasgrid.cases.east_route as east_route
    net = east_route.load_east_route(variant)
    back = load_network(save_network(net, tmp_path / f"{variant}.gasgrid"))
    assert_same(net, back)
    assert back.meta["volume_reference"] is net.meta["volume_reference"]  # enums come back as members
    for key, value in net.meta.items():
        if isinstance(value, pd.DataFrame):
            pdt.assert_frame_equal(value, back.meta[key], check_dtype=False)
        else:
            assert json.dumps(native._encode(value)) == json.dumps(native._encode(back.meta[key]))
