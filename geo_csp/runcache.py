"""Hotspot runs of a store saved in its ``cache/runs/`` folder, so a view computed once opens at once.

The app's first map of a store waits for the hotspot analysis: reading the store, Gi*, the trend
tests, the areas and the back-tested priority score (about a second on the demo borough). A run
saved here is read back in a tenth of that, after a restart of the app as well. :func:`store_run`
is that analysis for a store (what the app's Map page shows); :func:`cached_store_run` returns the
saved run when there is one and saves it when not; :func:`precompute_opening_view` saves the view
the app opens on (:func:`opening_params`), which ``geo-csp demo`` does for the demo borough.

A saved run is keyed by everything it depends on, so it is never stale: the store's manifest and
config (every ingest or ``geo-csp configure`` rewrites one of them), the boundary files the config
names, the run's parameters, and the code (geo-csp's version, the size and modification time of each
of its modules and shipped boundaries, and the versions of the libraries that compute). Frames are
(Geo)Parquet, arrays ``.npy`` read without pickles (a store folder may be shared), the rest JSON.
At most :data:`MAX_RUNS` runs are kept, the least recently used removed first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import shutil
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import backtest, geography, hotspot_run, hotspots, periods, qualifiers, schema, settings, sources, store
from geo_csp import cube as cube_mod
from geo_csp._errors import ParameterError

__all__ = [
    "MAX_RUNS",
    "cached_json",
    "cached_store_run",
    "load_run",
    "opening_params",
    "precompute_opening_view",
    "run_geography",
    "run_key",
    "save_run",
    "store_key",
    "store_run",
]

log = logging.getLogger(__name__)

#: Runs kept in a store's ``cache/runs`` folder; the least recently used beyond this are removed.
MAX_RUNS: Final = 32
#: Format of a saved run; a run saved in another format is not read (and its key differs).
FORMAT: Final = 1
RUNS_FOLDER: Final = "runs"
#: Libraries whose version can change a run's figures.
_LIBRARIES: Final = ("numpy", "pandas", "geopandas", "shapely", "scipy", "scikit-learn", "h3", "pyarrow")
#: Store config keys naming files the run reads.
_CONFIG_FILES: Final = ("boundary", "wards", "lsoas", "population", "named_places")
#: Columns the hotspot analysis reads from the store (:func:`geo_csp.cube.build_cube`).
HOTSPOT_COLUMNS: Final = (
    schema.MONTH,
    schema.CRIME_TYPE,
    schema.EASTING,
    schema.NORTHING,
    schema.LOCATED,
    schema.LOCATION,
    schema.SOURCE,
    schema.OCCURRED_DATE,
)


def hotspot_columns(group: str | None) -> tuple[str, ...]:
    """:data:`HOTSPOT_COLUMNS`, with the qualifier columns a flag group reads (``"domestic"``) when it is one."""
    flagged = qualifiers.qualified_group(group)
    return HOTSPOT_COLUMNS if flagged is None else (*HOTSPOT_COLUMNS, *flagged.columns)


def opening_params(store_dir: str | Path) -> cube_mod.CubeParams:
    """The view the app opens on: H3 cells at the automatic resolution, monthly, all crime and ASB, counts,
    the default sources the store holds, over the last 12 months (all months when there are 12 or fewer)."""
    status = store.store_status(store_dir)
    months = status["months"]
    if not months:
        raise ParameterError(f"the store at {store_dir} holds no months; ingest files with `geo-csp ingest`")
    full = periods.month_range(months[0], months[-1]).tolist()
    shown = full[-12:] if len(full) > 12 else full
    available = status["sources"]
    default = [s for s in sources.resolve_sources(None, available=available).sources or () if s in available]
    return cube_mod.CubeParams(
        unit="h3",
        resolution=None,
        period="month",
        months=(shown[0], shown[-1]),
        sources=tuple(default) or None,
        measure="count",
    )


def store_run(
    store_dir: str | Path,
    params: cube_mod.CubeParams,
    *,
    ward_names: Sequence[str] = (),
    incidents: pd.DataFrame | None = None,
    study: geography.StudyGeography | None = None,
) -> hotspot_run.HotspotResult:
    """:func:`geo_csp.hotspot_run.run_hotspots` of ``params`` on the store's incidents and its own geography,
    with the default priority score (:func:`geo_csp.backtest.add_priority`, its choice cached in the store).

    ``ward_names`` (names of the store's wards) limits the analysis to those wards: they are the study area,
    and with ``unit="ward"`` the units. ``incidents`` (the store's rows of ``params``' months and sources,
    with :func:`hotspot_columns`) and ``study`` (:func:`geo_csp.geography.study_geography`, the study area,
    wards and places ``geo-csp hotspots`` takes too) may be given when the caller has them already. Why the
    study area is the data's extent, when it is, is one of ``metadata["warnings"]``.
    """
    if incidents is None:
        months = periods.month_range(*params.months).tolist() if params.months else None
        incidents = store.read_incidents(
            store_dir,
            months=months,
            sources=list(params.sources) if params.sources else None,
            columns=list(hotspot_columns(params.group)),
        )
    study = geography.study_geography(store_dir) if study is None else study
    where = run_geography(study, params.unit, ward_names=ward_names)
    result = hotspot_run.run_hotspots(
        incidents,
        params,
        study_area=where["study_area"],
        units=where["units"],
        wards=where["wards"],
        named_places=where["named_places"],
    )
    if study.warning and not ward_names:
        result.metadata.setdefault("warnings", []).append(study.warning)
    return backtest.add_priority(result, study_area=where["study_area"], cache_dir=Path(store_dir) / "cache")


def run_geography(
    study: geography.StudyGeography, unit: str, *, ward_names: Sequence[str] = ()
) -> dict[str, gpd.GeoDataFrame | None]:
    """The ``study_area``, ``units``, ``wards`` and ``named_places`` of a run of the store
    (:meth:`geo_csp.geography.StudyGeography.run_inputs`, as ``geo-csp hotspots`` takes them), or with
    ``ward_names`` those wards as the study area (and, for ``unit="ward"``, the units)."""
    where = study.run_inputs(unit)
    if ward_names:
        where["study_area"] = chosen_wards(study.wards, ward_names)
        if unit == "ward":
            where["units"] = where["study_area"]
    return where


def chosen_wards(wards: gpd.GeoDataFrame | None, ward_names: Sequence[str]) -> gpd.GeoDataFrame:
    """The wards of these names (EPSG:27700); a name the wards do not have is an error."""
    if wards is None:
        raise ParameterError(
            "this store has no wards to filter by; configure them with `geo-csp configure --wards FILE`"
        )
    picked = wards[wards[schema.WARD_NAME].astype(str).isin(list(ward_names))]
    missing = sorted(set(ward_names) - set(picked[schema.WARD_NAME].astype(str)))
    if missing:
        raise ParameterError(f"the store has no ward named {', '.join(missing)}; choose from its wards in the sidebar")
    return picked


def _file_stamp(path: Path | None) -> list[Any]:
    if path is None:
        return [None]
    try:
        info = path.stat()
    except OSError:
        return [str(path), "missing"]
    return [str(path), info.st_size, info.st_mtime_ns]


@functools.cache
def _code_stamp() -> list[Any]:
    """geo-csp's version, and the size and modification time of its modules and shipped boundaries.

    Read once per process: the code a process runs is the code it imported, so walking the package again
    for every key would cost a directory scan per cache lookup and describe nothing new."""
    import geo_csp

    package = Path(geo_csp.__file__).resolve().parent
    files = sorted(package.rglob("*.py")) + sorted(Path(settings.BOUNDARIES_DIR).glob("*.geojson"))
    return [geo_csp.__version__, [[f.relative_to(f.parent.parent).as_posix(), *_file_stamp(f)[1:]] for f in files]]


@functools.cache
def _library_versions(libraries: tuple[str, ...]) -> list[list[Any]]:
    """``[name, version]`` of each library (``None`` if not installed), read once per process."""
    from importlib import metadata

    versions: list[list[Any]] = []
    for name in libraries:
        try:
            versions.append([name, metadata.version(name)])
        except metadata.PackageNotFoundError:
            versions.append([name, None])
    return versions


def store_key(
    store_dir: str | Path,
    kind: str,
    parts: Mapping[str, Any],
    *,
    files: Sequence[Path] = (),
    libraries: Sequence[str] = (),
) -> str:
    """A key for a result of ``kind`` saved in the store: a hash of the store's manifest and config, the files
    its config names, ``files`` (size and modification time), the code, the versions of ``libraries`` and
    ``parts`` (the result's own arguments, JSON-serialisable)."""
    folder = Path(store_dir)
    digest = hashlib.sha256(f"geo-csp {kind}\x1f".encode())
    for name in (store.MANIFEST_NAME, store.CONFIG_NAME):
        try:
            digest.update(hashlib.sha256((folder / name).read_bytes()).digest())
        except FileNotFoundError:
            digest.update(b"none")
    config = store.read_config(folder)
    stamp = {
        "config_files": [_file_stamp(config.path(k)) for k in _CONFIG_FILES],
        "files": [_file_stamp(Path(f)) for f in files],
        "libraries": _library_versions(tuple(libraries)),
        "code": _code_stamp(),
        "parts": parts,
    }
    digest.update(json.dumps(stamp, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def run_key(store_dir: str | Path, params: cube_mod.CubeParams, *, ward_names: Sequence[str] = ()) -> str:
    """The key of a run of ``params`` on the store (:func:`store_key`): the store's manifest and config, the
    files its config names, the parameters, the wards chosen and the code (see the module's notes)."""
    return store_key(
        store_dir,
        f"run {FORMAT}",
        {"params": params.to_dict(), "ward_names": sorted(ward_names)},
        libraries=_LIBRARIES,
    )


def cached_json(
    store_dir: str | Path,
    kind: str,
    key: str,
    compute: Callable[[], Any],
    *,
    keep: int = MAX_RUNS,
) -> Any:
    """The JSON value saved as ``cache/<kind>/<key>.json`` in the store, or ``compute()``, then saved there
    (a value JSON would change is refused with ``TypeError``); at most ``keep`` values of a kind are kept,
    the least recently used removed. A store that cannot be written still answers."""
    path = Path(store_dir) / "cache" / kind / f"{key}.json"
    if path.is_file():
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("saved %s %s not read (%s); computing it again", kind, path, exc)
        else:
            with contextlib.suppress(OSError):
                os.utime(path)  # most recently used
            return value
    value = _plain(compute(), kind)
    try:
        store.write_json_atomic(path, value, durable=False)
        _prune(path.parent, keep=keep)
    except OSError as exc:
        log.info("%s not saved in %s: %s", kind, path, exc)
    return value


def _plain(value: Any, where: str) -> Any:
    """``value`` if JSON keeps it exactly (dicts with text keys, lists, text, numbers, booleans, None)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r} is not text")
            _plain(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _plain(v, f"{where}[{i}]")
    elif value is not None and type(value) not in (str, int, float, bool):
        raise TypeError(f"{where}: a {type(value).__name__} does not survive JSON")
    return value


def _write_frame(frame: pd.DataFrame, path: Path) -> dict[str, Any]:
    _plain(frame.attrs, f"{path.name} attrs")
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_parquet(path, index=True)
        return {"geo": True, "attrs": frame.attrs, "geometry": frame.geometry.name}
    frame.to_parquet(path, index=True)
    return {"geo": False, "attrs": frame.attrs}


def _read_frame(path: Path, info: dict[str, Any]) -> pd.DataFrame:
    frame = gpd.read_parquet(path) if info["geo"] else pd.read_parquet(path)
    frame.attrs.update(info["attrs"])
    return frame


def _write_array(array: np.ndarray, path: Path) -> dict[str, Any]:
    kind = "object" if array.dtype == object else None
    if kind is not None:
        if not all(isinstance(v, str) for v in array.ravel()):
            raise TypeError(f"{path.name}: an object array of other than text")
        array = array.astype(str)
    np.save(path, array, allow_pickle=False)
    return {"dtype": kind}


def _read_array(path: Path, info: dict[str, Any]) -> np.ndarray:
    array: np.ndarray = np.load(path, allow_pickle=False)
    return array.astype(object) if info["dtype"] == "object" else array


def save_run(result: hotspot_run.HotspotResult, folder: str | Path) -> Path:
    """Write ``result`` into ``folder`` (replaced whole, atomically), for :func:`load_run`.

    Raises ``TypeError`` when a part would not be read back exactly (a value JSON changes); nothing is
    then written.
    """
    target = Path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
    tmp.mkdir()
    try:
        frames = {
            "units": result.units,
            "areas": result.areas,
            "cube_units": result.cube.units,
            "cube_locations": result.cube.locations,
            "analysis_units": result.analysis.units,
        }
        gi = result.analysis.gi
        arrays = {
            "period_keys": result.cube.period_keys,
            "period_labels": result.cube.period_labels,
            "n": result.cube.n,
            "harm": result.cube.harm,
            **{f"gi_{f.name}": getattr(gi, f.name) for f in dataclasses.fields(gi) if _is_array(getattr(gi, f.name))},
        }
        gi_values = {f.name: getattr(gi, f.name) for f in dataclasses.fields(gi) if not _is_array(getattr(gi, f.name))}
        manifest = {
            "format": FORMAT,
            "frames": {name: _write_frame(frame, tmp / f"{name}.parquet") for name, frame in frames.items()},
            "arrays": {name: _write_array(array, tmp / f"{name}.npy") for name, array in arrays.items()},
            "gi": _plain(gi_values, "gi"),
            "hotspot_params": _plain(result.analysis.params.to_dict(), "hotspot_params"),
            "cube_params": _plain(result.cube.params, "cube params"),
            "metadata": _plain(result.metadata, "metadata"),
            "area_changes": _plain(result.area_changes, "area_changes"),
        }
        (tmp / "run.json").write_text(json.dumps(manifest, allow_nan=True), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray)


def load_run(folder: str | Path) -> hotspot_run.HotspotResult:
    """The run :func:`save_run` wrote into ``folder``; ``ValueError`` when it is not one of this format."""
    where = Path(folder)
    manifest = json.loads((where / "run.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{where} holds a run of format {manifest.get('format')!r}, not {FORMAT}")
    frames = {name: _read_frame(where / f"{name}.parquet", info) for name, info in manifest["frames"].items()}
    arrays = {name: _read_array(where / f"{name}.npy", info) for name, info in manifest["arrays"].items()}
    gi_arrays = {name[3:]: a for name, a in arrays.items() if name.startswith("gi_")}
    gi_fields = {f.name for f in dataclasses.fields(hotspots.GiStarResult)}
    gi = hotspots.GiStarResult(**{k: v for k, v in {**manifest["gi"], **gi_arrays}.items() if k in gi_fields})
    cube = cube_mod.Cube(
        units=frames["cube_units"],
        period_keys=arrays["period_keys"],
        period_labels=arrays["period_labels"],
        n=arrays["n"],
        harm=arrays["harm"],
        params=manifest["cube_params"],
        locations=frames["cube_locations"],
    )
    result_analysis = hotspots.CubeAnalysis(
        units=frames["analysis_units"], gi=gi, params=hotspots.HotspotParams(**manifest["hotspot_params"])
    )
    return hotspot_run.HotspotResult(
        units=frames["units"],
        areas=frames["areas"],
        cube=cube,
        analysis=result_analysis,
        metadata=manifest["metadata"],
        area_changes=manifest["area_changes"],
    )


def _runs_folder(store_dir: str | Path) -> Path:
    return Path(store_dir) / "cache" / RUNS_FOLDER


def _prune(folder: Path, *, keep: int) -> None:
    """Remove the least recently used saved results (folders or files) of ``folder`` beyond ``keep``."""
    found = [p for p in folder.iterdir() if not p.name.startswith(".")]
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in found[keep:]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def cached_store_run(
    store_dir: str | Path,
    params: cube_mod.CubeParams,
    *,
    ward_names: Sequence[str] = (),
    compute: Callable[[], hotspot_run.HotspotResult] | None = None,
) -> hotspot_run.HotspotResult:
    """The run of ``params`` on the store saved in its ``cache/runs`` folder, or ``compute()`` (default
    :func:`store_run`), then saved there.

    A store that cannot be written still answers (the run is then not saved); a saved run that cannot be
    read is computed again and replaced.
    """
    key = run_key(store_dir, params, ward_names=ward_names)
    folder = _runs_folder(store_dir) / key
    if (folder / "run.json").is_file():
        try:
            result = load_run(folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("saved run %s not read (%s); computing it again", folder, exc)
        else:
            with contextlib.suppress(OSError):
                os.utime(folder)  # most recently used
            return result
    result = compute() if compute is not None else store_run(store_dir, params, ward_names=ward_names)
    try:
        save_run(result, folder)
        _prune(folder.parent, keep=MAX_RUNS)
    except OSError as exc:  # a read-only store still maps: the run is computed again next time
        log.info("run not saved in %s: %s", folder, exc)
    except TypeError as exc:
        log.warning("run not saved (a part would not be read back exactly): %s", exc)
    return result


def precompute_opening_view(store_dir: str | Path) -> float:
    """Save the run of the app's opening view (:func:`opening_params`) in the store; the seconds it took."""
    start = time.perf_counter()
    cached_store_run(store_dir, opening_params(store_dir))
    return time.perf_counter() - start
