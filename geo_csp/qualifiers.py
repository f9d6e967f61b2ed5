"""Qualifier flags of partner records (knife, domestic, alcohol, drugs, victim age band and sex) and the
measures built on them.

A partner extract (a force's own crime extract, a council's case system) often says more about an
incident than its category: whether a knife was involved, whether it was domestic abuse, whether
alcohol or drugs played a part, and the victim's age band and sex. The column mapping
(:mod:`geo_csp.column_mapping`) names those columns; the ingest normalises them with the functions here and
stores them in the columns :data:`FLAG_COLUMNS`, :data:`geo_csp.schema.VICTIM_AGE_BAND` and
:data:`geo_csp.schema.VICTIM_SEX`.

Normalising never guesses. A yes/no qualifier reads ``yes``/``y``/``true``/``t``/``1`` as True and
``no``/``n``/``false``/``f``/``0`` as False, case and surrounding spaces aside; a blank or an
"unknown" (:data:`UNKNOWN_WORDS`) is stored as null, unknown; anything else is a bad value and its row is
quarantined with the reason (``bad_flag``, ``bad_age_band``, ``bad_sex``), as other unreadable values are.
police.uk records none of these qualifiers: its rows hold null, and a measure on a qualifier is "not
available" for a source that does not record it, never 0.

:data:`QUALIFIED_GROUPS` are the crime groups defined on qualifiers (:class:`QualifiedGroup`); each one's
``definition`` is written into the metadata of every output that counts it. Violence against women and
girls (VAWG) has no single statutory count; here it is **records with a female victim that are either
violence and sexual offences, or flagged domestic**, a count of victims of recorded crime, which leaves
out what is never reported and what a record does not flag (a record with the victim's sex unknown is
not counted, and the number of those is given beside the count).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from geo_csp import schema
from geo_csp._errors import ParameterError

__all__ = [
    "FLAG_COLUMNS",
    "GROUP_ALIASES",
    "QUALIFIED_GROUPS",
    "QUALIFIER_COLUMNS",
    "STANDARD_AGE_BANDS",
    "UNKNOWN_WORDS",
    "QualifiedGroup",
    "group_mask",
    "normalise_age_bands",
    "normalise_flags",
    "normalise_sexes",
    "qualified_group",
    "recording_sources",
    "unrecorded_message",
    "unknown_mask",
]

#: The yes/no qualifier columns of the store.
FLAG_COLUMNS: Final = (schema.KNIFE_ENABLED, schema.DOMESTIC, schema.ALCOHOL_RELATED, schema.DRUG_RELATED)
#: Every qualifier column of the store (flags, victim age band and sex).
QUALIFIER_COLUMNS: Final = (*FLAG_COLUMNS, schema.VICTIM_AGE_BAND, schema.VICTIM_SEX)
#: Values that mean "not known" in any qualifier column (after trimming and lower-casing): stored as null.
UNKNOWN_WORDS: Final = frozenset(
    {"", "unknown", "unk", "u", "not known", "n/k", "nk", "not recorded", "not stated", "-", "?", "n/a", "na", "null"}
)
_YES: Final = frozenset({"yes", "y", "true", "t", "1", "1.0"})
_NO: Final = frozenset({"no", "n", "false", "f", "0", "0.0"})
_FEMALE: Final = frozenset({"female", "f", "woman", "girl", "w"})
_MALE: Final = frozenset({"male", "m", "man", "boy"})
_OTHER: Final = frozenset({"other", "non-binary", "nonbinary", "non binary"})
#: Sex values read as unknown besides :data:`UNKNOWN_WORDS` (a record that does not say is not guessed).
_SEX_UNKNOWN: Final = frozenset({"indeterminate", "prefer not to say", "not given"})
#: The bands an exact age (``34``) is stored in: under 18, then the ONS Crime Survey's adult bands.
STANDARD_AGE_BANDS: Final = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_BAND_STARTS: Final = np.array([0, 18, 25, 35, 45, 55, 65])
_MAX_AGE: Final = 120
_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})$")
_OPEN = re.compile(r"^(\d{1,3})\s*(?:\+|plus|and over|or over|and above|or older)$")
_UNDER = re.compile(r"^(?:under|below|<)\s*(\d{1,3})$")
_OVER = re.compile(r"^(?:over|older than|>)\s*(\d{1,3})$")


def _by_distinct(values: Any, read: Callable[[str], tuple[Any, bool]]) -> tuple[np.ndarray, np.ndarray]:
    """``read`` applied once per distinct trimmed, lower-cased text (not per row): values and bad mask."""
    text = pd.Series(np.asarray(values, dtype=object)).fillna("").astype(str).str.strip().str.lower()
    codes, uniques = pd.factorize(text, sort=False)
    read_values, bad = zip(*(read(u) for u in uniques)) if len(uniques) else ((), ())
    lookup = np.empty(len(uniques), dtype=object)
    lookup[:] = list(read_values)
    return lookup[codes], np.asarray(bad, dtype=bool)[codes]


def _flag(text: str) -> tuple[Any, bool]:
    if text in _YES:
        return True, False
    if text in _NO:
        return False, False
    return None, text not in UNKNOWN_WORDS


def normalise_flags(values: Any) -> tuple[pd.Series, np.ndarray]:
    """Yes/no qualifier text as True/False, unknown as null (see the module docstring).

    Parameters
    ----------
    values
        The column's text, one value per row (None or NaN is blank).

    Returns
    -------
    (pandas.Series, numpy.ndarray)
        Nullable booleans (``"boolean"`` dtype, ``<NA>`` where unknown or bad) and the rows whose value
        is neither yes, no nor unknown (to quarantine).
    """
    out, bad = _by_distinct(values, _flag)
    return pd.Series(out, dtype="boolean"), bad


def _age_band(text: str) -> tuple[Any, bool]:
    if text in UNKNOWN_WORDS:
        return None, False
    if text.isdigit():
        age = int(text)
        if age > _MAX_AGE:
            return None, True
        return STANDARD_AGE_BANDS[int(np.searchsorted(_BAND_STARTS, age, side="right")) - 1], False
    if m := _RANGE.match(text):
        lo, hi = int(m.group(1)), int(m.group(2))
        return (f"{lo}-{hi}", False) if lo <= hi <= _MAX_AGE else (None, True)
    if m := _OPEN.match(text):
        lo = int(m.group(1))
        return (f"{lo}+", False) if lo <= _MAX_AGE else (None, True)
    if m := _OVER.match(text):
        lo = int(m.group(1)) + 1
        return (f"{lo}+", False) if lo <= _MAX_AGE else (None, True)
    if m := _UNDER.match(text):
        hi = int(m.group(1))
        return (f"0-{hi - 1}", False) if 1 <= hi <= _MAX_AGE else (None, True)
    return None, True


def normalise_age_bands(values: Any) -> tuple[pd.Series, np.ndarray]:
    """Victim age text as a band: ``"25 to 34"`` -> ``"25-34"``, ``"65 and over"`` -> ``"65+"``,
    ``"under 18"`` -> ``"0-17"``, ``"over 75"`` -> ``"76+"``, an exact age into :data:`STANDARD_AGE_BANDS` (``"34"`` -> ``"25-34"``).

    Returns
    -------
    (pandas.Series, numpy.ndarray)
        Bands (``"string"`` dtype, ``<NA>`` where unknown or bad) and the rows that are not an age or band
        of ages (a reversed band, an age over 120, text).
    """
    out, bad = _by_distinct(values, _age_band)
    return pd.Series(out, dtype="string"), bad


def _sex(text: str) -> tuple[Any, bool]:
    for word, words in (("female", _FEMALE), ("male", _MALE), ("other", _OTHER)):
        if text in words:
            return word, False
    return None, text not in UNKNOWN_WORDS and text not in _SEX_UNKNOWN


def normalise_sexes(values: Any) -> tuple[pd.Series, np.ndarray]:
    """Victim sex text as ``"female"``, ``"male"`` or ``"other"``; unknown (blank, "Not stated",
    "Indeterminate") as null.

    Returns
    -------
    (pandas.Series, numpy.ndarray)
        Values (``"string"`` dtype) and the rows with text that is none of these (to quarantine).
    """
    out, bad = _by_distinct(values, _sex)
    return pd.Series(out, dtype="string"), bad


@dataclass(frozen=True)
class QualifiedGroup:
    """A crime group defined on qualifier columns, not only on categories.

    A row is counted when every column of ``flags`` is True, its victim's sex is ``victim_sex`` (when
    set), and either its category is one of ``crime_types`` or one of ``or_flags`` is True (with neither
    given, the category does not matter).

    Parameters
    ----------
    key, label
        Stable identifier and printed name.
    definition
        What is counted, in words (written into the metadata of every output that counts it).
    flags
        Qualifier columns that must be True.
    crime_types
        Categories counted (``None``: any).
    or_flags
        Qualifier columns any one of which, True, counts a row whatever its category.
    victim_sex
        ``"female"``, ``"male"`` or ``None``.
    """

    key: str
    label: str
    definition: str
    flags: tuple[str, ...] = ()
    crime_types: tuple[str, ...] | None = None
    or_flags: tuple[str, ...] = ()
    victim_sex: str | None = None

    def __post_init__(self) -> None:
        bad = [c for c in (*self.flags, *self.or_flags) if c not in FLAG_COLUMNS]
        if bad:
            raise ParameterError(f"QualifiedGroup {self.key!r}: {bad} are not qualifier flags; use {FLAG_COLUMNS}")
        if self.victim_sex not in (None, "female", "male"):
            raise ParameterError(f"QualifiedGroup {self.key!r}: victim_sex must be female, male or None")
        if not (self.flags or self.or_flags or self.victim_sex):
            raise ParameterError(f"QualifiedGroup {self.key!r} uses no qualifier; use a crime group of categories")

    @property
    def columns(self) -> tuple[str, ...]:
        """The qualifier columns the definition reads: a source must record all of them to be counted."""
        sex = (schema.VICTIM_SEX,) if self.victim_sex else ()
        return tuple(dict.fromkeys((*self.flags, *self.or_flags, *sex)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for output metadata (tuples as lists, so it equals its own JSON read back)."""
        plain = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return {**plain, "columns": list(self.columns)}


