"""What is counted: the one rule every analysis, command and app page uses to choose incident sources.

A hotspot map counts what victims and witnesses report, not what the police go out and find. So by
default every analysis counts **police.uk street records only** (``police_uk_street``, victim-reported
crime and ASB as police.uk publishes it). The other kinds of record a store can hold are counted only
when asked for by name (``sources=[...]``, ``--source NAME``, the app's Sources box), or all at once
with ``"all"``:

- **enforcement-generated** records: police.uk stop and search (``police_uk_stop_search``). They
  measure where officers were deployed: half the demo's searches fall in the town centre where an
  operation ran, so counting them inflates the hotspot that justified the operation;
- **second recording channels**: partner sources such as a council's ASB reports. They record many of
  the incidents police.uk already holds, so adding them to police.uk counts (``group="asb"`` over
  police and council ASB) counts some incidents twice.

police.uk's *Drugs* and *Possession of weapons* are mostly found by police activity (a search, a
patrol), not reported; police.uk carries no flag saying which were. They are counted by default (they
are street records) and ``exclude_proactive=True`` (``--exclude-proactive``) leaves them out. Harm
indices treat them separately (:mod:`geo_csp.harm`: CCHI excludes proactively found offences).

A run whose sources are of more than one kind is *mixed*: :class:`SourceSelection` says so in its
``note`` and ``mixed``, which go into every output's metadata (``metadata["counted"]``), onto the
command line and onto the app's sidebar.

A store without police.uk street records (a partner-only store) counts every source it holds that is
not enforcement-generated, and the note says so.

Patrol timing ("when to go") needs a time of day, which police.uk never gives: :func:`timing_incidents`
keeps the timed records of victim-reported sources only (never stop and search, never proactively found
offences), so a plan never recommends evening patrols because searches happened in the evening.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from geo_csp import qualifiers, schema, store

__all__ = [
    "ALL",
    "DEFAULT_SOURCES",
    "ENFORCEMENT_SOURCES",
    "PROACTIVE_CRIME_TYPES",
    "SourceSelection",
    "counted_crime_types",
    "dwelling_violence",
    "held_sources",
    "resolve_sources",
    "select_sources",
    "source_kind",
    "timing_incidents",
]

SourceKind = Literal["victim_reported", "enforcement", "second_channel"]
#: The word that selects every source the data holds.
ALL: Final = "all"
#: What every analysis counts unless told otherwise.
DEFAULT_SOURCES: Final = (schema.SOURCE_STREET,)
#: Records made by police activity, not by a report.
ENFORCEMENT_SOURCES: Final = frozenset({schema.SOURCE_STOP_SEARCH})
#: police.uk street categories mostly found by police activity (no flag says which were).
PROACTIVE_CRIME_TYPES: Final = ("Drugs", "Possession of weapons")
_KIND_TEXT: Final = {
    "victim_reported": "victim-reported police.uk street records",
    "enforcement": "enforcement-generated records, where officers searched rather than where crime was reported",
    "second_channel": "a second recording channel, partner records that may repeat incidents police.uk holds",
}
_MIX_TEXT: Final = {
    "enforcement": "enforcement activity inflates the places officers were sent to",
    "second_channel": "a second channel counts some incidents twice where both recorded them",
}


def source_kind(source: str) -> SourceKind:
    """``"victim_reported"`` (police.uk street), ``"enforcement"`` (stop and search) or ``"second_channel"``."""
    if source == schema.SOURCE_STREET:
        return "victim_reported"
    if source in ENFORCEMENT_SOURCES:
        return "enforcement"
    return "second_channel"


@dataclass(frozen=True)
class SourceSelection:
    """The sources a run counts and why (see the module docstring).

    Attributes
    ----------
    sources
        The source names counted, sorted; ``None`` when the data have no ``source`` column (every
        row is counted).
    requested
        The sources asked for (``None``: the default).
    exclude_proactive
        Whether police.uk Drugs and Possession of weapons are left out.
    note
        One sentence saying what is counted, for metadata and screens.
    """

    sources: tuple[str, ...] | None
    requested: tuple[str, ...] | None
    exclude_proactive: bool
    note: str

    @property
    def kinds(self) -> dict[str, SourceKind]:
        """Kind of each counted source."""
        return {s: source_kind(s) for s in self.sources or ()}

    @property
    def mixed(self) -> bool:
        """Whether the counted sources are of more than one kind."""
        return len(set(self.kinds.values())) > 1

    @property
    def is_default(self) -> bool:
        """Whether this is the default selection (nothing asked for)."""
        return self.requested is None and not self.exclude_proactive

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``metadata["counted"]``."""
        return {
            "sources": list(self.sources) if self.sources is not None else None,
            "requested": list(self.requested) if self.requested is not None else None,
            "kinds": self.kinds,
            "mixed": self.mixed,
            "exclude_proactive": self.exclude_proactive,
            "proactive_crime_types": list(PROACTIVE_CRIME_TYPES),
            "note": self.note,
        }


