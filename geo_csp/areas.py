"""Named hotspot areas: contiguous significant units merged into areas with names and stable ids.

**Why graph components, not DBSCAN/HDBSCAN.** The units already carry a significance test (Gi*) and
a neighbourhood (the weights matrix the test used). Merging the selected units that are neighbours
under *those same weights* (:func:`scipy.sparse.csgraph.connected_components`) gives areas whose
contiguity means exactly what the statistic meant by "nearby"; there is no second distance
parameter (DBSCAN's ``eps``/``min_samples``) to tune and explain, every selected unit belongs to
exactly one area (DBSCAN would call isolated significant cells noise and drop them), and the result
does not depend on point order or density thresholds. It is one sparse operation, linear in the
number of selected units.

**Which units make an area.** A unit joins an area when its class is one of the selected classes
(default :data:`AREA_CLASSES`) *and* it was a significant hot spot in at least
:attr:`AreaParams.min_hot_periods` periods (default 3). Every single significant bin is a real
discovery only in the FDR sense: Benjamini-Hochberg at 5% within a period admits about 5% false
discoveries among that period's hot units, so a few cells of any borough are "hot" by chance in any
month; and with the space-time Gi* (``time_window`` 1, ArcGIS's default) one month's burst makes
*two* consecutive bins significant (the month itself and the next, whose neighbourhood includes
it). One or two significant months are therefore what chance and a single burst produce: such a
unit keeps its ArcGIS class ("New", a two-month "Consecutive") in the unit table, but it does not
become a *named* area until it persists into a third month. An emerging place still counts from
its third hot month, well inside Chainey's recent window (the last 20% of periods: 7 of 36).

**An area's class** is the class of most of its units (ties: the class holding more incidents),
not of most of its incidents: an operation that cuts crime in a town centre's busiest core makes
those few cells "Diminishing" (rightly, :data:`CLASS_MIX` lists them) while the town centre as a
place stays persistent; weighting by incidents would let its busiest two cells relabel the place.

**Names.** An area takes the name of the user's named place (e.g. "Bury Town Centre") it overlaps
most, when that overlap covers at least :attr:`AreaParams.min_place_overlap` of the area or of the place; otherwise
"<ward>: around <street>" ("Moorside: around Parkinson Street"):

- the ward is the one holding most of the area's *incidents* (each unit's count split over the
  wards it overlaps by the share of its land in each; land decides only ties), not the one it
  overlaps most by land: an area reaching from a town centre into a large rural ward belongs to
  the town ward;
- the street is the most frequent police.uk street description inside it, real streets first:
  police.uk's non-street labels (:data:`geo_csp.schema.POLICE_UK_GENERIC_LOCATIONS`: "Parking
  Area", "Supermarket", "Nightclub", ...) are used only when the area has no real street.

No two areas share a name: in order of harm, an area whose name is taken tries its next most
frequent streets, then gets " (2)", " (3)".
A component covering two or more named places (a town centre and the estate beside it) is split
between them, each unit going to the nearest of those places, so each place keeps its own area.

**Patrollable size.** An area is one contiguous group of units (connected under the weights), so a
beat can walk it. A group larger than :attr:`AreaParams.max_area_km2` (default 2.5 km2) would ask one
beat to cover a district: it is split into ``ceil(area / max)`` contiguous parts, each at most the
limit, by cutting it across its longest axis where the unit area is shared out between the parts, and
cutting again any part still too large (:func:`_split_oversized`; one unit larger than the limit stays
whole). :attr:`AreaParams.min_area_km2` drops areas smaller than a minimum (default 0: any size; the
``min_incidents`` rule still applies). Each part is an area like any other: its own class, counts,
name and id. A named place split into parts gives its name to the part with the most harm; the
others are "<place>: around <street>".

**Stable ids.** Within a run, ids number the areas (split parts included) by descending harm.
:func:`match_areas` pairs a new run's areas with the previous run's by Jaccard
overlap of their polygons (one-to-one, maximising total overlap with the Hungarian algorithm); a
matched area keeps its id ("HS-0003"), an unmatched new area gets the next free id, and previous
areas left unmatched are reported as vanished. So when an area grows past the size limit and is
split, the part that overlaps the previous area most keeps its id and the other parts get new ids;
when parts shrink and merge again, the merged area keeps the id of the part it overlaps most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo_csp import schema, trends
from geo_csp._errors import CRSError, ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS

__all__ = [
    "AREA_COLUMNS",
    "AREA_CLASSES",
    "AreaParams",
    "HOT_CLASSES",
    "TIMELINE_COLUMNS",
    "area_ids",
    "area_timeline",
    "hotspot_areas",
    "latest_police_uk_month",
    "match_areas",
    "relabel_units",
    "select_units",
    "timeline_rule",
]

#: Every hot class of both schemes.
HOT_CLASSES: Final = tuple(p for p in trends.ARCGIS_PATTERNS if p.endswith("Hot Spot")) + tuple(
    c for c in trends.CHAINEY_CATEGORIES if c.endswith(" hotspot")
)
#: The default selection for hotspot areas: ArcGIS hot patterns with a sustained history (new,
#: consecutive, intensifying, persistent, diminishing, historical). Sporadic and oscillating cells
#: (on-and-off significance) and Chainey's loose "intermittent" class would join background cells
#: of busy neighbourhoods into sprawling areas; pass ``classes`` to include them.
AREA_CLASSES: Final = tuple(
    f"{k} Hot Spot" for k in ("New", "Consecutive", "Intensifying", "Persistent", "Diminishing", "Historical")
)
ID_PREFIX: Final = "HS-"
SHARE_OF_CRIME: Final = "share_of_crime"
SHARE_OF_AREA: Final = "share_of_area"
AREA_KM2: Final = "area_km2"
N_UNITS: Final = "n_units"
CLASS_MIX: Final = "class_mix"
AREA_COLUMNS: Final = (
    schema.AREA_ID,
    schema.AREA_NAME,
    schema.CATEGORY,
    schema.PATTERN,
    CLASS_MIX,
    N_UNITS,
    schema.N,
    schema.HARM,
    SHARE_OF_CRIME,
    SHARE_OF_AREA,
    AREA_KM2,
    schema.WARD_NAME,
    "top_street",
)


@dataclass(frozen=True)
class AreaParams:
    """Rules that turn hot units into named areas (validated on creation; see :meth:`to_dict`).

    Attributes
    ----------
    min_hot_periods
        A unit joins an area only if it was a significant Gi* hot spot in at least this many
        periods (column ``n_hot_periods``), >= 1. The default 3 is the least run that neither
        per-period FDR chance nor one month's burst under a one-period space-time window can
        produce (see the module docstring); 1 merges every selected unit, as ArcGIS's classes alone.
    min_incidents
        Components with fewer incidents are not areas (a cell with no crime can be significant
        only through its neighbours; on its own it is nothing to patrol), >= 0.
    min_place_overlap
        Share of the area or of the place that must overlap for a named place to name the area,
        in (0, 1].
    max_area_km2
        Largest area a beat is asked to cover, km2 (> 0, or ``None`` for no limit). A larger
        contiguous group is split into contiguous parts of at most this size (see "Patrollable
        size" in the module docstring). The default 2.5 km2 is a circle of about 900 m radius: a
        12-minute walk at 75 m a minute from its middle to its edge.
    min_area_km2
        Smallest area kept, km2 (>= 0; default 0: any size, the incidents rule alone decides).
    """

    min_hot_periods: int = 3
    min_incidents: float = 1.0
    min_place_overlap: float = 0.25
    max_area_km2: float | None = 2.5
    min_area_km2: float = 0.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.min_hot_periods, bool)
            or not isinstance(self.min_hot_periods, int | np.integer)
            or self.min_hot_periods < 1
        ):
            raise ParameterError(f"`min_hot_periods` must be an integer >= 1; got {self.min_hot_periods!r}")
        if (
            isinstance(self.min_incidents, bool)
            or not isinstance(self.min_incidents, int | float)
            or not self.min_incidents >= 0
        ):
            raise ParameterError(f"`min_incidents` must be a number >= 0; got {self.min_incidents!r}")
        if (
            isinstance(self.min_place_overlap, bool)
            or not isinstance(self.min_place_overlap, int | float)
            or not 0 < self.min_place_overlap <= 1
        ):
            raise ParameterError(f"`min_place_overlap` must be in (0, 1]; got {self.min_place_overlap!r}")
        if self.max_area_km2 is not None and (
            isinstance(self.max_area_km2, bool)
            or not isinstance(self.max_area_km2, int | float)
            or not self.max_area_km2 > 0
        ):
            raise ParameterError(f"`max_area_km2` must be a number > 0 or None; got {self.max_area_km2!r}")
        if (
            isinstance(self.min_area_km2, bool)
            or not isinstance(self.min_area_km2, int | float)
            or not self.min_area_km2 >= 0
        ):
            raise ParameterError(f"`min_area_km2` must be a number >= 0; got {self.min_area_km2!r}")
        if self.max_area_km2 is not None and self.min_area_km2 > self.max_area_km2:
            raise ParameterError(
                f"`min_area_km2` ({self.min_area_km2}) is larger than `max_area_km2` ({self.max_area_km2})"
            )

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain values, for output metadata."""
        return asdict(self)


def _components(graph: sparse.spmatrix) -> tuple[int, np.ndarray]:
    """:func:`scipy.sparse.csgraph.connected_components` of an undirected graph (imported here: a fifth of
    a second, and the app's map reading a saved run needs none of it)."""
    from scipy.sparse.csgraph import connected_components

    n, labels = connected_components(graph, directed=False)
    return int(n), labels


def select_units(units: pd.DataFrame, *, classes: Iterable[str] | None = None) -> np.ndarray:
    """Boolean mask of units whose ``pattern`` or ``category`` is one of ``classes`` (default :data:`AREA_CLASSES`)."""
    wanted = set(AREA_CLASSES if classes is None else classes)
    unknown = wanted - set(trends.ARCGIS_PATTERNS) - set(trends.CHAINEY_CATEGORIES)
    if unknown:
        raise ParameterError(
            f"unknown class(es) {sorted(unknown)}; choose ArcGIS patterns {list(trends.ARCGIS_PATTERNS)} "
            f"or Chainey categories {list(trends.CHAINEY_CATEGORIES)}"
        )
    mask = np.zeros(len(units), dtype=bool)
    for col in (schema.PATTERN, schema.CATEGORY):
        if col in units.columns:
            mask |= units[col].astype(object).isin(wanted).to_numpy()
    return mask


def area_ids(numbers: np.ndarray) -> np.ndarray:
    """Ids "HS-0001" for integers."""
    if np.size(numbers) == 0:
        return np.array([], dtype=object)
    return np.char.add(ID_PREFIX, np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), 4)).astype(object)