_VSO = "Violence and sexual offences"
#: The crime groups defined on qualifiers (see the module docstring for the VAWG definition).
QUALIFIED_GROUPS: Final = {
    g.key: g
    for g in (
        QualifiedGroup(
            "domestic_abuse",
            "Domestic abuse",
            "records of any category flagged domestic",
            flags=(schema.DOMESTIC,),
        ),
        QualifiedGroup(
            "knife_crime",
            "Incidents involving knives",
            "records of any category flagged knife-enabled (a knife or sharp instrument used or threatened)",
            flags=(schema.KNIFE_ENABLED,),
        ),
        QualifiedGroup(
            "vawg",
            "Violence against women and girls",
            f'records with a female victim that are either "{_VSO}" or flagged domestic (any category); '
            "records whose victim's sex is unknown are not counted",
            crime_types=(_VSO,),
            or_flags=(schema.DOMESTIC,),
            victim_sex="female",
        ),
        QualifiedGroup(
            "alcohol_related",
            "Alcohol-related incidents",
            "records of any category flagged alcohol-related",
            flags=(schema.ALCOHOL_RELATED,),
        ),
        QualifiedGroup(
            "drug_related",
            "Drug-related incidents",
            "records of any category flagged drug-related (not police.uk's Drugs category, which counts drug offences)",
            flags=(schema.DRUG_RELATED,),
        ),
    )
}


