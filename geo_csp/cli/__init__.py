"""The ``geo-csp`` command line: one module per family of commands, all on one typer app.

Every command exits 0 on success; a :class:`geo_csp.GeoCspError` becomes a one-line message on
stderr and exit code 1.
"""

from __future__ import annotations

import importlib
import sys

from geo_csp._errors import GeoCspError
from geo_csp.cli._app import app

# Command modules register themselves on ``app`` when imported. A module that is not there yet
# (during development) is skipped rather than breaking the other commands.
_COMMAND_MODULES = (
    "ingest_cmd",
    "demo_cmd",
    "hotspots_cmd",
    "planning_cmd",
    "evidence_cmd",
    "scale_cmd",
    "config_cmd",
)
for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(f"geo_csp.cli.{_name}")
    except ModuleNotFoundError as exc:  # pragma: no cover - only while a module is absent
        if exc.name != f"geo_csp.cli.{_name}":
            raise


def main() -> None:
    """Entry point of the ``geo-csp`` console script."""
    try:
        app(standalone_mode=True)
    except GeoCspError as exc:
        print(f"geo-csp: error: {exc}", file=sys.stderr)
        sys.exit(1)


__all__ = ["app", "main"]
