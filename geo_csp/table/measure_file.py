"""The partnership's own measures, read from a TOML file (``geo-csp table --measures FILE``).

One table per measure under ``[measures]``; its name in the file is the measure's stable key, and the
order of the file is the order of the rows::

    [measures.burglary]
    name = "Burglaries (residential and business)"   # the row label
    sources = ["police_uk_street"]                    # or source = "police_uk_street"
    crime_types = ["Burglary"]                        # optional: every type of the sources if absent
    kind = "count"                                    # "count", or "rate" (per 1,000 residents)

    [measures.domestic_abuse_rate]
    name = "Domestic abuse per 1,000 residents"
    source = "force_crime"
    group = "domestic"       # a flag group (domestic, knife, vawg, ...) or a group of categories
    kind = "rate"

Keys: ``name``, ``source``/``sources`` and ``kind`` are required; ``crime_types``, ``group``,
``object_of_search`` and ``note`` are optional. A ``group`` of categories (:data:`geo_csp.harm.CRIME_GROUPS`,
e.g. ``"neighbourhood"``) adds its categories to ``crime_types``; a flag group
(:data:`geo_csp.qualifiers.QUALIFIED_GROUPS` or a short name such as ``"domestic"``) counts the records
carrying the flag, from the sources that record it ("not available", never 0, where none does). Crime
types of police.uk sources are checked against the 14 police.uk categories; a partner source's own
categories are taken as written.

Every error names the file, the measure and the key at fault, and says how to fix it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from geo_csp import harm, qualifiers, schema
from geo_csp._errors import ParameterError
from geo_csp._toml import read_toml
from geo_csp.table.measures import DEFAULT_MEASURES, Measure

__all__ = [
    "KINDS",
    "MEASURE_KEYS",
    "extend_measures",
    "measure_file_label",
    "measures_from_dict",
    "measures_from_files",
    "read_measure_file",
]

#: The keys a measure's table may hold (the required ones first).
MEASURE_KEYS = ("name", "source", "sources", "kind", "crime_types", "group", "object_of_search", "note")
#: What ``kind`` may say: a count, or a rate per 1,000 residents.
KINDS = ("count", "rate")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _names(value: Any, *, where: str, key: str) -> tuple[str, ...]:
    """A string or a non-empty list of non-empty strings, as a tuple."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise ParameterError(
            f'{where}: {key} must be a name or a non-empty list of names (e.g. {key} = ["..."]), not {value!r}'
        )
    return tuple(dict.fromkeys(v.strip() for v in items))