#: Short names a crime group choice accepts for :data:`QUALIFIED_GROUPS` (``--group domestic``).
GROUP_ALIASES: Final = {"domestic": "domestic_abuse", "knife": "knife_crime"}


def qualified_group(name: str | None, *, groups: Mapping[str, Any] | None = None) -> QualifiedGroup | None:
    """The qualified group a crime group choice names (a key of :data:`QUALIFIED_GROUPS` or of
    :data:`GROUP_ALIASES`), or ``None`` for a group of categories (or a group of one's own in ``groups``,
    which overrides a built-in name)."""
    if name is None or (groups is not None and name in groups):
        return None
    return QUALIFIED_GROUPS.get(GROUP_ALIASES.get(name, name))


def unrecorded_message(group: QualifiedGroup, sources: Iterable[str]) -> str:
    """Why ``group`` cannot be counted from ``sources`` (none records its qualifiers), and how to fix it."""
    names = sorted({str(s) for s in sources})
    who = "police.uk" if names and all(s.startswith("police_uk") for s in names) else f"the {names or 'selected'}"
    cols = " and ".join(group.columns)
    what = f"{cols} flag" if group.columns == group.flags else f"{cols} qualifiers"
    columns = f"a {cols} column" if len(group.columns) == 1 else f"{cols} columns"
    return (
        f"{who} records carry no {what}; load a partner extract with {columns} (the mapping names "
        f"{'it' if len(group.columns) == 1 else 'them'}) to count {group.label.lower()} ({group.key}), or choose "
        "a crime group of categories"
    )


