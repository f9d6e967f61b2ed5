"""What an ingest did: the report of each input file and of the whole run (the ``--json`` contract)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ProgressCallback = Callable[[int, int, str], None]


"""``progress(files_done, files_total, path)``, called after each input file."""


SKIPPED_STATUS = "skipped: already in store"


@dataclass(frozen=True)
class FileReport:
    """What happened to one input file."""

    path: str
    rows_read: int
    accepted: int
    unlocated: int
    quarantined: int
    reasons: dict[str, int]
    status: str = "ingested"
    file_id: str = ""
    source: str = ""
    forces: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    superseded: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.rows_read != self.accepted + self.quarantined:
            raise ValueError(f"{self.path}: rows read != accepted + quarantined (a bug)")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract entry (extra keys after the contract ones)."""
        return {
            "path": self.path,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "unlocated": self.unlocated,
            "quarantined": self.quarantined,
            "reasons": dict(self.reasons),
            "status": self.status,
            "file_id": self.file_id,
            "source": self.source,
            "forces": list(self.forces),
            "months": list(self.months),
            "superseded": [dict(s) for s in self.superseded],
        }


@dataclass(frozen=True)
class IngestReport:
    """The result of :func:`ingest_paths`; ``to_dict()`` is the ``--json`` contract."""

    files: tuple[FileReport, ...]
    store_dir: str
    notes: tuple[str, ...] = ()
    report_path: str | None = None

    @property
    def totals(self) -> dict[str, Any]:
        """Sums over files, with the same keys as each file entry."""
        reasons: dict[str, int] = {}
        for f in self.files:
            for code, n in f.reasons.items():
                reasons[code] = reasons.get(code, 0) + n
        return {
            "rows_read": sum(f.rows_read for f in self.files),
            "accepted": sum(f.accepted for f in self.files),
            "unlocated": sum(f.unlocated for f in self.files),
            "quarantined": sum(f.quarantined for f in self.files),
            "reasons": dict(sorted(reasons.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        """``{"files": [...], "totals": {...}}`` plus ``store``, ``notes`` and ``report``."""
        return {
            "files": [f.to_dict() for f in self.files],
            "totals": self.totals,
            "store": self.store_dir,
            "notes": list(self.notes),
            "report": self.report_path,
        }
