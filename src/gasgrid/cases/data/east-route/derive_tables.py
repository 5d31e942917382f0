"""Provenance script: how the East Route CSV tables in this folder (and ``../east-route-pos2``) were derived.

The CSV files are the case; this script only records, reproducibly, how they were laid out from the named
points of ``/work/shared/reference/east-route.md`` (§1 sections, §2 coordinates and chainage). It is not
imported by gasgrid. Re-run it (``python derive_tables.py``) after editing the named points below, then
review the diff of the CSVs.

Method [E]: each line is a list of named points with chainage (km) and WGS84 coordinates; pipes between
consecutive points are split into equal pieces of at most ``MAX_PIECE_KM`` with coordinates and elevations
interpolated linearly, so that the pressure profile is smooth. A compressor station is two nodes (suction
``<id>``, discharge ``<id>.d``) joined by a compressor arc. Pressures in the tables are absolute (bar).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
POS2 = HERE.parent / "east-route-pos2"
MAX_PIECE_KM = 100.0
P_ATM_BAR = 1.01325

# --- pipe specifications [E: Barlow for China; sourced OD/wall for PoS] --------------------------------
POS_ID_MM = 1420.0 - 2 * 21.7  # 1420 x 21.7 mm [S24][S34b]
CN_ID_MM = 1422.0 - 2 * 21.4  # 1422 mm [S4][S5], 21.4 mm wall [E: Barlow, class 1, ref §1.2]
REUSED_1219_ID_MM = 1219.0 - 2 * 18.4  # [E] existing line, not identified (ref §8 gap 8)
REUSED_1016_ID_MM = 1016.0 - 2 * 17.5  # [E] existing West-East line 1 class pipe
MAOP_POS = 98.0 + P_ATM_BAR  # 9.8 MPa working pressure, read as gauge [S24][S25]
MAOP_CN = 120.0 + P_ATM_BAR  # 12 MPa design pressure, read as gauge [S4][S5]
MAOP_SV = 118.0 + P_ATM_BAR  # 11.8 MPa assumed for Soyuz Vostok [E]
SV_ID_MM = 1420.0 - 2 * 26.1  # [E] PoS wall 21.7 mm scaled by pressure 11.8/9.8
MAOP_10 = 100.0 + P_ATM_BAR  # 10 MPa (Changling-Changchun [S7]; reused lines [E])
P_MIN = 40.0 + P_ATM_BAR  # 4.0 MPa gauge lowest delivery/operating pressure [E]


@dataclass
class Pt:
    """A named point on a line: id, chainage km, lat, lon, elevation m, name, group, source of the position."""

    id: str
    km: float
    lat: float
    lon: float
    elev: float
    name: str
    group: str
    src: str
    cs: dict[str, object] | None = None  # compressor attributes if the point is a station
    plant: bool = False  # a plant with inlet <id> and outlet <id>.out joined by a short pipe


@dataclass
class Line:
    prefix: str
    points: list[Pt]
    diameter_mm: float
    p_max_bar: float
    temperature_K: float
    src: str
    roughness_mm: float = 0.01
    loops: dict[str, int] = field(default_factory=dict)  # leg end point id -> pieces looped at the leg's end


def cs(power_installed: float, power_max: float, p_set: float, *, driver: str, src: str,
       ratio_max: float = 1.6, p_dis_max: float = MAOP_CN, p_suc_min: float = 45.0) -> dict[str, object]:
    return dict(mode="discharge", p_set_bar=p_set, ratio_max=ratio_max, ratio_min=1.0,
                p_discharge_max_bar=p_dis_max, p_suction_min_bar=p_suc_min, power_max_MW=power_max,
                efficiency=0.82, head="isentropic", driver=driver,
                driver_efficiency=0.36 if driver == "gas_turbine" else 0.95,
                name_extra=f"{power_installed:g} MW installed", source=src)


# PoS stations: power_max = installed less one standby unit (n+1) [E].
RU_CS_SRC = ("[S21] name; [E: 481 MW (7 CS by 2022) + 577 MW (expansion) [S22] over 8 line CS = 132 MW installed; "
             "in service = installed less 1 of 4 units]")


def ru_cs(installed: float, src: str = RU_CS_SRC) -> dict[str, object]:
    return cs(installed, round(installed * 0.75, 1), 97.0, driver="gas_turbine", src=src,
              ratio_max=1.6, p_dis_max=MAOP_POS)


def cn_cs(installed: float, in_service: float, p_set: float, driver: str) -> dict[str, object]:
    units = "3+1 x 30 MW gas turbine" if driver == "gas_turbine" else "3+1 x 20 MW electric"
    return cs(installed, in_service, p_set, driver=driver, ratio_max=1.5,
              src=f"[C: chainage] [E: {units} per ref §1.4; {in_service:g} MW in service]")


# --- named points --------------------------------------------------------------------------------------
KOVYKTA_CHAYANDA = Line("RU-KC", [
    Pt("kovykta", 0.0, 55.385, 106.123, 900, "Kovykta field", "Irkutsk (RU)", "[S61] coords; elev [E]",
       cs=cs(48, 36, 97.0, driver="gas_turbine", src="[S22] 1 CS 48 MW on Kovykta-Chayanda; location at the "
             "field [E]; 36 MW in service [E]", p_dis_max=MAOP_POS)),
    Pt("chayanda", 804.0, 60.8, 111.2, 450, "Chayanda field / Chayandinskaya CS", "Yakutia (RU)",
       "[S26] 804 km; coords [E ±0.5°]"),
], POS_ID_MM, MAOP_POS, 278.15, "[S26] 804 km; 1420x21.7 K60 [S24]; 9.8 MPa [S24]; T [E]")

# Pieces looped at the downstream (suction) end of each leg, by the leg's end point [E]
LOOPS = {"saldykelskaya": 1, "lensk": 1, "olyokminskaya": 1, "amginskaya": 1, "nimnyrskaya": 1, "nagornaya": 1,
         "skovorodinskaya": 1, "sivakinskaya": 1, "zeyskaya": 1}

# Chainage of stations between the sourced anchors: even spacing Olyokminskaya -> Zeyskaya [E].
_SPACING = (1988.0 - 553.35) / 6
POS_STAGE1 = Line("RU-P1", [
    Pt("chayanda", 0.0, 60.8, 111.2, 450, "Chayanda field / Chayandinskaya CS", "Yakutia (RU)",
       "[E ±0.5°]", cs=ru_cs(100.0, "[S21] name; head station at the field; power [E: not sourced]")),
    Pt("lensk", 205.35, 60.72, 114.93, 250, "Lensk", "Yakutia (RU)", "[S27b] km; coords [E]"),
    Pt("saldykelskaya", 298.35, 60.6, 116.4, 300, "Saldykelskaya CS", "Yakutia (RU)", "[S28] km; coords [E]",
       cs=ru_cs(132.0)),
    Pt("olyokminskaya", 553.35, 60.4, 120.4, 250, "Olyokminskaya CS", "Yakutia (RU)", "[S28] km; coords [E]",
       cs=ru_cs(132.0)),
    Pt("amginskaya", 553.35 + _SPACING, 59.5, 122.9, 450, "Amginskaya CS", "Yakutia (RU)",
       "[S21] name; km and coords [E: even spacing]", cs=ru_cs(132.0)),
    Pt("nimnyrskaya", 553.35 + 2 * _SPACING, 58.6, 125.4, 700, "Nimnyrskaya CS (Aldan area)", "Yakutia (RU)",
       "[S21] name; km [E: even spacing]; coords [E]", cs=ru_cs(132.0)),
    Pt("nagornaya", 553.35 + 3 * _SPACING, 56.7, 124.7, 850, "Nagornaya CS (Neryungri area)", "Yakutia (RU)",
       "[S21] name; km [E: even spacing]; coords [E]", cs=ru_cs(132.0)),
    Pt("skovorodinskaya", 553.35 + 4 * _SPACING, 54.0, 123.9, 400, "Skovorodinskaya CS", "Amur (RU)",
       "[S21] name; km [E: even spacing]; coords [E]", cs=ru_cs(132.0)),
    Pt("sivakinskaya", 553.35 + 5 * _SPACING, 52.6, 126.8, 300, "Sivakinskaya CS", "Amur (RU)",
       "[S21] name; km [E: even spacing]; coords [E]", cs=ru_cs(132.0)),
    Pt("zeyskaya", 1988.0, 51.4, 128.1, 200, "Zeyskaya CS", "Amur (RU)",
       "[S22] 128 MW; km [E: 2156.1 - 1.126 x straight distance]; coords [E]",
       cs=ru_cs(128.0, "[S22] 128 MW installed; 96 MW in service [E: 3 of 4 units]")),
    Pt("amur_gpp", 1995.4, 51.45, 128.15, 200, "Amur GPP (inlet/outlet)", "Amur (RU)",
       "[S30][S31] 42 bcm/yr plant; coords [E]", plant=True),
    Pt("atamanskaya", 2146.0, 50.3, 127.6, 140, "Atamanskaya CS (border)", "Amur (RU)",
       "[S21][S27] border CS; km and coords [E]; power [E: as the 7-CS average]", cs=ru_cs(132.0)),
    Pt("border_ru", 2156.1, 50.25, 127.50, 130, "Amur crossing, Russian bank", "Amur (RU)",
       "[S22] 2156.1 km; [C] coords"),
], POS_ID_MM, MAOP_POS, 278.15, "[S22] 2156.1 km; 1420x21.7 K60 [S24]; 9.8 MPa [S24]; T [E]",
    # [E] loops: [S22] plans 1491.45 km; the case loops the suction end of each long leg (see case.json)
    loops=LOOPS)

HEIHE_CHANGLING = Line("CN-N", [
    Pt("border_cn", 0.0, 50.25, 127.50, 130, "Handover point (Amur crossing, Chinese bank)", "Heilongjiang",
       "[C] km 0"),
    Pt("heihe", 13.0, 50.22, 127.53, 150, "Heihe first station CS", "Heilongjiang", "[C]",
       cs=cn_cs(120, 90, 118.0, "gas_turbine")),
    Pt("wudalianchi", 193.6, 48.60, 126.10, 300, "Wudalianchi CS", "Heilongjiang", "[C]",
       cs=cn_cs(120, 90, 118.0, "gas_turbine")),
    Pt("kedong", 265.0, 48.03, 126.25, 250, "Kedong (Qiqihar branch tee)", "Heilongjiang",
       "[E: km from coords; Kedong-Qiqihar branch [C]]"),
    Pt("mingshui", 382.8, 47.17, 125.90, 230, "Mingshui CS", "Heilongjiang", "[C]",
       cs=cn_cs(120, 90, 118.0, "gas_turbine")),
    Pt("daqing", 525.2, 46.58, 125.10, 150, "Daqing offtake (Daqing-Shuanghe tee)", "Heilongjiang", "[C]"),
    Pt("zhaoyuan", 613.3, 45.52, 124.69, 140, "Zhaoyuan CS", "Heilongjiang", "[C]",
       cs=cn_cs(120, 90, 118.0, "gas_turbine")),
    Pt("changling", 715.0, 44.28, 123.97, 190, "Changling offtake station (hub)", "Jilin", "[C]"),
], CN_ID_MM, MAOP_CN, 281.15, "[C] chainage; 1422 mm X80 12 MPa [S4][S5]; wall [E Barlow]; T [E]")

CHANGLING_YONGQING = Line("CN-M", [
    Pt("changling", 715.0, 44.28, 123.97, 190, "Changling offtake station (hub)", "Jilin", "[C]"),
    Pt("shuangliao", 859.0, 43.50, 123.50, 120, "Shuangliao offtake", "Jilin", "[C]"),
    Pt("tongliao", 911.0, 43.62, 122.27, 180, "Tongliao offtake", "Inner Mongolia", "[C]"),
    Pt("shenyang", 1060.6, 41.80, 123.38, 50, "Shenyang CS", "Liaoning", "[C]",
       cs=cn_cs(80, 60, 118.0, "electric")),
    Pt("panjin", 1182.4, 41.12, 122.07, 5, "Panjin tie-in (Liaohe UGS)", "Liaoning", "[C]"),
    Pt("jinzhou", 1287.7, 41.10, 121.13, 20, "Jinzhou CS", "Liaoning", "[C]", cs=cn_cs(80, 60, 118.0, "electric")),
    Pt("qinhuangdao", 1487.7, 39.93, 119.60, 20, "Qinhuangdao offtake", "Hebei", "[C]"),
    Pt("tangshan", 1642.5, 39.63, 118.18, 30, "Tangshan CS", "Hebei", "[C]", cs=cn_cs(80, 60, 106.0, "electric")),
    Pt("baodi", 1722.0, 39.72, 117.31, 5, "Baodi offtake (Tianjin)", "Tianjin", "[C]"),
    Pt("yongqing", 1825.0, 39.32, 116.50, 15, "Yongqing tie-in CS (to Beijing / Shaan-Jing)", "Hebei",
       "[C] km; [S10] tie-in CS", cs=cn_cs(80, 60, 100.0, "electric")),
], CN_ID_MM, MAOP_CN, 283.15, "[S8] 1110 km; [C] chainage; 1422 mm 12 MPa [E: line spec S4]; T [E]")

REUSED_SRC = "[S11] 266 km reused in total; split and identity [E: inferred, ref §8 gap 8]"
YONGQING_ANPING = Line("CN-SR", [
    Pt("yongqing.d", 0.0, 39.32, 116.50, 15, "Yongqing tie-in CS", "Hebei", "[C]"),
    Pt("anping", 160.0, 38.23, 115.52, 25, "Anping CS (Hengshui)", "Hebei", "[C]",
       cs=cn_cs(80, 60, 100.0, "electric")),
], REUSED_1219_ID_MM, MAOP_10, 285.15, REUSED_SRC + "; 1219 mm 10 MPa [E]")

ANPING_TAIXING = Line("CN-S", [
    Pt("anping.d", 0.0, 38.23, 115.52, 25, "Anping CS (Hengshui)", "Hebei", "[C]"),
    Pt("dezhou", 161.7, 37.45, 116.36, 20, "Dezhou offtake", "Shandong", "[C]"),
    Pt("jinan_west", 273.2, 36.66, 116.85, 40, "Jinan West / Qihe offtake", "Shandong", "[C]"),
    Pt("taian", 319.5, 36.19, 117.09, 130, "Tai'an CS", "Shandong", "[C]", cs=cn_cs(80, 60, 100.0, "electric")),
    Pt("sishui", 422.0, 35.66, 117.25, 120, "Sishui offtake", "Shandong", "[C]"),
    Pt("linyi", 564.1, 35.05, 118.35, 70, "Linyi offtake", "Shandong", "[C]"),
    Pt("lianyungang", 673.5, 34.60, 119.18, 10, "Lianyungang CS", "Jiangsu", "[C]",
       cs=cn_cs(80, 60, 100.0, "electric")),
    Pt("funing", 813.9, 33.78, 119.80, 5, "Funing tie-in", "Jiangsu", "[C]"),
    Pt("yancheng", 865.1, 33.35, 120.13, 5, "Yancheng offtake", "Jiangsu", "[C]"),
    Pt("taixing", 1061.1, 32.17, 120.05, 5, "Taixing tie-in (West-East system)", "Jiangsu", "[C] [S13]"),
], CN_ID_MM, MAOP_CN, 285.15, "[C] chainage; [S13] Tai'an-Taixing 750 km; 1422 mm 12 MPa [E]; T [E]")

TAIXING_NANTONG = Line("CN-SR", [
    Pt("taixing", 0.0, 32.17, 120.05, 5, "Taixing tie-in (West-East system)", "Jiangsu", "[C]"),
    Pt("nantong", 85.0, 32.01, 120.86, 5, "Nantong tie-in", "Jiangsu", "[C]"),
], REUSED_1016_ID_MM, MAOP_10, 288.15, REUSED_SRC + "; 1016 mm 10 MPa [E]")

NANTONG_LUZHI = Line("CN-S", [
    Pt("nantong", 0.0, 32.01, 120.86, 5, "Nantong tie-in", "Jiangsu", "[C]"),
    Pt("yangtze_n", 90.0, 31.80, 121.00, 0, "Yangtze shield tunnel, north portal (Haimen)", "Jiangsu", "[E]"),
    Pt("yangtze_s", 100.226, 31.70, 120.90, 0, "Yangtze shield tunnel, south portal (Changshu)", "Jiangsu",
       "[S15] 10.226 km; portals [E]"),
    Pt("changshu", 105.8, 31.65, 120.75, 5, "Changshu offtake", "Jiangsu", "[C]"),
    Pt("luzhi", 167.0, 31.27, 120.98, 5, "Luzhi tie-in (Suzhou)", "Jiangsu", "[C] [S16]"),
], CN_ID_MM, MAOP_CN, 288.15, "[C] 167.0 km; [S15] tunnel 3 x 1422 mm; 12 MPa [E]; T [E]")

LUZHI_BAIHE = Line("CN-SR", [
    Pt("luzhi", 0.0, 31.27, 120.98, 5, "Luzhi tie-in (Suzhou)", "Jiangsu", "[C]"),
    Pt("baihe", 21.0, 31.25, 121.13, 5, "Shanghai Baihe terminal", "Shanghai", "[E] coords; [S14] end of line"),
], REUSED_1016_ID_MM, MAOP_10, 288.15, REUSED_SRC + " (via West-East line 1 [S14]); 1016 mm 10 MPa [E]")

BRANCH_SRC = "[C] length; diameter [E: sized for the estimated offtake]; 12 MPa [E]"
BRANCHES = [
    Line("CN-NB", [
        Pt("kedong", 0.0, 48.03, 126.25, 250, "Kedong (Qiqihar branch tee)", "Heilongjiang", "[E]"),
        Pt("qiqihar", 198.0, 47.35, 123.97, 150, "Qiqihar offtake", "Heilongjiang", "[C]"),
    ], 610.0 - 2 * 9.5, MAOP_CN, 281.15, BRANCH_SRC),
    Line("CN-NB", [
        Pt("mingshui.d", 0.0, 47.17, 125.90, 230, "Mingshui CS", "Heilongjiang", "[C]"),
        Pt("lanxi", 100.0, 46.25, 126.29, 170, "Lanxi (Suihua branch tee)", "Heilongjiang", "[E: km on branch]"),
        Pt("harbin", 145.2, 45.76, 126.63, 150, "Harbin offtake", "Heilongjiang", "[C]"),
    ], 813.0 - 2 * 12.7, MAOP_CN, 281.15, BRANCH_SRC),
    Line("CN-NB", [
        Pt("lanxi", 0.0, 46.25, 126.29, 170, "Lanxi (Suihua branch tee)", "Heilongjiang", "[E]"),
        Pt("suihua", 29.8, 46.64, 126.97, 180, "Suihua offtake", "Heilongjiang", "[E: coords of Suihua]"),
    ], 406.0 - 2 * 7.1, MAOP_CN, 281.15, BRANCH_SRC),
    Line("CN-NB", [
        Pt("daqing", 0.0, 46.58, 125.10, 150, "Daqing offtake (Daqing-Shuanghe tee)", "Heilongjiang", "[C]"),
        Pt("shuanghe", 51.7, 46.25, 124.70, 150, "Shuanghe (Daqing) offtake", "Heilongjiang",
           "[E: placed ~50 km SW of Daqing]"),
    ], 610.0 - 2 * 9.5, MAOP_CN, 281.15, BRANCH_SRC),
    Line("CN-NB", [
        Pt("changling.b", 0.0, 44.28, 123.97, 190, "Changling branch outlet (after letdown)", "Jilin", "[C]"),
        Pt("changchun", 109.0, 43.88, 125.32, 220, "Changchun offtake", "Jilin", "[S7][C]"),
    ], 1016.0 - 2 * 14.6, MAOP_10, 281.15,
        "[S7] 109 km, 10 MPa, 11.4 bcm/yr; diameter [E: 1016 mm, 'much smaller than trunk' [S7]]"),
]

LINKS = [
    Line("CN-L", [
        Pt("panjin", 0.0, 41.12, 122.07, 5, "Panjin tie-in (Liaohe UGS)", "Liaoning", "[C]"),
        Pt("shuangtaizi", 48.2, 41.10, 121.90, 5, "Shuangtaizi (Liaohe) UGS", "Liaoning", "[C] 48.2 km; [E] coords"),
    ], 1016.0 - 2 * 17.5, MAOP_CN, 283.15, "[C] 48.2 km bidirectional link; [S9]; 1016 mm 12 MPa [E]"),
    Line("CN-L", [
        Pt("shenyang", 0.0, 41.80, 123.38, 50, "Shenyang CS", "Liaoning", "[C]"),
        Pt("dalian_lng", 400.0, 38.90, 121.90, 5, "Dalian LNG terminal", "Liaoning",
           "[S9] linked to the middle section; route length and coords [E]"),
    ], 711.0 - 2 * 12.7, MAOP_CN, 283.15, "[S9] Dalian LNG link; 400 km 711 mm 12 MPa [E]"),
    Line("CN-L", [
        Pt("tangshan", 0.0, 39.63, 118.18, 30, "Tangshan CS", "Hebei", "[C]"),
        Pt("tangshan_lng", 90.0, 38.95, 118.50, 5, "Tangshan (Caofeidian) LNG terminal", "Hebei",
           "[S9] linked to the middle section; coords [E]"),
    ], 1016.0 - 2 * 17.5, MAOP_CN, 283.15, "[S9] Tangshan LNG link; 90 km 1016 mm 12 MPa [E]"),
]

# --- PoS-2 variant: Soyuz Vostok across Mongolia ------------------------------------------------------
_SV = 962.9 / 6
SOYUZ_VOSTOK = Line("MN-SV", [
    Pt("naushki", 0.0, 50.39, 106.10, 650, "Naushki (PoS-2 exit from Russia)", "Buryatia (RU)",
       "[S65] border point; coords [E]", cs=cs(128, 96, 116.0, driver="gas_turbine", p_dis_max=MAOP_SV,
       src="[E: head CS at the border; 4 x 32 MW, 96 MW in service, by the ref §1.4 method for 50 bcm/yr]")),
    Pt("sv_cs1", _SV, 49.2, 106.4, 1000, "Soyuz Vostok CS 1", "Mongolia", "[S51] 5 CS; km and coords [E]",
       cs=cs(128, 96, 116.0, driver="gas_turbine", p_dis_max=MAOP_SV, src="[S51] 5 CS; power [E: 4 x 32 MW]")),
    Pt("ulaanbaatar", 2 * _SV, 47.92, 106.92, 1300, "Ulaanbaatar area CS 2", "Mongolia", "[E]",
       cs=cs(128, 96, 116.0, driver="gas_turbine", p_dis_max=MAOP_SV, src="[S51] 5 CS; power [E: 4 x 32 MW]")),
    Pt("sv_cs3", 3 * _SV, 46.6, 108.6, 1300, "Soyuz Vostok CS 3", "Mongolia", "[E]",
       cs=cs(128, 96, 116.0, driver="gas_turbine", p_dis_max=MAOP_SV, src="[S51] 5 CS; power [E: 4 x 32 MW]")),
    Pt("sv_cs4", 4 * _SV, 45.3, 110.2, 1100, "Soyuz Vostok CS 4 (Sainshand area)", "Mongolia", "[E]",
       cs=cs(128, 96, 116.0, driver="gas_turbine", p_dis_max=MAOP_SV, src="[S51] 5 CS; power [E: 4 x 32 MW]")),
    Pt("sv_cs5", 5 * _SV, 44.5, 111.1, 1000, "Soyuz Vostok CS 5", "Mongolia", "[E]",
       cs=cs(128, 96, 116.0, driver="gas_turbine", p_dis_max=MAOP_SV, src="[S51] 5 CS; power [E: 4 x 32 MW]")),
    Pt("erenhot", 962.9, 43.65, 111.98, 950, "Zamyn-Uud / Erenhot border (PoS-2 handover)", "Inner Mongolia (PoS-2)",
       "[S51] 962.9 km; border point [E]"),
], SV_ID_MM, MAOP_SV, 283.15, "[S51] 962.9 km, 1400 mm (read as 1420 OD); 11.8 MPa, wall 26.1 mm [E]")


# --- writers -------------------------------------------------------------------------------------------
NODE_COLS = ["id", "x", "y", "elevation_m", "p_min_bar", "p_max_bar", "name", "group", "source"]
PIPE_COLS = ["id", "from_node", "to_node", "length_km", "diameter_mm", "roughness_mm", "friction", "efficiency",
             "temperature_K", "p_max_bar", "in_service", "name", "source"]
CS_COLS = ["id", "from_node", "to_node", "mode", "p_set_bar", "ratio_max", "ratio_min", "p_discharge_max_bar",
           "p_suction_min_bar", "power_max_MW", "efficiency", "head", "driver", "driver_efficiency",
           "in_service", "name", "source"]


def build(lines: list[Line]) -> tuple[dict[str, dict[str, object]], list[dict[str, object]],
                                      list[dict[str, object]], list[dict[str, object]]]:
    nodes: dict[str, dict[str, object]] = {}
    pipes: list[dict[str, object]] = []
    stations: list[dict[str, object]] = []
    plants: list[dict[str, object]] = []
    counters: dict[str, int] = {}

    def add_node(nid: str, lat: float, lon: float, elev: float, name: str, group: str, src: str,
                 p_max: float) -> None:
        if nid in nodes:
            nodes[nid]["p_max_bar"] = min(float(nodes[nid]["p_max_bar"]), p_max)  # type: ignore[arg-type]
            return
        nodes[nid] = dict(id=nid, x=round(lon, 4), y=round(lat, 4), elevation_m=round(elev),
                          p_min_bar=P_MIN, p_max_bar=round(p_max, 5), name=name, group=group, source=src)

    for line in lines:
        for a, b in zip(line.points, line.points[1:], strict=False):
            start = a.id if a.id.endswith((".d", ".b")) else (f"{a.id}.d" if a.cs else a.id)
            start = f"{a.id}.out" if a.plant else start
            suffix = " (discharge)" if start.endswith(".d") else (" (outlet)" if a.plant else "")
            add_node(start, a.lat, a.lon, a.elev, a.name + suffix, a.group, a.src, line.p_max_bar)
            if (a.cs and not a.id.endswith(".d")) or a.plant:
                add_node(a.id, a.lat, a.lon, a.elev, a.name, a.group, a.src, line.p_max_bar)
            add_node(b.id, b.lat, b.lon, b.elev, b.name, b.group, b.src, line.p_max_bar)
            length = b.km - a.km
            n = max(1, math.ceil(length / MAX_PIECE_KM - 1e-9))
            prev = start
            for i in range(1, n + 1):
                f = i / n
                if i < n:
                    km = a.km + f * length
                    nid = f"{line.prefix}.km{km:.0f}".lower()
                    if nid in nodes:
                        nid = f"{nid}_{a.id}"
                    add_node(nid, a.lat + f * (b.lat - a.lat), a.lon + f * (b.lon - a.lon),
                             a.elev + f * (b.elev - a.elev), f"{a.name} – {b.name}, km {km:.0f}",
                             b.group if f > 0.5 else a.group, "[E: interpolated]", line.p_max_bar)
                else:
                    nid = b.id
                counters[line.prefix] = counters.get(line.prefix, 0) + 1
                pid = f"{line.prefix}-{counters[line.prefix]:02d}"
                pipes.append(dict(id=pid, from_node=prev, to_node=nid, length_km=round(length / n, 4),
                                  diameter_mm=round(line.diameter_mm, 2), roughness_mm=line.roughness_mm,
                                  friction="colebrook", efficiency=1.0, temperature_K=line.temperature_K,
                                  p_max_bar=round(line.p_max_bar, 5), in_service=True,
                                  name=f"{a.name} – {b.name}", source=line.src))
                if i > n - line.loops.get(b.id, 0):
                    counters[line.prefix + "-LOOP"] = counters.get(line.prefix + "-LOOP", 0) + 1
                    loop = dict(pipes[-1], id=f"{line.prefix}-LOOP-{counters[line.prefix + '-LOOP']:02d}",
                                name=f"{a.name} – {b.name} (loop)",
                                source="[E] loop placement; [S22] plans 1491.45 km of PoS loops")
                    pipes.append(loop)
                prev = nid
        for p in line.points:
            if p.plant and not any(s["id"] == p.id for s in plants):
                plants.append(dict(id=p.id, from_node=p.id, to_node=f"{p.id}.out", in_service=True,
                                   name=f"{p.name}: gas leaves at pipeline pressure [E]", source=p.src))
            if p.cs and not any(s["id"] == f"cs_{p.id}" for s in stations):
                c = dict(p.cs)
                extra = c.pop("name_extra")
                stations.append(dict(id=f"cs_{p.id}", from_node=p.id, to_node=f"{p.id}.d", in_service=True,
                                     name=f"{p.name} ({extra})", **c))
    return nodes, pipes, stations, plants


def write(path: Path, cols: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})


def main() -> None:
    base_lines = [KOVYKTA_CHAYANDA, POS_STAGE1, HEIHE_CHANGLING, CHANGLING_YONGQING, YONGQING_ANPING,
                  ANPING_TAIXING, TAIXING_NANTONG, NANTONG_LUZHI, LUZHI_BAIHE, *BRANCHES, *LINKS]
    nodes, pipes, stations, plants = build(base_lines)
    write(HERE / "node.csv", NODE_COLS, list(nodes.values()))
    for k in (1, 2):  # two strings in two tunnels under the Amur [S19]
        pipes.append(dict(id=f"X-AMUR-{k}", from_node="border_ru", to_node="border_cn", length_km=1.139,
                          diameter_mm=round(POS_ID_MM, 2), roughness_mm=0.01, friction="colebrook",
                          efficiency=1.0, temperature_K=275.15, p_max_bar=MAOP_POS, in_service=True,
                          name=f"Amur crossing, string {k}",
                          source="[S19] 2 tunnels x 1139 m; pipe as PoS 1420x21.7 [E]; 9.8 MPa [E: lower MAOP]"))
    write(HERE / "pipe.csv", PIPE_COLS, pipes)
    write(HERE / "control_valve.csv", ["id", "from_node", "to_node", "mode", "p_set_bar", "p_in_min_bar",
                                       "in_service", "name", "source"],
          [dict(id="cv_changling_changchun", from_node="changling", to_node="changling.b", mode="set_point",
                p_set_bar=95.0, p_in_min_bar=P_MIN, in_service=True,
                name="Changling letdown into the 10 MPa Changchun branch",
                source="[S7] branch 10 MPa; regulator set point [E]")])
    write(HERE / "compressor.csv", CS_COLS, stations)
    write(HERE / "short_pipe.csv", ["id", "from_node", "to_node", "in_service", "name", "source"], plants)
    pnodes, ppipes, pstations, _ = build([SOYUZ_VOSTOK])
    write(POS2 / "node.csv", NODE_COLS, list(pnodes.values()))
    write(POS2 / "pipe.csv", PIPE_COLS, ppipes)
    write(POS2 / "compressor.csv", CS_COLS, pstations)


if __name__ == "__main__":
    main()
