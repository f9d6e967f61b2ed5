"""Fixed column names and the police.uk vocabulary: the contract between ingest, store and analysis.

Every table that crosses a module boundary uses these names. They are snake_case and carry their
unit where they have one. Change a name here and everywhere at once, never locally.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

# --------------------------------------------------------------------------------------------------
# Incidents as stored (one row per incident; identity is the file and the row, never the content).
# --------------------------------------------------------------------------------------------------
INCIDENT_ID: Final = "incident_id"  # "<file_id>:<line>", stable across re-ingests of the same bytes
SOURCE: Final = "source"  # "police_uk_street", "police_uk_stop_search", or a partner source name
FORCE: Final = "force"  # police.uk force slug ("lancashire"); for partner data the partner name
MONTH: Final = "month"  # "YYYY-MM"; always present; police.uk has nothing finer
OCCURRED_DATE: Final = "occurred_date"  # date32, null when only the month is known
OCCURRED_AT: Final = "occurred_at"  # timestamp (UTC), null unless the source gives a time of day
OCCURRED_FROM: Final = "occurred_from"  # timestamp (UTC): start of a from/to window (burglary found later), else null
OCCURRED_TO: Final = "occurred_to"  # timestamp (UTC): end of that window, null when the time is exact
CRIME_TYPE: Final = "crime_type"  # police.uk category, or the partner's mapped category
LON: Final = "lon"
LAT: Final = "lat"
EASTING: Final = "easting"  # EPSG:27700 metres
NORTHING: Final = "northing"  # EPSG:27700 metres
LOCATED: Final = "located"  # False: counts in totals, never on a map
LOCATION: Final = "location"  # police.uk "On or near ..." text
LSOA_CODE: Final = "lsoa_code"  # as published (2011 codes before 2022, 2021 codes after)
LSOA_NAME: Final = "lsoa_name"
CRIME_ID: Final = "crime_id"
OUTCOME: Final = "outcome"
CONTEXT: Final = "context"
OBJECT_OF_SEARCH: Final = "object_of_search"  # stop and search only
WEIGHT: Final = "weight"  # partner-supplied weight, 1.0 otherwise
FILE_ID: Final = "file_id"  # first 16 hex digits of the input file's sha256
LINE: Final = "line"  # 1-based physical line of the row in its file (header is line 1)
# Qualifier flags of partner records (geo_csp.qualifiers): True/False, null when the source does not
# record it or the record says "unknown" (never guessed). police.uk records none of them.
KNIFE_ENABLED: Final = "knife_enabled"  # a knife or sharp instrument was used or threatened
DOMESTIC: Final = "domestic"  # the record carries a domestic abuse flag
ALCOHOL_RELATED: Final = "alcohol_related"
DRUG_RELATED: Final = "drug_related"
VICTIM_AGE_BAND: Final = "victim_age_band"  # "18-24", "65+" (geo_csp.qualifiers.normalise_age_bands)
VICTIM_SEX: Final = "victim_sex"  # "female", "male" or "other"; null when unknown
# Road casualties (STATS19, geo_csp.roads): null for every other source.
SEVERITY: Final = "severity"  # "Fatal", "Serious" or "Slight" (the casualty's, else the collision's)
TRAVEL_MODE: Final = "travel_mode"  # the casualty's mode of travel ("Pedestrian", "Car", ...)

INCIDENT_SCHEMA: Final = pa.schema(
    [
        pa.field(INCIDENT_ID, pa.string(), nullable=False),
        pa.field(SOURCE, pa.string(), nullable=False),
        pa.field(FORCE, pa.string(), nullable=False),
        pa.field(MONTH, pa.string(), nullable=False),
        pa.field(OCCURRED_DATE, pa.date32()),
        pa.field(OCCURRED_AT, pa.timestamp("us", tz="UTC")),
        pa.field(OCCURRED_FROM, pa.timestamp("us", tz="UTC")),
        pa.field(OCCURRED_TO, pa.timestamp("us", tz="UTC")),
        pa.field(CRIME_TYPE, pa.string(), nullable=False),
        pa.field(LON, pa.float64()),
        pa.field(LAT, pa.float64()),
        pa.field(EASTING, pa.float64()),
        pa.field(NORTHING, pa.float64()),
        pa.field(LOCATED, pa.bool_(), nullable=False),
        pa.field(LOCATION, pa.string()),
        pa.field(LSOA_CODE, pa.string()),
        pa.field(LSOA_NAME, pa.string()),
        pa.field(CRIME_ID, pa.string()),
        pa.field(OUTCOME, pa.string()),
        pa.field(CONTEXT, pa.string()),
        pa.field(OBJECT_OF_SEARCH, pa.string()),
        pa.field(WEIGHT, pa.float64(), nullable=False),
        pa.field(FILE_ID, pa.string(), nullable=False),
        pa.field(LINE, pa.int64(), nullable=False),
        pa.field(KNIFE_ENABLED, pa.bool_()),
        pa.field(DOMESTIC, pa.bool_()),
        pa.field(ALCOHOL_RELATED, pa.bool_()),
        pa.field(DRUG_RELATED, pa.bool_()),
        pa.field(VICTIM_AGE_BAND, pa.string()),
        pa.field(VICTIM_SEX, pa.string()),
        pa.field(SEVERITY, pa.string()),
        pa.field(TRAVEL_MODE, pa.string()),
    ]
)
INCIDENT_COLUMNS: Final = tuple(INCIDENT_SCHEMA.names)

# Quarantined rows: every row read that was not accepted, with why.
QUARANTINE_SCHEMA: Final = pa.schema(
    [
        pa.field("file", pa.string(), nullable=False),  # path as given by the user
        pa.field(FILE_ID, pa.string(), nullable=False),
        pa.field(LINE, pa.int64(), nullable=False),
        pa.field(SOURCE, pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),  # one of REASONS
        pa.field("message", pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),  # the row as read, JSON object of column -> text
    ]
)

# Reason codes for quarantined rows (stable: scripts and reports key on them).
REASONS: Final = {
    "zero_coordinates": "longitude and latitude are both 0 (police.uk zeroes points >20 km from a snap point)",
    "non_numeric_coordinates": "longitude or latitude is not a number",
    "half_coordinates": "only one of longitude/latitude (or easting/northing) is given",
    "swapped_coordinates": "longitude and latitude appear to be swapped",
    "out_of_country": "the point lies outside England and Wales",
    "bad_month": "the month is missing or not YYYY-MM",
    "month_outside_file": "the row's Month differs from the month in the file name (YYYY-MM-<force>-street.csv)",
    "bad_date": "the date or date-time does not match the mapped format",
    "missing_required": "a required value (id, month/date, category) is empty",
    "unknown_crime_type": "the crime type is not one of the 14 police.uk categories",
    "malformed_row": "the row has the wrong number of fields",
    "duplicate_id": "the partner record id repeats an earlier row of the same file",
    "bad_weight": "the mapped weight is not a non-negative number",
    "bad_window": "the mapped datetime_from/datetime_to window is unreadable, ends before it starts, or has an end without a start",
    "bad_flag": "a mapped yes/no qualifier (knife, domestic, alcohol, drugs) is neither yes, no nor unknown",
    "bad_age_band": "the mapped victim age band is not an age (34) or a band of ages (18-24, 65+, under 18)",
    "bad_sex": "the mapped victim sex is not female, male, other or unknown",
    "bad_severity": "the road casualty severity is not Fatal, Serious or Slight (DfT codes 1, 2, 3)",
    "bad_casualties": "the number of casualties is not a whole number of at least 1",
}

SOURCE_STREET: Final = "police_uk_street"
SOURCE_STOP_SEARCH: Final = "police_uk_stop_search"
SOURCE_STATS19: Final = "stats19"  # DfT STATS19 road casualties (geo_csp.roads)
ROAD_CASUALTY_TYPE: Final = "Road casualty"  # crime_type of STATS19 rows; weight = casualties the row stands for

# The 12-column data.police.uk street-level header, in order.
POLICE_UK_STREET_HEADER: Final = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)

# The 15-column data.police.uk stop-and-search header (Latitude before Longitude).
POLICE_UK_STOP_SEARCH_HEADER: Final = (
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
)

# The 14 police.uk street-level crime categories (current names).
CRIME_TYPES: Final = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
# Stop and search rows carry this crime_type; the search's object is in OBJECT_OF_SEARCH.
STOP_AND_SEARCH_TYPE: Final = "Stop and search"

# police.uk's non-street snap-point labels ("On or near Parking Area"): a place type, not a place, so
# they name nothing on their own. Seen in the Lancashire and Cumbria street files and the Lancashire
# ASB file, plus "Airport/Airfield".
POLICE_UK_GENERIC_LOCATIONS: Final = frozenset(
    {
        "No Location",
        "Parking Area",
        "Supermarket",
        "Shopping Area",
        "Sports/Recreation Area",
        "Petrol Station",
        "Nightclub",
        "Park/Open Space",
        "Pedestrian Subway",
        "Hospital",
        "Police Station",
        "Further/Higher Educational Building",
        "Bus/Coach Station",
        "Theatre/Concert Hall",
        "Prison",
        "Conference/Exhibition Centre",
        "Motorway Service Area",
        "Theme/Adventure Park",
        "Airport/Airfield",
    }
)

# --------------------------------------------------------------------------------------------------
# Analysis outputs (cubes, hotspot units, areas).
# --------------------------------------------------------------------------------------------------
UNIT_ID: Final = "unit_id"
PERIOD: Final = "period"
N: Final = "n"
HARM: Final = "harm"
POPULATION: Final = "population"
RATE_PER_1000: Final = "rate_per_1000"
GI_Z: Final = "gi_z"
GI_P: Final = "gi_p"
MK_S: Final = "mk_s"
MK_TAU: Final = "mk_tau"
MK_Z: Final = "mk_z"
MK_P: Final = "mk_p"
MK_VAR_S: Final = "mk_var_s"  # Mann-Kendall Var(S) with the ties correction
N_HOT_PERIODS: Final = "n_hot_periods"  # periods in which a unit is a significant Gi* hot spot
N_COLD_PERIODS: Final = "n_cold_periods"
PATTERN: Final = "pattern"  # ArcGIS emerging hot spot scheme
CATEGORY: Final = "category"  # Chainey / sfhotspot scheme
AREA_ID: Final = "area_id"
AREA_NAME: Final = "name"
RANK: Final = "rank"  # 1 = highest (hotspot_run.rank_units; ties share the lowest rank)
PREDICTED_N: Final = (
    "predicted_n"  # expected incidents next month from the default priority score (backtest.add_priority)
)
EXPLANATION: Final = "explanation"

WARD_CODE: Final = "ward_code"
WARD_NAME: Final = "ward_name"
