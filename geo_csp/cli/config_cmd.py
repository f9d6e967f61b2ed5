"""``geo-csp configure``: name a store's borough and its geography (outline, wards, LSOAs, population, places).

Every file is checked when it is configured (readable, polygons with a CRS, the named columns present,
population codes matching the wards or LSOAs), so that a mistake shows here, naming the file and the
fix, rather than later inside ``geo-csp table`` or ``evidence``. Paths go into the store's
``config.json`` relative to the store when the file lies inside it, else absolute; the new keys are
merged into the existing config and written atomically (:func:`geo_csp.store.update_store_config`).

Heavy libraries (geopandas, pandas) are imported inside the command, so ``geo-csp --help`` stays light.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from geo_csp import settings
from geo_csp._errors import ParameterError
from geo_csp.cli._app import app, console, out

if TYPE_CHECKING:
    import geopandas as gpd

#: Columns tried, in order, as the code column of a ``--population`` CSV when none is named.
POPULATION_CODE_COLUMNS = ("ward_code", "lsoa_code", "gss_code", "code")
#: Keys ``--unset`` may clear.
UNSETTABLE = (
    "borough",
    "label",
    "boundary",
    "wards",
    "lsoas",
    "population",
    "named_places",
    "areas",
    "comparators",
    "stats19",
)

_FileOpt = Path | None
#: The unit files a store configures: wards and LSOAs.
_UnitFile = Literal["ward", "lsoa"]


def _units(path: Path, *, kind: _UnitFile, code_col: str, name_col: str, option: str) -> gpd.GeoDataFrame:
    """A ward/LSOA file read and checked (polygons, CRS, columns); errors name the option and the fix."""
    from geo_csp import boundaries
    from geo_csp._errors import SchemaError

    try:
        return boundaries.read_boundary(path, code_col=code_col, name_col=name_col, kind=kind)
    except SchemaError as exc:
        raise ParameterError(
            f"{option} {path}: {exc}; name its code and name columns with --{kind}-code-col and --{kind}-name-col"
        ) from exc


def _population(path: Path, code_col: str | None, population_col: str) -> tuple[Any, str]:
    """The population Series of a CSV and the code column used (named, or the first known one present)."""
    import pandas as pd

    from geo_csp import boundaries

    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except FileNotFoundError as exc:
        raise ParameterError(
            f"--population {path} does not exist; give a CSV with a code and a population column"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ParameterError(f"--population {path} is not a readable CSV ({exc})") from exc
    code = code_col or next((c for c in POPULATION_CODE_COLUMNS if c in header), None)
    if code is None or code not in header:
        raise ParameterError(
            f"--population {path} has columns {header} and no code column "
            f"{code_col or '(' + ', '.join(POPULATION_CODE_COLUMNS) + ')'}; name it with "
            "--population-code-col"
        )
    if population_col not in header:
        raise ParameterError(
            f"--population {path} has columns {header} and no {population_col!r}; name the "
            "residents column with --population-col"
        )
    return boundaries.read_population(path, code_col=code, population_col=population_col), code


def _match_population(pop: Any, code: str, path: Path, units: dict[str, tuple[gpd.GeoDataFrame, str]]) -> str:
    """The unit (``"ward"``/``"lsoa"``) whose codes the population covers; an error when any unit lacks one."""
    if not units:
        raise ParameterError(
            f"--population {path} needs the units it counts: give --wards or --lsoas "
            "(now or in an earlier geo-csp configure)"
        )
    codes = set(pop.index.astype(str))
    found = {kind: frame[f"{kind}_code"].astype(str).isin(codes).to_numpy() for kind, (frame, _) in units.items()}
    kind = max(found, key=lambda k: found[k].mean())
    frame, source = units[kind]
    have = found[kind]
    if not have.any():
        raise ParameterError(
            f"--population {path}: none of its {code!r} codes (e.g. {', '.join(list(codes)[:3])}) "
            f"is a {kind} code of {source} (e.g. {', '.join(frame[f'{kind}_code'].astype(str)[:3])}); "
            "use a population file for the same units, or --population-code-col"
        )
    if not have.all():
        lacking = frame.loc[~have, f"{kind}_name"].astype(str).tolist()
        raise ParameterError(
            f"--population {path}: {len(lacking)} of the {len(frame)} {kind}s of {source} have no row in it "
            f"(its {code!r} codes do not include them; e.g. {', '.join(lacking[:5])}): use a population file on "
            f"the same {kind} boundaries (same year), or configure without --population (rates then show "
            '"not available")'
        )
    return kind


def _areas(path: Path) -> gpd.GeoDataFrame:
    """A comparator areas file checked: polygons with a CRS and area_code, area_name, numeric population."""
    import pandas as pd

    from geo_csp import boundaries, schema
    from geo_csp.table import AREA_CODE, AREA_NAME

    frame = boundaries.load_borough(path)
    missing = [c for c in (AREA_CODE, AREA_NAME, schema.POPULATION) if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"--areas {path} has no column(s) {missing} (it has {list(frame.columns)}); "
            f"each area needs {AREA_CODE}, {AREA_NAME} and {schema.POPULATION}"
        )
    bad = pd.to_numeric(frame[schema.POPULATION], errors="coerce").isna()
    if bad.any():
        raise ParameterError(
            f"--areas {path}: area {frame.loc[bad, AREA_NAME].iloc[0]!r} has no numeric population; "
            "fill its population column"
        )
    return frame


def _in_areas(areas: gpd.GeoDataFrame, name: str) -> bool:
    from geo_csp.table import AREA_CODE, AREA_NAME

    key = str(name).lower()
    return bool(
        ((areas[AREA_NAME].astype(str).str.lower() == key) | (areas[AREA_CODE].astype(str).str.lower() == key)).any()
    )


def configure_changes(
    store_dir: Path,
    config: dict[str, Any],
    *,
    borough: str | None = None,
    boundary: _FileOpt = None,
    wards: _FileOpt = None,
    ward_code_col: str = "ward_code",
    ward_name_col: str = "ward_name",
    lsoas: _FileOpt = None,
    lsoa_code_col: str = "lsoa_code",
    lsoa_name_col: str = "lsoa_name",
    population: _FileOpt = None,
    population_code_col: str | None = None,
    population_col: str = "population",
    named_places: _FileOpt = None,
    areas: _FileOpt = None,
    comparators: list[str] | None = None,
    label: str | None = None,
    district: str | None = None,
) -> dict[str, Any]:
    """The config keys these options set, every file checked against the others (given or already configured).

    Raises
    ------
    ParameterError, InputFileError, CRSError
        A file that cannot be used, with what to do.
    """
    from geo_csp import boundaries, store

    def rel(path: str | Path) -> str:
        return store.path_for_config(store_dir, path)

    changes = _name_changes(borough=borough, label=label)
    changes |= _boundary_changes(store_dir, config, boundary=boundary, district=district)
    chosen_district = changes.get("boundary_district", config.get("boundary_district"))
    units: dict[str, tuple[gpd.GeoDataFrame, str]] = {}
    unit_files: tuple[tuple[_UnitFile, _FileOpt, str, str], ...] = (
        ("ward", wards, ward_code_col, ward_name_col),
        ("lsoa", lsoas, lsoa_code_col, lsoa_name_col),
    )
    for kind, path, code_col, name_col in unit_files:
        if path is not None:
            units[kind] = (
                _units(path, kind=kind, code_col=code_col, name_col=name_col, option=f"--{kind}s"),
                str(path),
            )
            changes |= {f"{kind}s": rel(path), f"{kind}_code_col": code_col, f"{kind}_name_col": name_col}
        elif (configured := store.config_path(store_dir, config.get(f"{kind}s"))) is not None:
            units[kind] = _configured_units(configured, config, kind)
    units = _units_inside_outline(store_dir, config, units, boundary=boundary, district=chosen_district)
    if population is not None:
        pop, code = _population(population, population_code_col, population_col)
        population_unit = _match_population(pop, code, population, units)
        changes |= {
            "population": rel(population),
            "population_code_col": code,
            "population_col": population_col,
            "population_unit": population_unit,
        }
    if named_places is not None:
        boundaries.load_named_places(named_places)
        changes["named_places"] = rel(named_places)
    changes |= _area_changes(store_dir, config, changes, areas=areas, comparators=comparators)
    return changes


def _stats19_file(store_dir: Path, path: Path) -> str:
    """The config's value for a STATS19 file, refused unless its header is a STATS19 layout."""
    import pandas as pd

    from geo_csp import roads, store
    from geo_csp._errors import InputFileError

    if not path.is_file():
        raise InputFileError(f"--stats19 {path} does not exist; give the road casualty CSV (or .csv.gz)")
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InputFileError(f"--stats19 {path} cannot be read as a CSV ({exc})") from exc
    if roads.stats19_layout(header) is None:
        raise InputFileError(
            f"--stats19 {path} is not a STATS19 file (header {header[:6]}...); it needs a collision reference, "
            "a date, a severity and a point, as DfT's or TfGM's road casualty files"
        )
    return store.path_for_config(store_dir, path)