def _check_crime_types(types: Iterable[str], sources: Sequence[str], *, where: str) -> None:
    """police.uk sources hold the 14 police.uk categories (and stop and search): a typo would count nothing."""
    if not all(s.startswith("police_uk") for s in sources):
        return  # a partner source's own categories are taken as written
    known = (*schema.CRIME_TYPES, schema.STOP_AND_SEARCH_TYPE)
    for t in types:
        if t not in known:
            close = difflib.get_close_matches(t, known, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            raise ParameterError(
                f'{where}: crime_types has "{t}", which is not a police.uk category; {hint}'
                f"choose from {', '.join(known)}"
            )


def _check_measure_table(key: str, table: Any, *, origin: str, where: str) -> None:
    """Refuse a measure whose key or table shape is wrong (its key, keys, name and kind)."""
    if not _KEY.match(key):
        raise ParameterError(
            f"measures file {origin}: measure key {key!r} must be lower case letters, digits and _ "
            "(e.g. [measures.burglary_rate])"
        )
    if not isinstance(table, dict):
        raise ParameterError(f"{where}: write it as a table, [measures.{key}], with name, sources and kind under it")
    unknown = [k for k in table if k not in MEASURE_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], MEASURE_KEYS, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise ParameterError(f"{where}: unknown key {unknown[0]!r}{hint}; a measure takes {', '.join(MEASURE_KEYS)}")
    for required in ("name", "kind"):
        if required not in table:
            example = 'name = "Burglaries"' if required == "name" else 'kind = "count" (or "rate", per 1,000 residents)'
            raise ParameterError(f"{where}: the key {required!r} is missing; add {example}")
    if not isinstance(table["name"], str) or not table["name"].strip():
        raise ParameterError(
            f'{where}: name must be the row label as text (name = "Burglaries"), not {table["name"]!r}'
        )
    if table["kind"] not in KINDS:
        raise ParameterError(f'{where}: kind must be "count" or "rate" (per 1,000 residents), not {table["kind"]!r}')


def _measure_sources(table: dict[str, Any], *, where: str) -> tuple[str, ...]:
    """The store sources of a measure's ``source`` or ``sources`` (exactly one of them given)."""
    if ("source" in table) == ("sources" in table):
        raise ParameterError(
            f'{where}: give the store source(s) counted once, as source = "police_uk_street" or '
            'sources = ["police_uk_street", ...]'
            + (" (not both)" if "source" in table else " (the key 'sources' is missing)")
        )
    src_key = "source" if "source" in table else "sources"
    sources = _names(table[src_key], where=where, key=src_key)
    bad = [s for s in sources if not _SOURCE.match(s)]
    if bad:
        raise ParameterError(
            f"{where}: {src_key} has {bad[0]!r}, not a store source name (lower case, digits, _ or -, "
            "e.g. police_uk_street, police_uk_stop_search, council_asb); geo-csp status lists a store's sources"
        )
    return sources


def _measure_group(table: dict[str, Any], *, where: str) -> tuple[tuple[str, ...] | None, str | None]:
    """A measure's crime types after its ``group`` (if any), and the flag key of a flag group (else None)."""
    crime_types = _names(table["crime_types"], where=where, key="crime_types") if "crime_types" in table else None
    qualified = None
    if "group" in table:
        group = table["group"]
        flag = qualifiers.qualified_group(group) if isinstance(group, str) else None
        if flag is not None:
            qualified = flag.key
        elif isinstance(group, str) and group in harm.CRIME_GROUPS:
            crime_types = harm.resolve_crime_types(crime_types, group)
        else:
            flags = sorted({*qualifiers.QUALIFIED_GROUPS, *qualifiers.GROUP_ALIASES})
            raise ParameterError(
                f"{where}: group {group!r} is neither a flag group ({', '.join(flags)}) nor a group of "
                f"categories ({', '.join(harm.CRIME_GROUPS)}); choose one, or list crime_types instead"
            )
    return crime_types, qualified


def _measure(key: str, table: Any, *, origin: str) -> Measure:
    where = f"measures file {origin}, measure {key!r}"
    _check_measure_table(key, table, origin=origin, where=where)
    sources = _measure_sources(table, where=where)
    crime_types, qualified = _measure_group(table, where=where)
    if crime_types is not None:
        _check_crime_types(crime_types, sources, where=where)
    searched = (
        _names(table["object_of_search"], where=where, key="object_of_search") if "object_of_search" in table else None
    )
    note = table.get("note", "")
    if not isinstance(note, str):
        raise ParameterError(f'{where}: note must be text (note = "..."), not {note!r}')
    try:
        return Measure(
            key,
            table["name"].strip(),
            sources,
            crime_types,
            object_of_search=searched,
            per_1000=table["kind"] == "rate",
            note=note.strip(),
            qualified=qualified,
        )
    except ParameterError as exc:
        raise ParameterError(f"measures file {origin}: {exc}") from exc


def measures_from_dict(data: dict[str, Any], *, origin: str = "<dict>") -> tuple[Measure, ...]:
    """The measures of a parsed measures file (``{"measures": {key: {...}}}``), in the file's order.

    Parameters
    ----------
    data
        The file's contents as :func:`tomllib.loads` gives them.
    origin
        Where they came from, for the error messages (the file's name).
    """
    other = [k for k in data if k != "measures"]
    if other:
        raise ParameterError(
            f"measures file {origin}: unknown top-level key {other[0]!r}; put every measure under "
            "[measures.<key>] (e.g. [measures.burglary])"
        )
    tables = data.get("measures")
    if not isinstance(tables, dict) or not tables:
        raise ParameterError(
            f"measures file {origin} defines no measure; add one as [measures.burglary] with name, sources and kind"
        )
    return tuple(_measure(str(key), table, origin=origin) for key, table in tables.items())


def read_measure_file(path: str | Path) -> tuple[Measure, ...]:
    """Read a TOML file of measures (see the module docstring).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    tuple of Measure
        In the file's order.

    Raises
    ------
    ParameterError
        The file is missing, not TOML, or a measure has a missing, unknown or bad key (the message names
        the file, the measure and the key, and how to fix it).
    """
    data = read_toml(
        path,
        what="measures file",
        option="--measures",
        error=ParameterError,
        hint='quote text and use key = "value" under [measures.<key>]',
    )
    return measures_from_dict(data, origin=str(path))


def extend_measures(base: Sequence[Measure], added: Sequence[Measure], *, origin: str) -> tuple[Measure, ...]:
    """``base`` followed by ``added``; a key of ``added`` already in ``base`` is an error naming ``origin``."""
    keys = {m.key for m in base}
    for m in added:
        if m.key in keys:
            raise ParameterError(
                f"measures file {origin}, measure {m.key!r}: the table already has a measure with that key; "
                "rename it in the file, or pass the file with --measures to replace the default measures"
            )
        keys.add(m.key)
    return (*base, *added)


def measure_file_label(path: str | Path) -> str:
    """How a measures file is named in a table's metadata and footnotes: its name and sha256 (never its folder)."""
    path = Path(path)
    return f"{path.name} (sha256 {hashlib.sha256(path.read_bytes()).hexdigest()})"


def measures_from_files(
    *, replace: str | Path | None = None, add: Sequence[str | Path] = ()
) -> tuple[tuple[Measure, ...], tuple[str, ...]]:
    """The table's measures: those of ``replace`` (else :data:`~geo_csp.table.DEFAULT_MEASURES`), then
    those of every file of ``add``; and each file's :func:`measure_file_label`, for the metadata.

    Parameters
    ----------
    replace
        A measures file whose measures replace the default ones (``--measures``).
    add
        Measures files whose measures are added after them (``--add-measures``); a key already in the
        table is an error.
    """
    if isinstance(add, (str, Path)):
        raise ParameterError("add must be a list of measures files, not one path")
    measures = DEFAULT_MEASURES if replace is None else read_measure_file(replace)
    labels = [] if replace is None else [f"{measure_file_label(replace)}, replacing the default measures"]
    for path in add:
        measures = extend_measures(measures, read_measure_file(path), origin=str(path))
        labels.append(f"{measure_file_label(path)}, added")
    return measures, tuple(labels)