def _id_number(ids: pd.Series) -> np.ndarray:
    num = ids.astype(str).str.extract(r"(\d+)$", expand=False)
    out: np.ndarray = pd.to_numeric(num, errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    return out


def _mode_by(labels: np.ndarray, values: pd.Series, n_groups: int, weight: np.ndarray) -> np.ndarray:
    """Most common value per group, each unit counting ``weight`` (equal sums: the first value in sort order)."""
    frame = pd.DataFrame({"g": labels, "v": values.astype(object).to_numpy(), "w": weight})
    counts = frame.groupby(["g", "v"], sort=True)["w"].sum().rename("c").reset_index()
    best = counts.sort_values(["g", "c", "v"], ascending=[True, False, True]).drop_duplicates("g")
    out = np.full(n_groups, None, dtype=object)
    out[best["g"].to_numpy()] = best["v"].to_numpy()
    return out


def _ward_by_incidents(
    geoms: np.ndarray, weight: np.ndarray, labels: np.ndarray, n_groups: int, wards: gpd.GeoDataFrame | None
) -> np.ndarray:
    """For each group of units, ``wards[ward_name]`` of the ward holding most of its incidents.

    Each unit's ``weight`` (its incidents) is split over the wards it overlaps by the share of its
    land in each and summed per group and ward; the land overlap breaks ties (groups with no
    incidents). ``None`` for a group touching no ward.
    """
    out = np.full(n_groups, None, dtype=object)
    if wards is None or len(wards) == 0 or len(geoms) == 0:
        return out
    if wards.crs is None or wards.crs != WORKING_CRS:
        raise CRSError(f"wards are {wards.crs}, not {WORKING_CRS}; reproject them with .to_crs()")
    if schema.WARD_NAME not in wards.columns:
        raise SchemaError(f"wards need a {schema.WARD_NAME!r} column; they have {list(wards.columns)}")
    b = wards.geometry.to_numpy()
    iu, iw = shapely.STRtree(b).query(geoms, predicate="intersects")
    land = shapely.area(shapely.intersection(geoms[iu], b[iw]))
    ok = land > 0
    iu, iw, land = iu[ok], iw[ok], land[ok]
    if iu.size == 0:
        return out
    share = land / np.maximum(shapely.area(geoms[iu]), 1e-9)
    frame = pd.DataFrame({"g": labels[iu], "ward": iw, "n": weight[iu] * share, "land": land})
    agg = frame.groupby(["g", "ward"], sort=True)[["n", "land"]].sum().reset_index()
    best = agg.sort_values(["g", "n", "land", "ward"], ascending=[True, False, False, True]).drop_duplicates("g")
    out[best["g"].to_numpy(dtype=np.int64)] = wards[schema.WARD_NAME].to_numpy(dtype=object)[best["ward"].to_numpy()]
    return out


def _streets_by_group(
    locations: pd.DataFrame | None, unit_ids: pd.Index, labels: np.ndarray, n_groups: int
) -> list[list[str]]:
    """Street descriptions inside each group, best first: real streets by count, then police.uk's generic labels."""
    out: list[list[str]] = [[] for _ in range(n_groups)]
    if locations is None or len(locations) == 0:
        return out
    lab = pd.Series(labels, index=unit_ids)
    loc = locations[locations[schema.UNIT_ID].isin(lab.index)]
    if len(loc) == 0:
        return out
    loc = loc.assign(g=lab.reindex(loc[schema.UNIT_ID].to_numpy()).to_numpy())
    top = loc.groupby(["g", "location"], sort=True)[schema.N].sum().reset_index()
    top["generic"] = top["location"].isin(schema.POLICE_UK_GENERIC_LOCATIONS)
    top = top.sort_values(["g", "generic", schema.N, "location"], ascending=[True, True, False, True])
    for g, streets in top.groupby("g", sort=False)["location"]:  # one entry per area (tens), not per row
        out[int(g)] = streets.astype(str).tolist()
    return out


def _unique_names(place: np.ndarray, ward: np.ndarray, streets: list[list[str]], order: np.ndarray) -> np.ndarray:
    """Each area's name, none repeated; areas earlier in ``order`` choose first (see the module docstring)."""
    names = np.full(len(place), None, dtype=object)
    taken: set[str] = set()
    for i in order:  # one step per area
        prefix = "Area" if ward[i] is None else str(ward[i])
        if place[i] is not None:  # a place split into parts: its other parts are named by their streets
            options = [str(place[i]), *(f"{place[i]}: around {street}" for street in streets[i])]
        elif streets[i]:
            options = [f"{prefix}: around {street}" for street in streets[i]]
        else:
            options = ["Unnamed area" if ward[i] is None else prefix]
        name = next((o for o in options if o not in taken), None)
        k = 2
        while name is None:
            name = f"{options[0]} ({k})" if f"{options[0]} ({k})" not in taken else None
            k += 1
        taken.add(name)
        names[i] = name
    return names


def _largest_overlap(polys: gpd.GeoSeries, others: gpd.GeoDataFrame, col: str, *, min_share: float = 0.0) -> np.ndarray:
    """For each polygon, ``others[col]`` of the feature it overlaps most (``None`` if below ``min_share``)."""
    out = np.full(len(polys), None, dtype=object)
    if others is None or len(others) == 0 or len(polys) == 0:
        return out
    if others.crs is None or others.crs != WORKING_CRS:
        raise CRSError(f"{col!r} layer is {others.crs}, not {WORKING_CRS}; reproject it with .to_crs()")
    a = np.asarray(polys.geometry if isinstance(polys, gpd.GeoDataFrame) else polys)
    b = others.geometry.to_numpy()
    tree = shapely.STRtree(b)
    ia, ib = tree.query(a, predicate="intersects")
    if ia.size == 0:
        return out
    inter = shapely.area(shapely.intersection(a[ia], b[ib]))
    share = np.maximum(inter / np.maximum(shapely.area(a[ia]), 1e-9), inter / np.maximum(shapely.area(b[ib]), 1e-9))
    ok = (inter > 0) & (share >= min_share)
    ia, ib, inter = ia[ok], ib[ok], inter[ok]
    order = np.lexsort((-inter, ia))
    first = np.unique(ia[order], return_index=True)[1]
    out[ia[order][first]] = others[col].to_numpy()[ib[order][first]]
    return out


def _split_by_places(
    geoms: np.ndarray, sub: sparse.csr_matrix, labels: np.ndarray, places: gpd.GeoDataFrame, *, min_share: float
) -> np.ndarray:
    """Split components that cover two or more named places: each unit goes to the nearest such place.

    Adjacent named places (a town centre and the estate next to it) would otherwise merge into one
    area under one name. Edges between units assigned to different places are cut and components
    recomputed, so every piece stays contiguous.
    """
    place_geoms = places.geometry.to_numpy()
    comp = gpd.GeoSeries(geoms).groupby(labels).agg(lambda g: shapely.union_all(g.to_numpy()))
    comp_geoms = np.asarray(comp.to_numpy())
    ic, ip = shapely.STRtree(place_geoms).query(comp_geoms, predicate="intersects")
    inter = shapely.area(shapely.intersection(comp_geoms[ic], place_geoms[ip]))
    share = np.maximum(inter / shapely.area(comp_geoms[ic]), inter / shapely.area(place_geoms[ip]))
    ok = share >= min_share
    ic, ip = ic[ok], ip[ok]
    n_places = np.bincount(ic, minlength=len(comp_geoms))
    if not (n_places >= 2).any():
        return labels
    pairs = pd.DataFrame({"comp": comp.index.to_numpy()[ic], "place": ip})
    pairs = pairs[pairs["comp"].map(pd.Series(n_places, index=comp.index)) >= 2]
    units = pd.DataFrame({"unit": np.arange(len(geoms)), "comp": labels}).merge(pairs, on="comp")
    units["d"] = shapely.distance(
        shapely.centroid(geoms[units["unit"].to_numpy()]), place_geoms[units["place"].to_numpy()]
    )
    nearest = units.sort_values(["unit", "d"]).drop_duplicates("unit")
    key = np.full(len(geoms), -1, dtype=np.int64)
    key[nearest["unit"].to_numpy()] = nearest["place"].to_numpy()
    coo = sub.tocoo()
    same = key[coo.row] == key[coo.col]
    cut = sparse.coo_matrix((coo.data[same], (coo.row[same], coo.col[same])), shape=sub.shape)
    out: np.ndarray = _components(cut)[1]
    return out


def _split_oversized(
    geoms: np.ndarray, sub: sparse.csr_matrix, labels: np.ndarray, *, max_area_m2: float
) -> np.ndarray:
    """Split groups larger than ``max_area_m2`` into contiguous parts of at most that size.

    A group of area ``A`` needs ``k = ceil(A / max)`` parts. Its units are ordered along the
    group's principal axis (of the unit centres) and cut where the cumulative unit area reaches
    ``floor(k / 2) / k`` of the group; each side's connected components (under the same weights)
    are split again while larger than the limit. A single unit larger than the limit stays whole.
    """
    area = shapely.area(geoms)
    centre = shapely.centroid(geoms)
    xy = np.column_stack([shapely.get_x(centre), shapely.get_y(centre)])
    out = np.asarray(labels, dtype=np.int64).copy()
    group_area = np.bincount(out, weights=area)
    if not (group_area > max_area_m2 * (1 + 1e-9)).any():
        return out
    pending = [np.flatnonzero(out == g) for g in np.flatnonzero(group_area > max_area_m2 * (1 + 1e-9))]
    next_label = int(out.max()) + 1
    while pending:  # one step per oversized part (a handful), each vectorised over its units
        members = pending.pop()
        total = float(area[members].sum())
        if members.size < 2 or total <= max_area_m2 * (1 + 1e-9):
            out[members] = next_label
            next_label += 1
            continue
        k = int(np.ceil(total / max_area_m2 - 1e-9))
        local = xy[members] - xy[members].mean(axis=0)
        axis = np.linalg.svd(local, full_matrices=False)[2][0]
        order = np.argsort(local @ axis, kind="stable")
        cum = np.cumsum(area[members][order])
        cut = int(np.searchsorted(cum, total * (k // 2) / k))
        side = np.zeros(members.size, dtype=bool)
        side[order[: min(max(cut, 1), members.size - 1)]] = True
        part = sub[members][:, members].tocoo()
        keep = side[part.row] == side[part.col]
        cut_graph = sparse.coo_matrix((part.data[keep], (part.row[keep], part.col[keep])), shape=part.shape)
        n_parts, piece = _components(cut_graph)
        pending.extend(members[piece == p] for p in range(n_parts))
    return np.unique(out, return_inverse=True)[1].ravel()


def _checked_area_inputs(units: gpd.GeoDataFrame, w: sparse.spmatrix, params: AreaParams | None) -> AreaParams:
    """The area parameters (default :class:`AreaParams`), refused with units, weights or parameters that
    do not fit."""
    if units.crs is None or units.crs != WORKING_CRS:
        raise CRSError(f"units are {units.crs}, not {WORKING_CRS}; reproject them with .to_crs()")
    if w.shape != (len(units), len(units)):
        raise SchemaError(f"weights are {w.shape} but there are {len(units)} units; build them from the same units")
    missing = [c for c in (schema.N, schema.HARM) if c not in units.columns]
    if missing:
        raise SchemaError(f"units lack column(s) {missing} needed for area totals")
    params = AreaParams() if params is None else params
    if not isinstance(params, AreaParams):
        raise ParameterError(f"`params` must be an AreaParams; got {type(params).__name__}")
    return params


def _selected_units(units: gpd.GeoDataFrame, selected: np.ndarray | None, params: AreaParams) -> np.ndarray:
    """The units that may join an area: the hot classes (or ``selected``), hot in enough periods."""
    selected = select_units(units) if selected is None else np.asarray(selected, dtype=bool)
    if params.min_hot_periods > 1:
        if schema.N_HOT_PERIODS not in units.columns:
            raise SchemaError(
                f"units lack {schema.N_HOT_PERIODS!r} (periods each unit was hot), needed for "
                f"min_hot_periods={params.min_hot_periods}; pass AreaParams(min_hot_periods=1) to merge on class alone"
            )
        selected = selected & (units[schema.N_HOT_PERIODS].to_numpy(dtype="float64") >= params.min_hot_periods)
    return selected


def _group_selected(
    units: gpd.GeoDataFrame,
    w: sparse.spmatrix,
    idx: np.ndarray,
    named_places: gpd.GeoDataFrame | None,
    params: AreaParams,
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The selected units ``idx`` kept in areas, each one's area label and the number of areas: neighbours
    merged, too few incidents dropped, split by named places and by size, too small dropped; ``None``
    when no area is left."""
    if idx.size == 0:
        return None
    sub = sparse.csr_matrix(w)[idx][:, idx]
    n_groups, labels = _components(sub)
    comp_n = np.bincount(labels, weights=units[schema.N].to_numpy(dtype="float64")[idx], minlength=n_groups)
    keep = comp_n[labels] >= params.min_incidents
    if not keep.all():
        idx = idx[keep]
        if idx.size == 0:
            return None
        groups, labels = np.unique(labels[keep], return_inverse=True)
        n_groups, labels = len(groups), labels.ravel()
    if named_places is not None and len(named_places):
        labels = _split_by_places(
            units.geometry.to_numpy()[idx],
            sparse.csr_matrix(w)[idx][:, idx],
            labels,
            named_places,
            min_share=params.min_place_overlap,
        )
        n_groups = int(labels.max()) + 1
    if params.max_area_km2 is not None:
        labels = _split_oversized(
            units.geometry.to_numpy()[idx],
            sparse.csr_matrix(w)[idx][:, idx],
            labels,
            max_area_m2=params.max_area_km2 * 1e6,
        )
        n_groups = int(labels.max()) + 1
    if params.min_area_km2 > 0:
        part_m2 = np.bincount(labels, weights=shapely.area(units.geometry.to_numpy()[idx]), minlength=n_groups)
        keep = part_m2[labels] >= params.min_area_km2 * 1e6
        if not keep.any():
            return None
        idx = idx[keep]
        labels = np.unique(labels[keep], return_inverse=True)[1].ravel()
        n_groups = int(labels.max()) + 1
    return idx, labels, n_groups


def hotspot_areas(
    units: gpd.GeoDataFrame,
    w: sparse.spmatrix,
    *,
    selected: np.ndarray | None = None,
    locations: pd.DataFrame | None = None,
    named_places: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    total_n: float | None = None,
    total_harm: float | None = None,
    study_area_m2: float | None = None,
    params: AreaParams | None = None,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Merge contiguous selected units into named areas.

    Parameters
    ----------
    units
        One row per unit (EPSG:27700 polygons) in the row order of ``w``, with ``n``, ``harm``,
        ``pattern``/``category`` and (unless ``params.min_hot_periods`` is 1) ``n_hot_periods``;
        index = ``unit_id``.
    w
        The spatial weights the statistic used (binary, symmetric).
    selected
        Units whose class qualifies (default :func:`select_units`: :data:`AREA_CLASSES`); of
        these, units hot in fewer than ``params.min_hot_periods`` periods are left out.
    locations
        ``unit_id, location, n`` street descriptions per unit (:attr:`geo_csp.cube.Cube.locations`).
    named_places
        Polygons with a ``name`` column; an area overlapping one (see module docstring) takes its name.
    wards
        Polygons with ``ward_name``, for "<ward>: around <street>" names.
    total_n, total_harm, study_area_m2
        Borough totals for the shares (default: sums over ``units``).
    params
        The area rules (default ``AreaParams()``): least hot periods per unit, least incidents per
        area, the overlap for a named place.

    Returns
    -------
    (GeoDataFrame, numpy.ndarray)
        The areas (columns :data:`AREA_COLUMNS`, geometry, ids "HS-0001" numbered by descending harm
        then count) and each unit's ``area_id`` (``None`` outside every area).
    """
    params = _checked_area_inputs(units, w, params)
    selected = _selected_units(units, selected, params)
    unit_area = np.full(len(units), None, dtype=object)
    empty = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in AREA_COLUMNS}, geometry=gpd.GeoSeries([], crs=WORKING_CRS), crs=WORKING_CRS
    )
    grouped = _group_selected(units, w, np.flatnonzero(selected), named_places, params)
    if grouped is None:
        return empty, unit_area
    idx, labels, n_groups = grouped
    chosen = units.iloc[idx]
    geoms = chosen.geometry.to_numpy()
    frame = gpd.GeoDataFrame({"g": labels}, geometry=geoms, crs=WORKING_CRS)
    merged = frame.dissolve(by="g").sort_index()
    polys = gpd.GeoSeries(shapely.make_valid(merged.geometry.to_numpy()), crs=WORKING_CRS)

    n = np.bincount(labels, weights=chosen[schema.N].to_numpy(dtype="float64"), minlength=n_groups)
    h = np.bincount(labels, weights=chosen[schema.HARM].to_numpy(dtype="float64"), minlength=n_groups)
    size = np.bincount(labels, minlength=n_groups)
    total_n = float(units[schema.N].sum()) if total_n is None else float(total_n)
    study_area_m2 = float(units.geometry.area.sum()) if study_area_m2 is None else float(study_area_m2)
    area_m2 = polys.area.to_numpy()

    # each unit counts once; its incidents only break ties (see "An area's class" in the module docstring)
    unit_w = 1.0 + 1e-9 * chosen[schema.N].to_numpy(dtype="float64")
    cls_col = schema.PATTERN if schema.PATTERN in chosen.columns else schema.CATEGORY
    mix = pd.crosstab(labels, chosen[cls_col].astype(object).to_numpy())
    mix_text = mix.apply(
        lambda r: "; ".join(f"{k}: {v}" for k, v in r[r > 0].sort_values(ascending=False).items()), axis=1
    )

    streets = _streets_by_group(locations, chosen.index, labels, n_groups)
    top_street = np.array([g[0] if g else None for g in streets], dtype=object)
    ward_name = _ward_by_incidents(geoms, chosen[schema.N].to_numpy(dtype="float64"), labels, n_groups, wards)
    if named_places is not None and "name" not in named_places.columns:
        raise SchemaError(f"named places need a 'name' column; they have {list(named_places.columns)}")
    place = (
        _largest_overlap(polys, named_places, "name", min_share=params.min_place_overlap)
        if named_places is not None
        else np.full(n_groups, None, dtype=object)
    )

    areas = gpd.GeoDataFrame(
        {
            schema.CATEGORY: _mode_by(labels, chosen[schema.CATEGORY], n_groups, unit_w)
            if schema.CATEGORY in chosen
            else None,
            schema.PATTERN: _mode_by(labels, chosen[schema.PATTERN], n_groups, unit_w)
            if schema.PATTERN in chosen
            else None,
            CLASS_MIX: mix_text.reindex(range(n_groups)).to_numpy(dtype=object),
            N_UNITS: size.astype(np.int64),
            schema.N: n,
            schema.HARM: h,
            SHARE_OF_CRIME: n / total_n if total_n > 0 else np.zeros(n_groups),
            SHARE_OF_AREA: area_m2 / study_area_m2 if study_area_m2 > 0 else np.zeros(n_groups),
            AREA_KM2: area_m2 / 1e6,
            schema.WARD_NAME: ward_name,
            "top_street": top_street,
        },
        geometry=polys.to_numpy(),
        crs=WORKING_CRS,
    )
    order = np.lexsort((-n, -h))
    rank = np.empty(n_groups, dtype=np.int64)
    rank[order] = np.arange(1, n_groups + 1)
    areas.insert(0, schema.AREA_ID, area_ids(rank))
    areas.insert(1, schema.AREA_NAME, _unique_names(place, ward_name, streets, order))
    areas = areas.iloc[order].reset_index(drop=True)
    unit_area[idx] = area_ids(rank[labels])
    return areas, unit_area


PROBLEM_STARTED: Final = "problem_started"
FIRST_NAMED: Final = "first_named"
NAMING_DELAY: Final = "naming_delay_periods"
LATEST_POLICE_UK_MONTH: Final = "latest_police_uk_month"
#: The timeline columns every hotspot area carries (:func:`area_timeline`).
TIMELINE_COLUMNS: Final = (PROBLEM_STARTED, FIRST_NAMED, NAMING_DELAY, LATEST_POLICE_UK_MONTH)


def latest_police_uk_month(incidents: pd.DataFrame) -> str | None:
    """The latest month of the police.uk records (sources ``police_uk_*``) in ``incidents``; ``None`` if none.

    It is the latest month *in the data from police.uk* (for a store, what was downloaded and
    ingested), not a claim about what police.uk has published online since.
    """
    if schema.MONTH not in incidents.columns or schema.SOURCE not in incidents.columns or not len(incidents):
        return None
    police = incidents[schema.SOURCE].astype(str).str.startswith("police_uk").to_numpy()
    months = incidents[schema.MONTH].astype(str).to_numpy()[police]
    return str(months.max()) if months.size else None


def area_timeline(
    hot: np.ndarray,
    unit_area: np.ndarray,
    area_ids: Iterable[str],
    period_labels: Iterable[str],
    *,
    min_hot_periods: int,
    latest_police_uk: str | None = None,
) -> pd.DataFrame:
    """When each area's problem started and when the area rules first named it.

    Parameters
    ----------
    hot
        Boolean (units x periods): the unit was a significant Gi* hot spot in the period.
    unit_area
        Each unit's area id (``None`` outside every area), in the row order of ``hot``.
    area_ids
        The areas to report, in order.
    period_labels
        Label of each period.
    min_hot_periods
        The naming rule (:attr:`AreaParams.min_hot_periods`).
    latest_police_uk
        The latest police.uk month of the data (:func:`latest_police_uk_month`), repeated on every row.

    Returns
    -------
    pandas.DataFrame
        Index: the area ids; :data:`TIMELINE_COLUMNS`: ``problem_started``, the first period in which
        any of the area's units was hot; ``first_named``, the first period by the end of which one of
        its units had been hot in ``min_hot_periods`` periods (the earliest the rules could name it);
        ``naming_delay_periods``, the periods between the two (-1 and "" when never reached); and
        ``latest_police_uk_month``.
    """
    hot = np.asarray(hot, dtype=bool)
    labels = np.asarray([str(p) for p in period_labels], dtype=object)
    if hot.ndim != 2 or hot.shape[1] != len(labels) or hot.shape[0] != len(unit_area):
        raise ParameterError(
            f"`hot` is {hot.shape} but there are {len(unit_area)} units and {len(labels)} period labels"
        )
    ids = pd.Index(list(area_ids), dtype=object)
    first_hot = np.where(hot.any(axis=1), hot.argmax(axis=1), -1)
    reached = np.cumsum(hot, axis=1) >= min_hot_periods
    first_named = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    frame = pd.DataFrame({"area": np.asarray(unit_area, dtype=object), "start": first_hot, "named": first_named})
    frame = frame[pd.notna(frame["area"]).to_numpy() & (first_hot >= 0)]
    start = frame.groupby("area")["start"].min().reindex(ids)
    named = frame[frame["named"] >= 0].groupby("area")["named"].min().reindex(ids)
    s = start.fillna(-1).to_numpy(dtype=np.int64)
    nm = named.fillna(-1).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            PROBLEM_STARTED: np.where(s >= 0, labels[np.maximum(s, 0)] if labels.size else "", ""),
            FIRST_NAMED: np.where(nm >= 0, labels[np.maximum(nm, 0)] if labels.size else "", ""),
            NAMING_DELAY: np.where((nm >= 0) & (s >= 0), nm - s, -1).astype(np.int64),
            LATEST_POLICE_UK_MONTH: np.full(len(ids), latest_police_uk or "", dtype=object),
        },
        index=ids,
    )


def timeline_rule(*, min_hot_periods: int, period_word: str, latest_police_uk: str | None) -> str:
    """The sentence that says how the timeline columns are read (for metadata and printed outputs)."""
    latest = (
        f"the latest month in the data from police.uk is {latest_police_uk}"
        if latest_police_uk
        else "the data hold no police.uk records"
    )
    return (
        f"problem_started: the first {period_word} any of the area's units was a significant hot spot; "
        f"first_named: the first {period_word} by which one of them had been hot in {min_hot_periods} "
        f"{period_word}s (the rule that names an area, so naming lags the start by naming_delay_periods); "
        f"{latest} (police.uk publishes a month some weeks after it ends and gives months only: "
        "for weekly tasking use timed partner data, e.g. geo-csp hotspots --period week --source NAME)"
    )


def match_areas(
    new: gpd.GeoDataFrame,
    previous: gpd.GeoDataFrame | None,
    *,
    min_jaccard: float = 0.2,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Give ``new`` areas the ids of the ``previous`` areas they overlap (Jaccard), one-to-one.

    Parameters
    ----------
    new, previous
        Areas with ``area_id`` and polygons in EPSG:27700 (``previous`` may be None or empty).
    min_jaccard
        Smallest intersection-over-union for two areas to be the same area, in (0, 1].

    Returns
    -------
    (GeoDataFrame, dict)
        ``new`` with ids replaced (matched areas keep the previous id, unmatched ones get fresh ids
        after the largest previous number) and a ``status`` column ("continuing" or "new"); and a
        report ``{"matched": [{"area_id", "jaccard"}], "new": [...ids], "vanished": [...ids]}``.
    """
    if not 0 < min_jaccard <= 1:
        raise ParameterError(f"`min_jaccard` must be in (0, 1]; got {min_jaccard!r}")
    out = new.copy()
    if previous is None or len(previous) == 0:
        out["status"] = "new"
        return out, {"matched": [], "new": out[schema.AREA_ID].tolist(), "vanished": []}
    for name, frame in (("new", new), ("previous", previous)):
        if frame.crs is None or frame.crs != WORKING_CRS:
            raise CRSError(f"{name} areas are {frame.crs}, not {WORKING_CRS}; reproject them with .to_crs()")
        if schema.AREA_ID not in frame.columns:
            raise SchemaError(f"{name} areas have no {schema.AREA_ID!r} column")
    a = new.geometry.to_numpy()
    b = previous.geometry.to_numpy()
    ia, ib = shapely.STRtree(b).query(a, predicate="intersects")
    inter = shapely.area(shapely.intersection(a[ia], b[ib]))
    union = shapely.area(a[ia]) + shapely.area(b[ib]) - inter
    jac = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    matrix = sparse.coo_matrix((jac, (ia, ib)), shape=(len(a), len(b))).toarray()
    from scipy.optimize import linear_sum_assignment  # imported here: a saved run needs none of it

    rows, cols = linear_sum_assignment(-matrix)
    good = matrix[rows, cols] >= min_jaccard
    rows, cols = rows[good], cols[good]

    ids = np.full(len(a), None, dtype=object)
    prev_ids = previous[schema.AREA_ID].to_numpy(dtype=object)
    ids[rows] = prev_ids[cols]
    fresh = np.flatnonzero(pd.isna(ids))
    start = int(_id_number(previous[schema.AREA_ID]).max(initial=0)) + 1
    ids[fresh] = area_ids(np.arange(start, start + fresh.size))
    out[schema.AREA_ID] = ids
    out["status"] = np.where(np.isin(np.arange(len(a)), rows), "continuing", "new")
    vanished = np.setdiff1d(np.arange(len(b)), cols)
    report = {
        "matched": [{"area_id": str(prev_ids[c]), "jaccard": float(matrix[r, c])} for r, c in zip(rows, cols)],
        "new": [str(x) for x in ids[fresh]],
        "vanished": [str(x) for x in prev_ids[vanished]],
    }
    return out, report


def relabel_units(unit_area: np.ndarray, old_ids: np.ndarray, new_ids: np.ndarray) -> np.ndarray:
    """Map each unit's area id from the ids of a fresh run to the matched ids."""
    mapping = pd.Series(np.asarray(new_ids, dtype=object), index=np.asarray(old_ids, dtype=object))
    out: np.ndarray = pd.Series(unit_area, dtype=object).map(mapping).to_numpy(dtype=object)
    return out
