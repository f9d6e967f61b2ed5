"""The measures of the partnership table: small frozen objects, data rather than code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geo_csp import qualifiers, schema
from geo_csp._errors import ParameterError

__all__ = ["DEFAULT_MEASURES", "FULL_CATEGORY_SOURCES", "Measure", "measures_from_sources"]

_CRIMES = tuple(t for t in schema.CRIME_TYPES if t != "Anti-social behaviour")

#: Sources that publish every police.uk category each month, so a category with no row is a true zero.
FULL_CATEGORY_SOURCES = (schema.SOURCE_STREET, schema.SOURCE_STOP_SEARCH)


@dataclass(frozen=True)
class Measure:
    """One row of the partnership table.

    Parameters
    ----------
    key
        Stable identifier (``"burglary"``).
    label
        Row label as printed.
    sources
        Store sources counted (``"police_uk_street"``, a partner source name, ...).
    crime_types
        ``crime_type`` values counted; ``None`` for every type of the sources.
    object_of_search
        Stop-and-search ``object_of_search`` values counted; ``None`` for no filter.
    per_1000
        Report a rate per 1,000 residents instead of a count.
    qualified
        A key of :data:`geo_csp.qualifiers.QUALIFIED_GROUPS` (``"domestic_abuse"``, ``"knife_crime"``,
        ``"vawg"``): count only the rows of that group, from the sources that record its qualifiers; a
        source that records none (police.uk) makes the measure "not available", never 0.
    note
        What the measure counts, for the footnote (e.g. what police.uk cannot separate).
    """

    key: str
    label: str
    sources: tuple[str, ...]
    crime_types: tuple[str, ...] | None = None
    object_of_search: tuple[str, ...] | None = None
    per_1000: bool = False
    note: str = ""
    qualified: str | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.label:
            raise ParameterError("a Measure needs a non-empty key and label")
        if self.qualified is not None and self.qualified not in qualifiers.QUALIFIED_GROUPS:
            raise ParameterError(
                f"Measure {self.key!r}: qualified must be one of {sorted(qualifiers.QUALIFIED_GROUPS)}, "
                f"not {self.qualified!r}"
            )
        for name in ("sources", "crime_types", "object_of_search"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, str) or not len(value)):
                raise ParameterError(f"Measure {self.key!r}: {name} must be a non-empty tuple of names, not {value!r}")

    def describe(self) -> str:
        """Sources and filters in words."""
        parts = [f"sources {', '.join(self.sources)}"]
        if self.crime_types is not None:
            parts.append("crime types " + ", ".join(f'"{t}"' for t in self.crime_types))
        if self.object_of_search is not None:
            parts.append("object of search " + ", ".join(f'"{t}"' for t in self.object_of_search))
        if self.qualified is not None:
            parts.append(qualifiers.QUALIFIED_GROUPS[self.qualified].definition)
        text = f"{self.label}: " + "; ".join(parts) + (" (per 1,000 residents)" if self.per_1000 else "")
        return text + (f". {self.note}" if self.note else "")

    def mask(self, incidents: pd.DataFrame) -> np.ndarray:
        """Which rows of ``incidents`` (store schema) the measure counts, wherever and whenever they are."""
        mask: np.ndarray = incidents[schema.SOURCE].isin(self.sources).to_numpy().copy()
        if self.crime_types is not None:
            mask = mask & incidents[schema.CRIME_TYPE].isin(self.crime_types).to_numpy()
        if self.object_of_search is not None:
            mask = mask & incidents[schema.OBJECT_OF_SEARCH].isin(self.object_of_search).to_numpy()
        if self.qualified is not None:
            group = qualifiers.QUALIFIED_GROUPS[self.qualified]
            recording = qualifiers.recording_sources(incidents, group)
            mask = mask & qualifiers.group_mask(incidents, group) & incidents[schema.SOURCE].isin(recording).to_numpy()
        return mask

    def recorded(self, incidents: pd.DataFrame) -> bool:
        """Whether the measure's sources record its qualifiers (always True without ``qualified``)."""
        if self.qualified is None:
            return True
        group = qualifiers.QUALIFIED_GROUPS[self.qualified]
        return bool(set(qualifiers.recording_sources(incidents, group)) & set(self.sources))


DEFAULT_MEASURES: tuple[Measure, ...] = (
    Measure(
        "all_crime_rate",
        "All crimes per 1,000 residents",
        (schema.SOURCE_STREET,),
        _CRIMES,
        per_1000=True,
        note="police.uk street-level crimes, anti-social behaviour excluded",
    ),
    Measure(
        "violence_rate",
        "Violent crime per 1,000 residents",
        (schema.SOURCE_STREET,),
        ("Violence and sexual offences",),
        per_1000=True,
        note='police.uk "Violence and sexual offences"',
    ),
    Measure(
        "burglary",
        "Burglaries (residential and business)",
        (schema.SOURCE_STREET,),
        ("Burglary",),
        note='police.uk "Burglary": police.uk does not separate residential from business burglary, '
        "so this counts both",
    ),
    Measure("asb_police", "ASB incidents (police)", (schema.SOURCE_STREET,), ("Anti-social behaviour",)),
    Measure(
        "asb_council",
        "ASB reports to the council",
        ("council_asb",),
        note="the council's ASB case extract (partner data)",
    ),
    Measure("drugs", "Drug offences", (schema.SOURCE_STREET,), ("Drugs",)),
    Measure(
        "drug_searches",
        "Drug-related stop searches",
        (schema.SOURCE_STOP_SEARCH,),
        (schema.STOP_AND_SEARCH_TYPE,),
        object_of_search=("Controlled drugs",),
    ),
    Measure("weapons", "Possession of weapons offences", (schema.SOURCE_STREET,), ("Possession of weapons",)),
)


def measures_from_sources(measures: Sequence[Measure], sources: Sequence[str]) -> tuple[Measure, ...]:
    """``measures`` with police.uk street counts taken from ``sources`` (other sources holding police.uk categories).

    Measures counted from :data:`geo_csp.schema.SOURCE_STREET` alone count ``sources`` instead, with
    a note saying so; other measures (stop searches, council reports) are unchanged.
    """
    if isinstance(sources, str) or not len(sources):
        raise ParameterError(f"sources must be a non-empty list of store source names, not {sources!r}")
    names = tuple(dict.fromkeys(str(s) for s in sources))
    note = (
        f"Counted from {', '.join(names)} (a source holding police.uk crime categories) instead of "
        "police.uk street-level files"
    )
    return tuple(
        replace(m, sources=names, note=f"{m.note}. {note}" if m.note else note)
        if m.sources == (schema.SOURCE_STREET,)
        else m
        for m in measures
    )