def _column(incidents: pd.DataFrame, name: str) -> pd.Series:
    if name in incidents.columns:
        return incidents[name]
    return pd.Series(pd.NA, index=incidents.index, dtype="object")


def _true(incidents: pd.DataFrame, name: str) -> np.ndarray:
    out: np.ndarray = _column(incidents, name).astype("boolean").fillna(False).to_numpy(dtype=bool)
    return out


def group_mask(incidents: pd.DataFrame, group: QualifiedGroup) -> np.ndarray:
    """The rows ``group`` counts (see :class:`QualifiedGroup`); rows with an unknown qualifier are not counted.

    Parameters
    ----------
    incidents
        Incidents in the store schema (a column it lacks is read as unknown everywhere).
    group
        The group.
    """
    keep = np.ones(len(incidents), dtype=bool)
    for name in group.flags:
        keep &= _true(incidents, name)
    if group.victim_sex is not None:
        keep &= (_column(incidents, schema.VICTIM_SEX).astype("string") == group.victim_sex).fillna(False).to_numpy()
    if group.crime_types is not None or group.or_flags:
        either = np.zeros(len(incidents), dtype=bool)
        if group.crime_types is not None:
            either |= incidents[schema.CRIME_TYPE].isin(group.crime_types).to_numpy()
        for name in group.or_flags:
            either |= _true(incidents, name)
        keep &= either
    return keep


def recording_sources(incidents: pd.DataFrame, group: QualifiedGroup) -> tuple[str, ...]:
    """The sources of ``incidents`` that record every qualifier ``group`` reads (a value in at least one row).

    A source with no value at all in a column does not record it (police.uk records none): its count
    of the group is "not available", not 0.
    """
    if schema.SOURCE not in incidents.columns or not len(incidents):
        return ()
    src = incidents[schema.SOURCE].astype(str)
    recorded = None
    for name in group.columns:
        has = src[_column(incidents, name).notna().to_numpy()].unique()
        recorded = set(has) if recorded is None else recorded & set(has)
    return tuple(sorted(recorded or ()))


def unknown_mask(incidents: pd.DataFrame, group: QualifiedGroup) -> np.ndarray:
    """Rows of the sources that record ``group``'s qualifiers whose value for one of them is unknown: the
    records the count may miss (given beside it, e.g. "12 records with the victim's sex unknown")."""
    keep: np.ndarray = incidents[schema.SOURCE].isin(recording_sources(incidents, group)).to_numpy()
    unknown = np.zeros(len(incidents), dtype=bool)
    for name in group.columns:
        unknown |= _column(incidents, name).isna().to_numpy()
    return keep & unknown
