"""The package's structure, read from its imports (lazy ones too): layers point down, no circle, no private name."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import geo_csp

PACKAGE = Path(geo_csp.__file__).parent
LAYERS = [  # each module may import only from its own layer or the ones before it
    {
        "settings",
        "schema",
        "cluster",
        "periods",
        "qualifiers",
        "column_mapping",
        "roads",
        "store",
        "ingest",
        "sources",
        "grid",
        "boundaries",
        "geography",
        "harm",
        "weights",
        "national_demo",
        "demo",
    },  # data
    {
        "cube",
        "trends",
        "hotspots",
        "areas",
        "hotspot_run",
        "predict",
        "backtest",
        "review",
        "timeprofile",
        "nearrepeat",
        "ward_summary",
        "runcache",
    },  # analysis
    {"layers", "coverage", "routes", "priorities"},  # planning
    {
        "disclosure",
        "display",
        "story",
        "figures",
        "maps",
        "table",
        "comparator",
        "evidence",
        "tasking",
        "export",
    },  # outputs
    {"cli", "app"},  # shells
]
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _layer(module: str) -> int:
    """A module's layer; the package's private helpers (``_errors``, ``_escape``, ...) are at the bottom."""
    return 0 if module.startswith("_") else LAYER[module]


def _own_private_module(module: str, name: str, here: str) -> bool:
    """Whether ``from module import name`` names a private module of the package ``here`` is in (as
    ``from geo_csp.ingest import _limits`` inside ``geo_csp.ingest``), or ``here`` is that module itself."""
    if module == here:
        return True
    folder = PACKAGE.parent.joinpath(*module.split("."))
    is_module = (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()
    return is_module and (here == module or here.startswith(module + "."))


def _from_import(
    node: ast.ImportFrom,
    *,
    own: str,
    here: str,
    rel: Path,
    targets: set[str],
    private: list[str],
    aliases: set[str],
) -> None:
    """Add what ``from geo_csp... import ...`` brings in: its top-level modules to ``targets``, a private name
    of another module to ``private``, and the names that stand for other modules to ``aliases``."""
    parts = (node.module or "").split(".")
    for alias in node.names:
        target = parts[1] if len(parts) > 1 else alias.name
        if target.startswith("__"):
            continue
        targets.add(target)
        if alias.name.startswith("_") and not _own_private_module(node.module or "", alias.name, here):
            private.append(f"{rel}: from {node.module} import {alias.name}")
        if len(parts) == 1 or target != own:
            aliases.add(alias.asname or alias.name)


def _imports() -> tuple[dict[str, set[str]], list[str]]:
    """Top-level module -> the top-level modules it imports, and every private name used across modules."""
    graph: dict[str, set[str]] = {}
    private = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts == ("__init__.py",) or (
            len(rel.parts) > 1 and not (PACKAGE / rel.parts[0] / "__init__.py").exists()
        ):
            continue  # the package's own __init__, and scripts in data folders (e.g. app assets)
        own = rel.parts[0].removesuffix(".py")
        here = ".".join(("geo_csp", *rel.with_suffix("").parts)).removesuffix(".__init__")
        graph.setdefault(own, set())
        aliases = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geo_csp"):
                _from_import(node, own=own, here=here, rel=rel, targets=graph[own], private=private, aliases=aliases)
            elif isinstance(node, ast.Import):
                graph[own].update(a.name.split(".")[1] for a in node.names if a.name.startswith("geo_csp."))
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                private.append(f"{rel}: {node.value.id}.{node.attr}")
        graph[own].discard(own)
    return graph, private


def test_layers_point_down_without_a_circle_or_a_private_name() -> None:
    graph, private = _imports()
    assert sorted(m for m in graph if not m.startswith("_") and m not in LAYER) == []  # give a new module a layer
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets if _layer(t) > _layer(m))
    assert upward == []
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from exc
    assert private == []