def _note(sources: tuple[str, ...], *, default: bool, fallback: bool, exclude_proactive: bool) -> str:
    kinds = {s: source_kind(s) for s in sources}
    if fallback:
        head = (
            f"counting {', '.join(sources)}: the data hold no police.uk street records, so every source "
            "that is not enforcement-generated is counted"
        )
    elif default:
        head = (
            "counting victim-reported police.uk street records only (the default; stop and search and "
            "partner sources are counted only when asked for)"
        )
    else:
        head = "counting " + "; ".join(f"{s} ({_KIND_TEXT[k]})" for s, k in kinds.items())
    if len(set(kinds.values())) > 1:
        why = "; ".join(_MIX_TEXT[k] for k in ("enforcement", "second_channel") if k in kinds.values())
        head = f"MIXED SOURCES: {head}. The counts mix kinds of record: {why}"
    if schema.SOURCE_STREET in sources:
        head += "; police.uk Drugs and Possession of weapons (mostly found by police activity) are " + (
            "left out" if exclude_proactive else "included (exclude_proactive / --exclude-proactive leaves them out)"
        )
    return head


def resolve_sources(
    requested: Iterable[str] | None = None,
    *,
    available: Iterable[str] | None = None,
    exclude_proactive: bool = False,
) -> SourceSelection:
    """The sources a run counts, from what was asked for and what the data hold.

    Parameters
    ----------
    requested
        Source names, or ``["all"]`` for every source in ``available``; ``None`` (or empty) for the
        default, :data:`DEFAULT_SOURCES`.
    available
        The sources the data hold (``None``: unknown, the default is used as is). Without police.uk
        street records the default is every held source that is not enforcement-generated.
    exclude_proactive
        Leave out police.uk Drugs and Possession of weapons (see :func:`counted_crime_types`).

    Returns
    -------
    SourceSelection
    """
    asked = (
        None
        if requested is None
        else tuple(dict.fromkeys(str(s) for s in ([requested] if isinstance(requested, str) else requested)))
    )
    asked = asked or None
    held = None if available is None else sorted({str(s) for s in available})
    fallback = False
    if asked is None:
        chosen: tuple[str, ...] = DEFAULT_SOURCES
        if held and schema.SOURCE_STREET not in held:
            chosen = tuple(s for s in held if source_kind(s) != "enforcement") or tuple(held)
            fallback = True
    elif ALL in asked:
        chosen = tuple(held) if held else tuple(s for s in asked if s != ALL) or DEFAULT_SOURCES
    else:
        chosen = asked
    chosen = tuple(sorted(chosen))
    return SourceSelection(
        sources=chosen,
        requested=asked,
        exclude_proactive=bool(exclude_proactive),
        note=_note(
            chosen, default=asked is None and not fallback, fallback=fallback, exclude_proactive=exclude_proactive
        ),
    )


def counted_crime_types(types: Iterable[str] | None, selection: SourceSelection) -> tuple[str, ...] | None:
    """The crime-type filter after the selection's proactive rule (``None``: no filter).

    With ``exclude_proactive`` the police.uk Drugs and Possession of weapons categories are taken out
    of ``types`` (or of every category, stop and search included, when ``types`` is ``None``).
    """
    if not selection.exclude_proactive:
        return None if types is None else tuple(types)
    pool = tuple(types) if types is not None else (*schema.CRIME_TYPES, schema.STOP_AND_SEARCH_TYPE)
    return tuple(t for t in pool if t not in PROACTIVE_CRIME_TYPES)


