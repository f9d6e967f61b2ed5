"""Reading the TOML files geo-csp takes (column mappings, measures): one set of errors for a missing,
undecodable or malformed file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from geo_csp._errors import GeoCspError

__all__ = ["read_toml"]


def read_toml(path: str | Path, *, what: str, option: str, error: type[GeoCspError], hint: str) -> dict[str, Any]:
    """The contents of a TOML file, or ``error`` naming the file (``what`` it is, the ``option`` that gave it)
    and how to fix it (``hint``: how to write valid TOML of that kind).

    Parameters
    ----------
    path
        The file.
    what
        What the file is, as a message starts ("mapping file").
    option
        The command-line option that names it (``--mapping``).
    error
        The exception class raised.
    hint
        How to write it, after "is not valid TOML (...); " ('quote strings and use key = "value"').
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise error(f"{what} {path} does not exist; check the {option} path") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text; save it as UTF-8") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML ({exc}); {hint}") from exc
