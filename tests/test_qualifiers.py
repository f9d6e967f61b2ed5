"""Qualifier flags (knife, domestic, alcohol, drugs, victim age band and sex): normalising and the groups on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_csp import qualifiers, schema
from geo_csp.cube import CubeParams
from geo_csp._errors import MappingError, ParameterError
from geo_csp.column_mapping import mapping_from_dict


def test_flags_normalised_unknown_kept_bad_flagged() -> None:
    values = ["Yes", " y ", "TRUE", "t", "1", "No", "n", "False", "0", "", None, "Unknown", "N/K", "maybe", "none"]
    out, bad = qualifiers.normalise_flags(values)
    assert out.iloc[:5].tolist() == [True] * 5
    assert out.iloc[5:9].tolist() == [False] * 4
    assert out.iloc[9:13].isna().all()  # blank, missing and unknown: unknown, never guessed
    assert out.iloc[13:].isna().all() and bad.tolist() == [False] * 13 + [True, True]
    assert str(out.dtype) == "boolean"


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("18-24", "18-24"),
        ("25 to 34", "25-34"),
        ("35 – 44", "35-44"),
        ("65+", "65+"),
        ("65 and over", "65+"),
        ("Over 75", "76+"),
        ("under 18", "0-17"),
        ("34", "25-34"),
        ("17", "0-17"),
        ("0", "0-17"),
        ("90", "65+"),
        ("not known", None),
        ("", None),
    ],
)
def test_age_bands(text: str, band: str | None) -> None:
    out, bad = qualifiers.normalise_age_bands([text])
    assert (out.iloc[0] if band is not None else pd.isna(out.iloc[0])) == (band if band is not None else True)
    assert not bad[0]


@pytest.mark.parametrize("text", ["30-20", "121", "adult", "-5", "18-200"])
def test_bad_age_bands(text: str) -> None:
    out, bad = qualifiers.normalise_age_bands([text])
    assert bad[0] and pd.isna(out.iloc[0])


def test_sexes() -> None:
    out, bad = qualifiers.normalise_sexes(
        ["F", "female", "Woman", "M", "Male", "Other", "Not stated", "", "Indeterminate", "7"]
    )
    assert out.iloc[:6].tolist() == ["female", "female", "female", "male", "male", "other"]
    assert out.iloc[6:].isna().all()
    assert bad.tolist() == [False] * 9 + [True]


def _incidents() -> pd.DataFrame:
    # source "force_crime" records every qualifier; police.uk records none
    return pd.DataFrame(
        {
            schema.SOURCE: ["force_crime"] * 6 + [schema.SOURCE_STREET] * 2,
            schema.CRIME_TYPE: [
                "Violence and sexual offences",  # female, not domestic: VAWG
                "Criminal damage and arson",  # female, domestic: VAWG, domestic
                "Violence and sexual offences",  # male, domestic: domestic only
                "Violence and sexual offences",  # sex unknown: not VAWG (counted as unknown)
                "Burglary",  # female, not domestic: nothing
                "Robbery",  # knife
                "Violence and sexual offences",
                "Robbery",
            ],
            schema.VICTIM_SEX: pd.array(["female", "female", "male", None, "female", "male", None, None], "string"),
            schema.DOMESTIC: pd.array([False, True, True, None, False, False, None, None], "boolean"),
            schema.KNIFE_ENABLED: pd.array([False, False, False, False, False, True, None, None], "boolean"),
        }
    )


def test_groups_count_by_hand() -> None:
    inc = _incidents()
    groups = qualifiers.QUALIFIED_GROUPS
    assert qualifiers.group_mask(inc, groups["vawg"]).tolist() == [True, True] + [False] * 6
    assert qualifiers.group_mask(inc, groups["domestic_abuse"]).tolist() == [False, True, True] + [False] * 5
    assert qualifiers.group_mask(inc, groups["knife_crime"]).tolist() == [False] * 5 + [True, False, False]
    # police.uk records no qualifier: it is not a recording source (its count is "not available", not 0)
    assert qualifiers.recording_sources(inc, groups["vawg"]) == ("force_crime",)
    assert qualifiers.recording_sources(inc, groups["alcohol_related"]) == ()  # nobody records alcohol
    assert qualifiers.unknown_mask(inc, groups["vawg"]).tolist() == [False, False, False, True] + [False] * 4
    assert "female victim" in groups["vawg"].definition
    assert groups["vawg"].to_dict()["columns"] == [schema.DOMESTIC, schema.VICTIM_SEX]


def test_group_errors() -> None:
    with pytest.raises(ParameterError, match="not qualifier flags"):
        qualifiers.QualifiedGroup("x", "X", "x", flags=("crime_type",))
    with pytest.raises(ParameterError, match="uses no qualifier"):
        qualifiers.QualifiedGroup("x", "X", "x")


def test_mapping_qualifier_columns() -> None:
    base = {"source": "force_crime", "columns": {"date": "Date", "category_value": "Violence", "lon": "X", "lat": "Y"}}
    m = mapping_from_dict({**base, "columns": {**base["columns"], "domestic": "DA", "victim_sex": "Sex"}})
    assert dict(m.qualifiers) == {schema.DOMESTIC: "DA", schema.VICTIM_SEX: "Sex"}
    assert m.required_columns[-2:] == ("DA", "Sex")
    assert m.to_dict()["qualifiers"] == {schema.DOMESTIC: "DA", schema.VICTIM_SEX: "Sex"}
    assert dict(mapping_from_dict(base).qualifiers) == {}
    with pytest.raises(MappingError, match="unknown key"):
        mapping_from_dict({**base, "columns": {**base["columns"], "knife": "K"}})


def test_normalising_reads_each_distinct_value_once() -> None:
    values = np.array(["Y", "N", ""] * 100_000, dtype=object)
    out, bad = qualifiers.normalise_flags(values)
    assert int(out.sum()) == 100_000 and out.isna().sum() == 100_000 and not bad.any()


def test_qualifiers_through_ingest(tmp_path) -> None:
    from geo_csp import ingest

    csv = tmp_path / "force_crime.csv"
    csv.write_text(
        "Ref,Date,Type,X,Y,Knife,DA,Alcohol,Drugs,Age,Sex\n"
        "r1,2024-01-05,Violence and sexual offences,-2.30,53.59,N,Y,yes,0,25 to 34,F\n"
        "r2,2024-01-06,Robbery,-2.30,53.59,Y,N,,unknown,17,M\n"
        "r3,2024-01-07,Robbery,-2.30,53.59,perhaps,N,,,,\n"
        "r4,2024-01-08,Robbery,-2.30,53.59,N,N,,,30-20,\n"
        "r5,2024-01-09,Robbery,-2.30,53.59,N,N,,,,Robot\n"
        "r6,2024-01-10,Burglary,-2.30,53.59,,,,,,\n",
        encoding="utf-8",
    )
    cols = {"knife_enabled": "Knife", "domestic": "DA", "alcohol_related": "Alcohol", "drug_related": "Drugs"}
    mapping = mapping_from_dict(
        {
            "source": "force_crime",
            "columns": {
                "id": "Ref",
                "date": "Date",
                "category": "Type",
                "lon": "X",
                "lat": "Y",
                **cols,
                "victim_age_band": "Age",
                "victim_sex": "Sex",
            },
        }
    )
    accepted, quarantined = ingest.read_file(csv, mapping=mapping)
    acc = accepted.to_pandas().astype(object).where(lambda f: f.notna(), None)
    assert acc[schema.CRIME_ID].tolist() == ["r1", "r2", "r6"]
    assert acc[schema.KNIFE_ENABLED].tolist() == [False, True, None]
    assert acc[schema.DOMESTIC].tolist() == [True, False, None]
    assert acc[schema.ALCOHOL_RELATED].tolist() == [True, None, None]  # blank: unknown, not "no"
    assert acc[schema.DRUG_RELATED].tolist() == [False, None, None]
    assert acc[schema.VICTIM_AGE_BAND].tolist() == ["25-34", "0-17", None]
    assert acc[schema.VICTIM_SEX].tolist() == ["female", "male", None]
    assert accepted.schema.field(schema.DOMESTIC).type == "bool"
    q = quarantined.to_pandas()
    assert q["reason"].tolist() == ["bad_flag", "bad_age_band", "bad_sex"]
    assert "Knife=perhaps" in q["message"].iloc[0] and "Age=30-20" in q["message"].iloc[1]
    assert "Sex=Robot" in q["message"].iloc[2]


def _flagged_incidents() -> pd.DataFrame:
    """12 partner records over 3 months on 4 points (6 flagged domestic, 1 unknown) and 6 police.uk records."""
    from _synthetic import incidents

    x = np.array([380_000.0, 380_400.0, 381_000.0, 381_500.0] * 3)
    y = np.array([410_000.0, 410_300.0, 410_800.0, 411_600.0] * 3)
    months = np.repeat(["2024-01", "2024-02", "2024-03"], 4)
    partner = incidents(x, y, months, "Violence and sexual offences")
    partner[schema.SOURCE] = "force_crime"
    partner[schema.DOMESTIC] = pd.array([True, True, False, None, True, False, True, False] + [True] * 2 + [False] * 2)
    partner[schema.VICTIM_SEX] = pd.array(["female", "male", "female", "female"] * 3, dtype="string")
    police = incidents(x[:6], y[:6], months[:6], "Violence and sexual offences")
    police[schema.SOURCE] = schema.SOURCE_STREET
    return pd.concat([partner, police], ignore_index=True)


def test_flag_group_builds_the_cube_from_flagged_records() -> None:
    from geo_csp.cube import build_cube

    frame = _flagged_incidents()
    cube = build_cube(frame, CubeParams(group="domestic", resolution=8))
    # 6 records flagged domestic, 2 a month; the unknown one and police.uk's six are not counted
    assert int(cube.n.sum()) == 6
    np.testing.assert_array_equal(np.asarray(cube.n.sum(axis=0)).ravel(), [2, 2, 2])
    assert cube.params["qualified_group"]["key"] == "domestic_abuse"
    assert cube.params["qualified_unknown_records"] == 1
    vawg = build_cube(frame, CubeParams(group="vawg", resolution=8))
    # female victims of violence (the category) or domestic: rows 0, 2 and 3 of each month (month 1's
    # row 3 is domestic-unknown but violence): 3 a month
    assert int(vawg.n.sum()) == 9
    with pytest.raises(ParameterError, match=r"the \['force_crime'\] records carry no knife_enabled flag"):
        build_cube(frame, CubeParams(group="knife", resolution=8, sources=("force_crime",)))


def test_flag_group_on_police_uk_only_is_refused() -> None:
    from geo_csp.cube import build_cube

    police = _flagged_incidents().query("source == @schema.SOURCE_STREET")
    with pytest.raises(ParameterError, match="police.uk records carry no domestic flag; load a partner extract"):
        build_cube(police, CubeParams(group="domestic", resolution=8))


def test_flag_group_counts_the_recording_sources_by_default() -> None:
    from geo_csp import hotspot_run

    result = hotspot_run.run_hotspots(_flagged_incidents(), cube_params=CubeParams(group="domestic", resolution=8))
    assert result.metadata["counted"]["sources"] == ["force_crime"]
    assert "record domestic" in result.metadata["counted"]["note"]
    assert int(result.units[schema.N].sum()) == 6