def timing_incidents(incidents: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The incidents that may say *when* to patrol, and the sources they come from.

    Keeps rows with a time of day (``occurred_at``) from sources that are not enforcement-generated,
    and leaves out proactively found offences (:data:`PROACTIVE_CRIME_TYPES`) and stop and search
    rows whatever their source. police.uk street records never have a time of day, so the timing
    comes from partner reports (a council's ASB line, say) when a store holds them.

    Returns
    -------
    (pandas.DataFrame, tuple of str)
        The timed rows (a subset of ``incidents``, same columns) and the sorted names of their sources.
    """
    if schema.OCCURRED_AT not in incidents.columns:
        return incidents.iloc[:0], ()
    keep = incidents[schema.OCCURRED_AT].notna().to_numpy(dtype=bool, copy=True)
    if schema.SOURCE in incidents.columns:
        keep &= ~incidents[schema.SOURCE].isin(list(ENFORCEMENT_SOURCES)).to_numpy()
    if schema.CRIME_TYPE in incidents.columns:
        keep &= ~incidents[schema.CRIME_TYPE].isin([*PROACTIVE_CRIME_TYPES, schema.STOP_AND_SEARCH_TYPE]).to_numpy()
    timed = incidents[keep]
    names = tuple(sorted(timed[schema.SOURCE].astype(str).unique())) if schema.SOURCE in timed.columns else ()
    return timed, names


#: Location labels that place an incident inside a home (partner extracts; police.uk labels are streets).
DWELLING_LABEL: Final = r"(?i)\b(?:dwelling|private (?:house|residence|property)|residential (?:property|premises)|inside (?:the )?home|house|flat|home address)\b"
#: Categories a public-space view leaves out where the label places them in a home.
PRIVATE_SPACE_CATEGORIES: Final = ("Violence and sexual offences",)


def dwelling_violence(incidents: pd.DataFrame) -> np.ndarray:
    """Rows of violence whose location label places them in a dwelling (foot patrol cannot reach them).

    police.uk labels are "On or near <street>" snap points and never say so: for police.uk rows this
    is all False, and a public-space view changes nothing. Partner extracts with a location label
    ("Dwelling", "Private house") allow it.
    """
    if schema.LOCATION not in incidents.columns or schema.CRIME_TYPE not in incidents.columns:
        return np.zeros(len(incidents), dtype=bool)
    labels = incidents[schema.LOCATION].astype("string")
    inside = labels.str.contains(DWELLING_LABEL, regex=True).fillna(False).to_numpy(dtype=bool)
    out: np.ndarray = inside & incidents[schema.CRIME_TYPE].isin(list(PRIVATE_SPACE_CATEGORIES)).to_numpy()
    return out


def held_sources(incidents: Any) -> list[str] | None:
    """The distinct sources of an incident DataFrame or a store folder; ``None`` when not known (no
    ``source`` column, or a Dask DataFrame)."""
    if isinstance(incidents, pd.DataFrame):
        if schema.SOURCE not in incidents.columns:
            return None
        return sorted(np.unique(incidents[schema.SOURCE].dropna().astype(str).to_numpy()).tolist())
    if isinstance(incidents, (str, Path)):
        return list(store.store_status(incidents)["sources"])
    return None


def _recording_sources(incidents: Any, group: qualifiers.QualifiedGroup) -> tuple[str, ...]:
    """The sources of a DataFrame or store folder that record ``group``'s qualifiers (``()`` if not known)."""
    if isinstance(incidents, (str, Path)):
        incidents = store.read_incidents(incidents, located_only=True, columns=[schema.SOURCE, *group.columns])
    if not isinstance(incidents, pd.DataFrame) or schema.SOURCE not in incidents.columns:
        return ()
    return qualifiers.recording_sources(incidents, group)


def select_sources(
    incidents: Any,
    requested: Iterable[str] | None = None,
    *,
    exclude_proactive: bool = False,
    group: str | None = None,
) -> SourceSelection:
    """:func:`resolve_sources` against what ``incidents`` (a DataFrame or a store folder) hold.

    A DataFrame without a ``source`` column is counted whole (``sources`` is ``None``) unless sources
    were asked for, and the note says so. For a flag group (``group="domestic"``,
    :func:`geo_csp.qualifiers.qualified_group`) the default is the sources that record its qualifiers
    (police.uk records none); with none, the usual default stands and the cube refuses the group.
    """
    if isinstance(incidents, pd.DataFrame) and schema.SOURCE not in incidents.columns and not requested:
        return SourceSelection(
            sources=None,
            requested=None,
            exclude_proactive=bool(exclude_proactive),
            note="the incidents have no source column: every row is counted",
        )
    flagged = qualifiers.qualified_group(group)
    recording = _recording_sources(incidents, flagged) if flagged is not None and not requested else ()
    if flagged is not None and recording:
        chosen = resolve_sources(recording, available=held_sources(incidents), exclude_proactive=exclude_proactive)
        return replace(
            chosen,
            requested=None,
            note=f"{flagged.label}: counting the sources that record {' and '.join(flagged.columns)} "
            f"({', '.join(recording)}; police.uk records no qualifier); {chosen.note}",
        )
    return resolve_sources(requested, available=held_sources(incidents), exclude_proactive=exclude_proactive)
