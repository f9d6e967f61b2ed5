"""The one exception hierarchy of geo-csp.

Every error the library raises on purpose is a :class:`GeoCspError`. Subclasses also inherit the
matching built-in (``ValueError``, ``FileNotFoundError``, ...) so a caller can catch either, as h3-py
does. Messages name the file, row or argument at fault and say how to fix it.
"""

from __future__ import annotations


class GeoCspError(Exception):
    """Base class of every error geo-csp raises on purpose."""


class InputFileError(GeoCspError, ValueError):
    """A whole input file cannot be read (wrong header, truncated archive, not a CSV, ...).

    Nothing of the file is written to the store.
    """


class SchemaError(GeoCspError, ValueError):
    """A table lacks required columns or has columns of the wrong kind."""


class MappingError(GeoCspError, ValueError):
    """A column-mapping file for a partner extract is missing or inconsistent."""


class CRSError(GeoCspError, ValueError):
    """Inputs are in the wrong or in mismatched coordinate reference systems."""


class StoreError(GeoCspError, RuntimeError):
    """The incident store is missing, locked or inconsistent."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store exists at the given path."""


class ParameterError(GeoCspError, ValueError):
    """An option or parameter object has an invalid value."""


class DenominatorError(GeoCspError, ValueError):
    """A rate was asked for a unit that has no population denominator."""


class DisclosureError(GeoCspError, PermissionError):
    """A sensitive output was asked for in public mode."""


class NetworkError(GeoCspError, RuntimeError):
    """A street network is missing or cannot be routed on."""


class LayerError(GeoCspError, ValueError):
    """A partner layer file (CCTV, routes, operations, hubs) is invalid."""
