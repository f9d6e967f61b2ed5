"""Plain-English labels and people's number formats (geo_csp.display)."""

from __future__ import annotations

import pandas as pd

from geo_csp import display


def test_labels_carry_units() -> None:
    assert display.label("n") == "Incidents"
    assert display.label("harm") == "Harm (crime-days)"
    assert display.label("gi_z") == "z-score of the hot spot test"
    assert display.label("some_new_col") == "Some new col"


def test_values_are_formatted_for_people() -> None:
    assert display.format_value("share_of_crime", 0.086) == "8.6%"
    assert display.format_value("priority", 176812.95) == "176,813"
    assert display.format_value("arrive_min", 22.8433) == "23"
    assert display.format_value("gi_z", 2.3456) == "2.3"
    assert display.format_value("mk_p", 0.0004) == "p < 0.001"
    assert display.format_value("n_change", 4.0) == "+4"
    assert display.format_value("n", float("nan")) == ""
    assert display.format_value("name", "Bury") == "Bury"


def test_for_people_renames_and_rounds_without_changing_the_input() -> None:
    frame = pd.DataFrame(
        {"n": [2141.0], "harm": [179017.95], "share_of_crime": [0.085963], "name": ["X"], "arrive_min": [22.8433]}
    )
    shown = display.for_people(frame)
    assert list(shown.columns) == [
        "Incidents",
        "Harm (crime-days)",
        "Share of crime (%)",
        "Place",
        "Arrive (min after start)",
    ]
    assert shown.iloc[0].tolist() == [2141.0, 179018.0, 8.6, "X", 23.0]
    assert frame["share_of_crime"].iloc[0] == 0.085963  # input unchanged


def test_sources_have_plain_names() -> None:
    from geo_csp import display, schema

    assert display.source_label(schema.SOURCE_STREET) == "police.uk street crime and ASB"
    assert display.source_label(schema.SOURCE_STOP_SEARCH) == "police.uk stop and search"
    assert display.source_label("council_asb") == "council asb (partner)"
