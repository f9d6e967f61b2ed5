"""The months analysed: ``periods.resolve_months`` (the ``--months`` option) and the CLI on the app's months."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from geo_csp import periods
from geo_csp._errors import ParameterError
from geo_csp.cli import app as cli_app

STORE_36 = periods.month_range("2023-01", "2025-12").tolist()
APP = str(Path(__file__).resolve().parent.parent / "app.py")
COUNTS = re.compile(r"(against [a-z ]+?)(?: \([0-9-]+\))?(?:\*\*)?: (\d+) entered, (\d+) remained, (\d+) left")


def test_resolve_months_known_answers():
    assert len(STORE_36) == 36
    assert periods.resolve_months("all", STORE_36) is None
    assert periods.resolve_months("last-12", STORE_36) == ("2025-01", "2025-12")
    assert periods.resolve_months("LAST-36", STORE_36) == ("2023-01", "2025-12")
    assert periods.resolve_months("last-1", STORE_36) == ("2025-12", "2025-12")
    assert periods.resolve_months("2024-04:2025-03", STORE_36) == ("2024-04", "2025-03")
    # the store's span counts, not only the months holding a part: a gap month is still a month
    assert periods.resolve_months("last-3", ["2025-09", "2025-12"]) == ("2025-10", "2025-12")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("twelve", "is not a choice of months"),
        ("last-x", "is not a choice of months"),
        ("2024-1:2024-12", "is not a choice of months"),
        ("2024-13:2025-01", "'2024-13' is not a month"),
        ("2025-06:2025-01", "the end 2025-01 is before the start 2025-06"),
        ("2022-06:2024-01", "reaches outside the store's months (2023-01..2025-12, 36 months)"),
        ("2025-06:2026-01", "reaches outside the store's months"),
        ("last-37", "N must be 1 to 36, the months of the store (2023-01..2025-12, 36 months)"),
        ("last-0", "N must be 1 to 36"),
    ],
)
def test_resolve_months_errors_name_the_option_and_the_store(spec, says):
    with pytest.raises(ParameterError) as err:
        periods.resolve_months(spec, STORE_36)
    assert str(err.value).startswith(f"--months {spec!r}") and says in str(err.value)


def test_resolve_months_on_an_empty_store():
    with pytest.raises(ParameterError, match="holds no months"):
        periods.resolve_months("last-12", [])
    assert periods.resolve_months("all", []) is None


def test_cli_months_error_names_the_store_range(demo_borough, tmp_path):
    result = CliRunner().invoke(
        cli_app, ["tasking", "--store", str(demo_borough.store_dir), "--out", str(tmp_path), "--months", "last-99"]
    )
    assert isinstance(result.exception, ParameterError)
    assert str(result.exception).startswith("--months 'last-99'") and "2023-01..2025-12, 36 months" in str(
        result.exception
    )


def _counts(text: str) -> dict[str, tuple[int, int, int]]:
    return {m[1]: (int(m[2]), int(m[3]), int(m[4])) for m in COUNTS.finditer(text)}


def test_cli_tasking_last_12_months_is_the_app_tasking_page(demo_borough, tmp_path, monkeypatch):
    """``geo-csp tasking --months last-12`` lists what the app's Tasking page lists on its default
    "Last 12 months"; on every month (36 on the demo) the lists differ."""
    store = str(demo_borough.store_dir)
    runner = CliRunner()
    twelve = runner.invoke(cli_app, ["tasking", "--store", store, "--out", str(tmp_path / "a"), "--months", "last-12"])
    assert twelve.exit_code == 0, twelve.output + str(twelve.exception)
    every = runner.invoke(cli_app, ["tasking", "--store", store, "--out", str(tmp_path / "b")])
    assert every.exit_code == 0, every.output + str(every.exception)
    flat = " ".join(twelve.output.split())
    assert "--months last-12: 12 months, 2025-01..2025-12 (the store holds 2023-01..2025-12)" in flat
    assert "Periods: 12 months, 2025-01..2025-12" in flat
    assert "Periods: 36 months, 2023-01..2025-12" in " ".join(every.output.split())

    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(demo_borough.out_dir))
    monkeypatch.setenv("GEO_CSP_STORE", store)
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.sidebar.selectbox(key="period").value == "Last 12 months"
    at.switch_page("geo_csp/app/pages/tasking.py").run()
    assert not at.exception, [e.message for e in at.exception]
    page = _counts(" ".join(m.value for m in at.markdown))

    cli_12, cli_all = _counts(twelve.output), _counts(every.output)
    assert page and page == cli_12, (page, cli_12)
    assert cli_all["against the month before"] != cli_12["against the month before"]
