"""The ``geo-csp`` command line: one module per family of commands, all on one typer app.

Every command exits 0 on success; a :class:`geo_csp.GeoCspError` (anything wrong with the input
or the options) becomes a one-line message on stderr and exit code 1, as does an operating-system
error (a file that cannot be read or written, a full disk). Only an internal bug prints a traceback,
with a note asking for it to be reported (exit code 2).
"""

from __future__ import annotations

import sys
import traceback

from geo_csp._errors import GeoCspError
from geo_csp.cli import (  # noqa: F401 - each command module registers its commands on ``app`` when imported
    comparator_cmd,
    config_cmd,
    demo_cmd,
    evidence_cmd,
    hotspots_cmd,
    ingest_cmd,
    planning_cmd,
    roads_cmd,
    scale_cmd,
    tasking_cmd,
    when_cmd,
)
from geo_csp.cli._app import app


def main() -> None:
    """Entry point of the ``geo-csp`` console script."""
    try:
        app(standalone_mode=True)
    except GeoCspError as exc:
        print(f"geo-csp: error: {_one_line(str(exc))}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("geo-csp: interrupted (a store being written is left as it was before)", file=sys.stderr)
        sys.exit(130)
    except MemoryError:
        print("geo-csp: error: out of memory; give fewer or smaller files at a time", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"geo-csp: error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print(
            "geo-csp: internal error: this is a bug in geo-csp, not a problem with your input; please"
            " report it with the command you ran and the traceback above",
            file=sys.stderr,
        )
        sys.exit(2)


def _one_line(text: str) -> str:
    """A message on one line (values quoted from a file may hold line breaks)."""
    return " ".join(text.split("\n")) if "\n" in text else text


__all__ = ["app", "main"]
