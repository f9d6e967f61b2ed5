"""The partnership's own measures from a TOML file: known answers on a hand-made store, the example board
file on the demo borough through the CLI (--measures replaces, --add-measures extends), and every error
naming the file, the measure and the key."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo_csp import schema
from geo_csp._errors import ParameterError
from geo_csp.cli import app
from geo_csp.table import (
    DEFAULT_MEASURES,
    NOT_AVAILABLE,
    Measure,
    TableParams,
    extend_measures,
    measures_from_files,
    partnership_table,
    read_measure_file,
    table_from_store,
)
import _synthetic

BOARD = Path(__file__).parent / "data" / "measures" / "board_measures.toml"
AREAS = gpd.GeoDataFrame(
    {"area_code": ["A"], "area_name": ["Alpha"], "population": [2000]},
    geometry=[shapely.box(380_000, 410_000, 381_000, 411_000)],
    crs="EPSG:27700",
)


def _rows(month: str, crime_type: str, n: int, source: str = schema.SOURCE_STREET) -> pd.DataFrame:
    frame = _synthetic.incidents(np.full(n, 380_500.0), np.full(n, 410_500.0), month, crime_type)
    return frame.assign(**{schema.SOURCE: source, schema.OBJECT_OF_SEARCH: None})


def _hand_incidents() -> pd.DataFrame:
    """One quarter (2023-04..06), a month each: 5 burglaries, 2 robberies, 1 vehicle crime, 3 drugs offences
    (police.uk); 4 council ASB reports; 5 force records of violence, 3 of them flagged domestic."""
    parts = []
    for month in ("2023-04", "2023-05", "2023-06"):
        parts += [
            _rows(month, "Burglary", 5),
            _rows(month, "Robbery", 2),
            _rows(month, "Vehicle crime", 1),
            _rows(month, "Drugs", 3),
            _rows(month, "Anti-social behaviour", 4, "council_asb"),
        ]
        force = _rows(month, "Violence and sexual offences", 5, "force_crime")
        parts.append(force.assign(**{schema.DOMESTIC: pd.array([True, True, True, False, False], dtype="boolean")}))
    return pd.concat(parts, ignore_index=True)


def _table_cli(store_dir: Path, out: Path, *options: str):  # noqa: ANN202
    """``geo-csp table`` on ``store_dir`` with ``options``, writing ``out`` (.xlsx) and its .csv."""
    args = ["table", "--store", str(store_dir), *options, "--xlsx", str(out), "--csv", str(out.with_suffix(".csv"))]
    return CliRunner().invoke(app, args)


def _write(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HAND = """
[measures.neighbourhood]
name = "Neighbourhood crime"
source = "police_uk_street"
group = "neighbourhood"
kind = "count"

[measures.neighbourhood_rate]
name = "Neighbourhood crime per 1,000"
sources = ["police_uk_street"]
group = "neighbourhood"
kind = "rate"

[measures.robbery]
name = "Robberies"
source = "police_uk_street"
crime_types = ["Robbery"]
kind = "count"

[measures.domestic]
name = "Domestic abuse"
source = "force_crime"
group = "domestic"
kind = "count"

[measures.domestic_police]
name = "Domestic abuse (police.uk)"
source = "police_uk_street"
group = "domestic"
kind = "count"

