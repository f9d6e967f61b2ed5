"""The shared typer application and console every ``geo-csp`` command registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="geo-csp",
    help="Hotspots, partner coverage, plans and evidence for Community Safety Partnerships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Human-readable output goes to stderr so that stdout stays clean for --json.
console = Console(stderr=True)
out = Console()


@app.command()
def version() -> None:
    """Print the geo-csp version."""
    from geo_csp import __version__

    out.print(__version__)
