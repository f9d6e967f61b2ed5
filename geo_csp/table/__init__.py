"""The quarterly partnership table: the "Tackling crime and ASB" table of a CSP scrutiny report.

One row per measure, one column per financial quarter for the last five complete quarters
("Q1 Apr-Jun 2022"), a trend arrow for the latest quarter against the one before, and a comparator
column: the average of the comparator areas (e.g. the other Greater Manchester boroughs) in the latest
quarter, when their data is in the store, and "not available" otherwise (never a made-up number).

The package keeps apart what is counted (:mod:`~geo_csp.table.measures`: frozen :class:`Measure`
objects, data rather than code; :data:`DEFAULT_MEASURES` follows the scrutiny report, and a
partnership's own are read from a TOML file by :mod:`~geo_csp.table.measure_file`), the numbers
(:mod:`~geo_csp.table.values`), how they are printed (:mod:`~geo_csp.table.display`), the footnotes
(:mod:`~geo_csp.table.footnotes`) and the writers (:mod:`~geo_csp.table.write`);
:mod:`~geo_csp.table.build` puts them together.
"""

from geo_csp.geography import AREA_CODE, AREA_NAME
from geo_csp.table.build import PartnershipTable, partnership_table, table_from_store
from geo_csp.table.display import ARROWS, COMPARATOR, MONTH_ON_MONTH, NOT_AVAILABLE, RANK, TREND, YEAR_AGO, YEAR_ON_YEAR
from geo_csp.table.measure_file import (
    extend_measures,
    measure_file_label,
    measures_from_dict,
    measures_from_files,
    read_measure_file,
)
from geo_csp.table.measures import DEFAULT_MEASURES, FULL_CATEGORY_SOURCES, Measure, measures_from_sources
from geo_csp.table.values import TABLE_PERIODS, TableParams
from geo_csp.table.write import frame_html, table_html, write_table_csv, write_table_html, write_table_xlsx

__all__ = [
    "AREA_CODE",
    "AREA_NAME",
    "ARROWS",
    "COMPARATOR",
    "DEFAULT_MEASURES",
    "FULL_CATEGORY_SOURCES",
    "MONTH_ON_MONTH",
    "NOT_AVAILABLE",
    "RANK",
    "TABLE_PERIODS",
    "TREND",
    "YEAR_AGO",
    "YEAR_ON_YEAR",
    "Measure",
    "PartnershipTable",
    "TableParams",
    "extend_measures",
    "frame_html",
    "measure_file_label",
    "measures_from_dict",
    "measures_from_files",
    "measures_from_sources",
    "partnership_table",
    "read_measure_file",
    "table_from_store",
    "table_html",
    "write_table_csv",
    "write_table_html",
    "write_table_xlsx",
]