def _name_changes(*, borough: str | None, label: str | None) -> dict[str, Any]:
    """The borough's name and the store's label, refused when given empty."""
    changes: dict[str, Any] = {}
    if borough is not None:
        if not borough.strip():
            raise ParameterError('--borough is empty; give the borough\'s name (e.g. "Blackburn with Darwen")')
        changes["borough"] = borough.strip()
    if label is not None:
        if not label.strip():
            raise ParameterError('--label is empty; give the name documents call the store (e.g. "Bury CSP 2024")')
        changes["label"] = label.strip()
    return changes


def _boundary_changes(
    store_dir: Path, config: dict[str, Any], *, boundary: _FileOpt, district: str | None
) -> dict[str, Any]:
    """The borough boundary file and the district picked from it, each read to check it."""
    from geo_csp import boundaries, store

    if boundary is not None:
        boundaries.load_borough(boundary, district=district)
        return {
            "boundary": store.path_for_config(store_dir, boundary),
            "boundary_district": district.strip() if district else None,
        }
    if district is None:
        return {}
    if not config.get("boundary"):
        raise ParameterError(f"--district {district!r} picks one area of a boundary file: give it with --boundary FILE")
    boundaries.load_borough(store.config_path(store_dir, config["boundary"]), district=district)
    return {"boundary_district": district.strip()}