[measures.asb]
name = "Council ASB"
source = "council_asb"
kind = "count"
note = "the council's case extract"
"""


def test_hand_made_measures_from_a_file_known_answers(tmp_path):
    measures = read_measure_file(_write(tmp_path, HAND))
    assert [m.key for m in measures] == [
        "neighbourhood",
        "neighbourhood_rate",
        "robbery",
        "domestic",
        "domestic_police",
        "asb",
    ]
    assert measures[0].crime_types == ("Burglary", "Robbery", "Theft from the person", "Vehicle crime")
    assert measures[1].per_1000 and not measures[0].per_1000
    assert measures[3].qualified == "domestic_abuse" and measures[3].crime_types is None
    t = partnership_table(_hand_incidents(), AREAS, params=TableParams(area="Alpha", measures=measures))
    q = "Q1 Apr-Jun 2023"
    assert list(t.values.columns[:1]) == [q]
    v = t.values[q]
    assert v["neighbourhood"] == 24  # 3 x (5 + 2 + 1): drugs are not neighbourhood crime
    assert v["neighbourhood_rate"] == 24 * 1000 / 2000
    assert v["robbery"] == 6
    assert v["domestic"] == 9  # 3 flagged of 5, three months
    assert v["asb"] == 12
    assert t.display.loc["Domestic abuse (police.uk)", q] == NOT_AVAILABLE  # police.uk records no flag: never 0
    assert t.metadata["measures"][3]["qualified"] == "domestic_abuse"
    assert any(n.startswith("Council ASB: sources council_asb. the council's case extract") for n in t.footnotes)


def test_the_example_board_file_reads():
    measures = read_measure_file(BOARD)
    assert [m.key for m in measures] == [
        "burglary",
        "neighbourhood_rate",
        "asb_council",
        "asb_police",
        "domestic_abuse_rate",
    ]
    assert [m.per_1000 for m in measures] == [False, True, False, False, True]
    assert measures[4].qualified == "domestic_abuse" and measures[4].sources == ("force_crime",)


def test_cli_measures_replace_and_add_on_the_demo(demo_borough, tmp_path):
    """--measures replaces the default rows with the file's; --add-measures puts them after; the counts of a
    file's measure equal the default table's same measure, and the metadata names the file and its sha256."""
    store_dir = demo_borough.store_dir
    res = _table_cli(store_dir, tmp_path / "b.xlsx", "--measures", str(BOARD))
    assert res.exit_code == 0, res.output
    back = pd.read_csv(tmp_path / "b.csv", comment="#", index_col=0)
    assert list(back.index) == [m.label for m in read_measure_file(BOARD)]
    default = table_from_store(store_dir)
    rows, files = measures_from_files(replace=BOARD)
    board = table_from_store(store_dir, measures=rows, measure_files=files)
    quarters = [c for c in default.values.columns if str(c).startswith("Q")]
    np.testing.assert_array_equal(board.values.loc["burglary", quarters], default.values.loc["burglary", quarters])
    np.testing.assert_array_equal(
        board.values.loc["asb_council", quarters], default.values.loc["asb_council", quarters]
    )
    assert (board.display.loc["Domestic abuse per 1,000 residents", quarters] == NOT_AVAILABLE).all()
    assert any(  # a source never loaded is named, with what to do
        n.startswith('"not available" for Domestic abuse per 1,000 residents (force_crime): the store holds no records')
        and "geo-csp ingest" in n
        for n in board.footnotes
    )
    sha = hashlib.sha256(BOARD.read_bytes()).hexdigest()
    assert board.metadata["measure_files"] == [f"board_measures.toml (sha256 {sha}), replacing the default measures"]
    assert any(f"sha256 {sha}" in n for n in board.footnotes)
    assert str(BOARD.parent) not in " ".join(board.footnotes)  # the file's name, never its folder
    # --add-measures: the default rows, then the file's
    extra = _write(tmp_path, HAND.split("[measures.domestic]")[0].replace("[measures.", "[measures.x_"))
    res = _table_cli(store_dir, tmp_path / "a.xlsx", "--add-measures", str(extra))
    assert res.exit_code == 0, res.output
    added = pd.read_csv(tmp_path / "a.csv", comment="#", index_col=0)
    labels = [m.label for m in DEFAULT_MEASURES]
    assert list(added.index) == [*labels, "Neighbourhood crime", "Neighbourhood crime per 1,000", "Robberies"]
    # a key the table already has: the file, the measure and the way out are named
    clash = _write(tmp_path, '[measures.burglary]\nname = "B"\nsource = "police_uk_street"\nkind = "count"\n', "c.toml")
    res = _table_cli(store_dir, tmp_path / "c.xlsx", "--add-measures", str(clash))
    said = str(res.exception)  # the console script prints it as one line (geo_csp.cli.main)
    assert res.exit_code != 0 and isinstance(res.exception, ParameterError)
    assert "c.toml" in said and "'burglary'" in said and "--measures" in said


def test_measures_are_in_the_frozen_parameters():
    measures = (Measure("b", "B", (schema.SOURCE_STREET,), ("Burglary",)),)
    params = TableParams(area="Alpha", measures=list(measures))  # a list is kept as a tuple
    assert params.measures == measures
    with pytest.raises(AttributeError):
        params.measures = DEFAULT_MEASURES  # type: ignore[misc]
    with pytest.raises(ParameterError, match="tuple of Measure"):
        TableParams(area="Alpha", measures=("burglary",))  # type: ignore[arg-type]
    assert TableParams(area="Alpha").measures == DEFAULT_MEASURES
    # partnership_table's own measures replace those of the parameters, in the metadata too
    t = partnership_table(_hand_incidents(), AREAS, params=TableParams(area="Alpha"), measures=measures)
    assert [m["key"] for m in t.metadata["measures"]] == ["b"] and t.values.loc["b"].iloc[0] == 15


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('[measures.b]\nname = "B"\nsource = "police_uk_street"\nkind = "count"\ncrime_type = ["Burglary"]\n',
         r"m\.toml, measure 'b': unknown key 'crime_type' \(did you mean \"crime_types\"\?\)"),
        ('[measures.b]\nname = "B"\nsource = "police_uk_street"\n',
         r"m\.toml, measure 'b': the key 'kind' is missing; add kind = \"count\""),
        ('[measures.b]\nsource = "police_uk_street"\nkind = "count"\n',
         r"measure 'b': the key 'name' is missing"),
        ('[measures.b]\nname = "B"\nsource = "police_uk_street"\nkind = "per_1000"\n',
         r"measure 'b': kind must be \"count\" or \"rate\""),
        ('[measures.b]\nname = "B"\nkind = "count"\n',
         r"measure 'b': give the store source\(s\) counted once.*the key 'sources' is missing"),
        ('[measures.b]\nname = "B"\nsource = "a"\nsources = ["b"]\nkind = "count"\n', r"\(not both\)"),
        ('[measures.b]\nname = "B"\nsources = []\nkind = "count"\n', r"measure 'b': sources must be a name or a non-empty list"),
        ('[measures.b]\nname = "B"\nsource = "Police UK"\nkind = "count"\n', r"source has 'Police UK', not a store source name"),
        ('[measures.b]\nname = "B"\nsource = "police_uk_street"\ncrime_types = ["Burglery"]\nkind = "count"\n',
         r"crime_types has \"Burglery\", which is not a police.uk category; did you mean \"Burglary\"\?"),
        ('[measures.b]\nname = "B"\nsource = "police_uk_street"\ngroup = "knives"\nkind = "count"\n',
         r"measure 'b': group 'knives' is neither a flag group \(.*knife.*\) nor a group of categories"),
        ('[measures.B-1]\nname = "B"\nsource = "x"\nkind = "count"\n', r"measure key 'B-1' must be lower case"),
        ('[measure.b]\nname = "B"\n', r"unknown top-level key 'measure'; put every measure under \[measures"),
        ("[measures]\n", r"defines no measure"),
        ('[measures]\nb = "Burglary"\n', r"measure 'b': write it as a table, \[measures\.b\]"),
        ('[measures.b]\nname = B\n', r"m\.toml is not valid TOML .*quote text"),
        ('[measures.b]\nname = "B"\nsource = "x"\nkind = "count"\nnote = 3\n', r"note must be text"),
    ],
)  # fmt: skip
def test_errors_name_the_file_the_measure_and_the_key(tmp_path, text, pattern):
    with pytest.raises(ParameterError, match=pattern):
        read_measure_file(_write(tmp_path, text))


def test_missing_file_and_clashing_keys(tmp_path):
    with pytest.raises(ParameterError, match=r"nope\.toml does not exist; check the --measures path"):
        read_measure_file(tmp_path / "nope.toml")
    with pytest.raises(ParameterError, match=re.escape("extra.toml, measure 'burglary': the table already has")):
        extend_measures(DEFAULT_MEASURES, (DEFAULT_MEASURES[2],), origin="extra.toml")
    # a partner source's own categories are taken as written
    own = read_measure_file(
        _write(
            tmp_path, '[measures.n]\nname = "Noise"\nsource = "council_asb"\ncrime_types = ["Noise"]\nkind = "count"\n'
        )
    )
    assert own[0].crime_types == ("Noise",)