def _configured_units(old: Path, config: dict[str, Any], kind: _UnitFile) -> tuple[gpd.GeoDataFrame, str]:
    """The store's configured ward or LSOA file ``old`` (``kind`` ``"ward"`` or ``"lsoa"``), read and checked."""
    frame = _units(
        old,
        kind=kind,
        code_col=config.get(f"{kind}_code_col") or f"{kind}_code",
        name_col=config.get(f"{kind}_name_col") or f"{kind}_name",
        option=f"the configured {kind}s",
    )
    return frame, str(old)


def _units_inside_outline(
    store_dir: Path,
    config: dict[str, Any],
    units: dict[str, tuple[gpd.GeoDataFrame, str]],
    *,
    boundary: _FileOpt,
    district: str | None,
) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The units inside the borough's outline (given or configured), so that a force-wide ward file needs a
    population only for the borough's wards; refused when none of a file's units lies inside."""
    from geo_csp import boundaries, store

    outline_path = (
        boundary
        if boundary is not None
        else (store.config_path(store_dir, config["boundary"]) if config.get("boundary") else None)
    )
    if outline_path is None:
        return units
    from geo_csp.geography import units_in_outline

    outline = boundaries.load_borough(outline_path, district=district)
    units = {kind: (units_in_outline(frame, outline), source) for kind, (frame, source) in units.items()}
    empty = [kind for kind, (frame, _) in units.items() if not len(frame)]
    if empty:
        raise ParameterError(
            f"no {empty[0]} of {units[empty[0]][1]} has more than half its area inside the "
            f"boundary {outline_path}: are they the same borough (and CRS)?"
        )
    return units


def _area_changes(
    store_dir: Path,
    config: dict[str, Any],
    changes: dict[str, Any],
    *,
    areas: _FileOpt,
    comparators: list[str] | None,
) -> dict[str, Any]:
    """The areas file and the comparator areas named from it, checked against it and against the borough
    (``changes`` are the other keys set so far)."""
    from geo_csp import store

    out: dict[str, Any] = {}
    area_frame = None
    if areas is not None:
        area_frame = _areas(areas)
        out["areas"] = store.path_for_config(store_dir, areas)
    elif (configured := store.config_path(store_dir, config.get("areas"))) is not None and comparators:
        area_frame = _areas(configured)
    if comparators:
        if area_frame is None:
            raise ParameterError(
                "--comparators name rows of an areas file: give --areas FILE (area_code, area_name, population) as well"
            )
        unknown = [c for c in comparators if not _in_areas(area_frame, c)]
        if unknown:
            raise ParameterError(
                f"--comparators {unknown} are not areas of the areas file "
                f"({', '.join(area_frame['area_name'].astype(str))}); use their area_name or area_code"
            )
        out["comparators"] = list(comparators)
    name = changes.get("borough", config.get("borough"))
    if area_frame is not None and name and not _in_areas(area_frame, name):
        has_outline = any(changes.get(k) or config.get(k) for k in ("boundary", "wards", "lsoas"))
        if not has_outline:
            raise ParameterError(
                f"the borough {name!r} is not a row of the areas file and the store has no outline "
                "of its own: add it to the areas file, or give --boundary or --wards"
            )
    return out


def _show_membership(store_dir: Path, config: dict[str, Any]) -> None:
    """Print which configured wards/LSOAs belong to the borough outline, and those left out."""
    from geo_csp import geography, store

    if not config.get("boundary"):
        return
    for kind in ("ward", "lsoa"):
        units = geography.configured_units(store.StoreConfig.from_dict(store_dir, config), kind)
        if units is None or "membership" not in units.attrs:
            continue
        dropped = units.attrs["dropped"]
        console.print(
            f"{kind}s: {units.attrs['membership']}"
            + (
                ": "
                + ", ".join(
                    f"{n} ({m2:.2g} m2 inside, {sh:.2%})"
                    for n, m2, sh in zip(dropped["name"], dropped["m2_inside"], dropped["share_inside"])
                )
                if len(dropped)
                else ""
            ),
            soft_wrap=True,
        )


def _show(store_dir: Path, config: dict[str, Any], *, as_json: bool) -> None:
    """Print the effective config, with every configured file resolved and whether it exists."""
    from geo_csp import store

    files = {
        k: path for k in store.CONFIG_PATH_KEYS if (path := store.config_path(store_dir, config.get(k))) is not None
    }
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "store": str(store_dir),
                    "config": config,
                    "files": {k: {"path": str(p), "exists": p.exists()} for k, p in files.items()},
                },
                indent=2,
            )
        )
        return
    from rich.table import Table

    table = Table(title=f"Config of {store_dir}", title_justify="left")
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for key, value in config.items():
        shown = json.dumps(value) if not isinstance(value, str) else value
        if key in files:
            where = "" if str(files[key]) == value else f"{files[key]}: "
            shown += f"  ({where}{'found' if files[key].exists() else 'MISSING'})"
        table.add_row(key, shown)
    out.print(table)


@app.command("configure")
def configure_command(
    store_dir: Annotated[Path, typer.Option("--store", help="The incident store folder.")] = settings.DEFAULT_STORE_DIR,
    borough: Annotated[str | None, typer.Option("--borough", help="The borough's name.")] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", help="The store's name in documents (default: its folder's name; never its path)."),
    ] = None,
    boundary: Annotated[Path | None, typer.Option("--boundary", help="Borough outline (GeoJSON/GPKG).")] = None,
    district: Annotated[
        str | None,
        typer.Option(
            "--district",
            help="The borough's area in a --boundary file of several (e.g. a county's districts): its name.",
        ),
    ] = None,
    wards: Annotated[Path | None, typer.Option("--wards", help="Ward polygons (GeoJSON/GPKG).")] = None,
    ward_code_col: Annotated[str, typer.Option("--ward-code-col", help="Ward code column.")] = "ward_code",
    ward_name_col: Annotated[str, typer.Option("--ward-name-col", help="Ward name column.")] = "ward_name",
    lsoas: Annotated[Path | None, typer.Option("--lsoas", help="LSOA polygons (GeoJSON/GPKG).")] = None,
    lsoa_code_col: Annotated[str, typer.Option("--lsoa-code-col", help="LSOA code column.")] = "lsoa_code",
    lsoa_name_col: Annotated[str, typer.Option("--lsoa-name-col", help="LSOA name column.")] = "lsoa_name",
    population: Annotated[Path | None, typer.Option("--population", help="Residents per ward or LSOA (CSV).")] = None,
    population_code_col: Annotated[
        str | None,
        typer.Option(
            "--population-code-col",
            help="Code column of the population CSV (default: ward_code, lsoa_code, gss_code or code).",
        ),
    ] = None,
    population_col: Annotated[str, typer.Option("--population-col", help="Residents column.")] = "population",
    named_places: Annotated[
        Path | None, typer.Option("--named-places", help="Named places (polygons, 'name').")
    ] = None,
    areas: Annotated[
        Path | None,
        typer.Option("--areas", help="Comparator boroughs (polygons with area_code, area_name, population)."),
    ] = None,
    comparators: Annotated[
        list[str] | None,
        typer.Option("--comparators", help="Comparator areas (names or codes in --areas); repeat for several."),
    ] = None,
    stats19: Annotated[
        Path | None,
        typer.Option("--stats19", help="A STATS19 road casualty CSV the app's Road casualties page reads."),
    ] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help=f"Clear a key ({', '.join(UNSETTABLE)}).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Print the effective config.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --show: print only JSON on stdout.")] = False,
) -> None:
    """Set the store's borough and geography; every file is checked before anything is written."""
    from geo_csp import store

    config = store.store_config(store_dir)
    bad = [k for k in unset or () if k not in UNSETTABLE]
    if bad:
        raise ParameterError(f"--unset {bad}: only {', '.join(UNSETTABLE)} can be cleared")
    cleared = {k: None for k in unset or ()}
    base = {**config, **cleared}
    changes = configure_changes(
        store_dir,
        base,
        borough=borough,
        boundary=boundary,
        wards=wards,
        ward_code_col=ward_code_col,
        ward_name_col=ward_name_col,
        lsoas=lsoas,
        lsoa_code_col=lsoa_code_col,
        lsoa_name_col=lsoa_name_col,
        population=population,
        population_code_col=population_code_col,
        population_col=population_col,
        named_places=named_places,
        areas=areas,
        comparators=comparators,
        label=label,
        district=district,
    )
    if stats19 is not None:
        changes["stats19"] = _stats19_file(store_dir, stats19)
    if "boundary" in cleared:
        cleared["boundary_district"] = None
    if "population" in cleared:
        cleared |= {"population_code_col": None, "population_col": None, "population_unit": None}
    changes = {**cleared, **changes}
    if changes:
        config = store.update_store_config(store_dir, changes)
        console.print(f"configured {', '.join(changes)} in {Path(store_dir) / store.CONFIG_NAME}")
        _show_membership(store_dir, config)
    if show or not changes:
        _show(store_dir, config, as_json=as_json)
