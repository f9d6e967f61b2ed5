"""When incidents happen: day-of-week x hour-of-day profiles, aoristic weights, the busiest window, the night-time economy.

A profile is a 7 x 24 table (Monday to Sunday, local hours 0-23) of incidents from sources that record a
time of day (partner extracts; police.uk street crime has the month only and never gets an hour).

**Aoristic weights** (Ratcliffe 2002, "Aoristic signatures and the spatio-temporal analysis of high
volume crime patterns", J. Quantitative Criminology 18(1)): an incident known only to have happened
between ``occurred_from`` and ``occurred_to`` (a burglary found in the morning) counts as one incident
spread over the hours of its window, each hour of the week receiving the share of the window that
falls in it. A window from Friday 18:00 to Saturday 08:00 gives each of those 14 hours 1/14; one from
09:30 to 10:30 gives 0.5 to the 09:00 hour and 0.5 to the 10:00 hour. A window a week or longer
spreads the incident over the whole week and says nothing about when: such rows are counted in
``attrs["n_week_or_longer"]``. Hours are local clock time (``tz``, BST in summer).

**Busiest window** (:func:`busiest_window`): the shortest run of consecutive hours, wrapping midnight,
that holds at least ``share`` (default half) of the incidents: an evening-economy profile gives a
window such as 18:00-04:00, a school-day profile 15:00-18:00. :func:`peak_window` gives the busiest
run of a fixed number of hours.

**Night-time economy** (:func:`night_time_economy`): incidents within ``distance_m`` of licensed
premises (places read with :func:`geo_csp.layers.read_places`), by local hour, with the share in an
evening window such as 18:00-04:00.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import schema
from geo_csp._errors import ParameterError, SchemaError
from geo_csp._validate import require_columns, require_working_crs

if TYPE_CHECKING:  # matplotlib is imported where a profile is plotted
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DAYS",
    "NteParams",
    "aoristic_weights",
    "area_time_profile",
    "busiest_window",
    "incident_windows",
    "night_time_economy",
    "peak_window",
    "plot_time_profile",
    "time_profile",
]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS_PER_WEEK = 168
_ZONE_LABELS = {"Europe/London": "UK time"}
#: Hours are counted from this Monday 00:00 local time.
_MONDAY = pd.Timestamp("1970-01-05")


def _local_hours(times: pd.Series, tz: str) -> np.ndarray:
    """Hours (float) since Monday 5 January 1970 00:00 on the local clock; naive values are UTC (the schema)."""
    t = pd.to_datetime(times)
    t = t.dt.tz_convert(tz) if t.dt.tz is not None else t.dt.tz_localize("UTC").dt.tz_convert(tz)
    wall = t.dt.tz_localize(None)
    out: np.ndarray = ((wall - _MONDAY) / pd.Timedelta(hours=1)).to_numpy(dtype="float64")
    return out


def aoristic_weights(start: pd.Series, end: pd.Series, *, tz: str = "Europe/London") -> np.ndarray:
    """Each incident's share in each of the 168 hours of the week (rows sum to 1).

    Parameters
    ----------
    start, end
        The window of each incident (UTC instants; naive values are UTC). A missing or equal ``end``
        means the time is exact: weight 1 in the hour of ``start``.
    tz
        Local time zone whose clock the hours are on.

    Returns
    -------
    numpy.ndarray
        ``(n, 168)``, hour 0 = Monday 00:00-01:00 local time.
    """
    a = _local_hours(start, tz)
    b = _local_hours(end, tz)
    if np.isnan(a).any():
        raise SchemaError("aoristic weights need a start time for every incident; drop the rows without one")
    exact = ~np.isfinite(b) | (b <= a)
    if (np.isfinite(b) & (b < a)).any():
        raise SchemaError(f"{int((b < a).sum())} window(s) end before they start; check occurred_from/occurred_to")
    hours = np.arange(HOURS_PER_WEEK, dtype="float64")

    def covered(t: np.ndarray) -> np.ndarray:
        # hours of each hour-of-week bin within [0, t): whole weeks, plus the part of this week's bin
        weeks, into = np.divmod(t, HOURS_PER_WEEK)
        out: np.ndarray = weeks[:, None] + np.clip(into[:, None] - hours[None, :], 0.0, 1.0)
        return out

    out = np.zeros((len(a), HOURS_PER_WEEK))
    spread = np.flatnonzero(~exact)
    if spread.size:
        sa, sb = a[spread], b[spread]
        out[spread] = (covered(sb) - covered(sa)) / (sb - sa)[:, None]
    point = np.flatnonzero(exact)
    out[point, np.floor(np.mod(a[point], HOURS_PER_WEEK)).astype(np.int64)] = 1.0
    return out


def incident_windows(incidents: pd.DataFrame, *, aoristic: bool = True) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """Which rows have a time of day, and each row's start and end (end NaT where the time is exact).

    The start is ``occurred_from`` where a from/to window is given, else ``occurred_at``; the end is
    ``occurred_to`` for rows with both window columns (and ``aoristic``), else NaT.
    """
    nat = pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[us, UTC]")

    def column(name: str) -> pd.Series:  # UTC-aware; naive values are UTC, as the schema defines them
        if name not in incidents.columns:
            return nat
        values = pd.to_datetime(incidents[name])
        return values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")

    at, start, end = column(schema.OCCURRED_AT), column(schema.OCCURRED_FROM), column(schema.OCCURRED_TO)
    windowed = (start.notna() & end.notna()) if aoristic else pd.Series(False, index=incidents.index)
    begin = start.where(start.notna(), at)
    timed = begin.notna().to_numpy()
    return timed, begin, end.where(windowed, pd.NaT)


def time_profile(
    incidents: pd.DataFrame, *, tz: str = "Europe/London", weight_col: str | None = None, aoristic: bool = True
) -> pd.DataFrame:
    """Incidents by day of week (rows, Mon-Sun) and local hour of day (columns 0-23).

    Parameters
    ----------
    incidents
        Rows with ``occurred_at`` (UTC instants, as the store holds them) and, for records known only
        to a window, ``occurred_from``/``occurred_to``. Naive timestamps are taken as UTC, as the
        schema defines the columns. Rows with neither are left out and counted in ``attrs["n_untimed"]``.
    tz
        Local time zone.
    weight_col
        Optional column of weights (e.g. harm); otherwise each row counts 1.
    aoristic
        Spread rows with a from/to window over its hours (:func:`aoristic_weights`); False counts them
        at their start.

    Raises
    ------
    SchemaError
        When no row has a time of day (e.g. police.uk data, which is month-only).
    """
    if schema.OCCURRED_AT not in incidents.columns and schema.OCCURRED_FROM not in incidents.columns:
        raise SchemaError(
            "the incidents have no 'occurred_at' column: no time of day is known (police.uk gives the month only); "
            "a time profile needs partner data with times"
        )
    timed, begin, end = incident_windows(incidents, aoristic=aoristic)
    if not timed.any():
        raise SchemaError(
            f"none of the {len(incidents)} incidents has a time of day (police.uk gives the month only); "
            "a time profile needs partner data with times"
        )
    rows = np.flatnonzero(timed)
    weights = incidents[weight_col].to_numpy(dtype="float64")[rows] if weight_col else np.ones(rows.size)
    shares = aoristic_weights(begin.iloc[rows], end.iloc[rows], tz=tz)
    grid = (weights @ shares).reshape(7, 24)
    out = pd.DataFrame(grid, index=pd.Index(DAYS, name="day"), columns=pd.RangeIndex(24, name="hour"))
    span_h = ((end.iloc[rows] - begin.iloc[rows]) / pd.Timedelta(hours=1)).to_numpy(dtype="float64")
    out.attrs.update(
        {
            "n_timed": int(timed.sum()),
            "n_untimed": int((~timed).sum()),
            "tz": tz,
            "n_aoristic": int(np.isfinite(span_h).sum()),
            "n_week_or_longer": int((span_h >= HOURS_PER_WEEK).sum()),
            "aoristic": bool(aoristic),
        }
    )
    return out


def _zone(profile: pd.DataFrame) -> str:
    tz = str(profile.attrs.get("tz", ""))
    return _ZONE_LABELS.get(tz, tz or "local time")


def _busiest_days(profile: pd.DataFrame) -> list[str]:
    by_day = profile.to_numpy().sum(axis=1)
    order = np.argsort(-by_day, kind="stable")
    return [DAYS[i] for i in order if by_day[i] > by_day.mean()]


def _circular_sums(by_hour: np.ndarray, hours: int) -> np.ndarray:
    """Sum of each run of ``hours`` consecutive hours starting at 0..23 (wrapping midnight)."""
    wrapped = np.concatenate([by_hour, by_hour[: hours - 1]])
    return np.convolve(wrapped, np.ones(hours), mode="valid")[:24]


def peak_window(profile: pd.DataFrame, *, hours: int = 4) -> dict[str, object]:
    """The busiest run of ``hours`` consecutive hours (wrapping midnight) and the busiest days.

    Returns ``start_hour``, ``end_hour`` (exclusive), ``hour_share`` (share of incidents in the window),
    ``days`` (days above the daily average, busiest first) and ``text`` for a patrol sheet, with the
    hours in the profile's time zone (``"UK time"`` for Europe/London).
    """
    if not 1 <= hours <= 24:
        raise ParameterError(f"`hours` must be 1-24; got {hours!r}")
    by_hour = profile.to_numpy().sum(axis=0)
    total = by_hour.sum()
    if total <= 0:
        raise ParameterError("the time profile is empty")
    sums = _circular_sums(by_hour, hours)
    start = int(np.argmax(sums))
    days = _busiest_days(profile)
    share = float(sums[start] / total)
    end = (start + hours) % 24
    text = f"{start:02d}:00-{end:02d}:00 {_zone(profile)} ({share:.0%} of incidents)" + (
        f", busiest {', '.join(days[:3])}" if days else ""
    )
    return {"start_hour": start, "end_hour": end, "hour_share": share, "days": days, "text": text}


def busiest_window(profile: pd.DataFrame, *, share: float = 0.5) -> dict[str, Any]:
    """The shortest run of consecutive hours (wrapping midnight) holding at least ``share`` of the incidents.

    Among runs of that length the one holding most incidents is taken (the earliest start on a tie).

    Returns
    -------
    dict
        ``start_hour``, ``end_hour`` (exclusive), ``hours``, ``n`` (incidents in the window, aoristic
        shares summed), ``total``, ``share`` (of the total), ``uniform_share`` (what the same number of
        hours would hold if every hour were equal: hours / 24), ``busiest_cell`` (day, hour and count of
        the busiest single hour of the week), ``days`` (days above the daily average) and ``text``.
    """
    if not 0 < share <= 1:
        raise ParameterError(f"`share` must be in (0, 1]; got {share!r}")
    grid = profile.to_numpy(dtype="float64")
    by_hour = grid.sum(axis=0)
    total = float(by_hour.sum())
    if total <= 0:
        raise ParameterError("the time profile is empty: no incident with a time of day")
    for hours in range(1, 25):
        sums = _circular_sums(by_hour, hours)
        if sums.max() >= share * total - 1e-9:
            break
    start = int(np.argmax(sums))
    n = float(sums[start])
    end = (start + hours) % 24
    day, hour = np.unravel_index(int(np.argmax(grid)), grid.shape)
    days = _busiest_days(profile)
    text = (
        f"{start:02d}:00-{end:02d}:00 {_zone(profile)}: {n:,.0f} of {total:,.0f} incidents ({n / total:.0%}) in "
        f"{hours} of 24 hours; busiest hour {DAYS[day]} {hour:02d}:00 ({grid[day, hour]:,.1f})"
        + (f"; busiest days {', '.join(days[:3])}" if days else "")
    )
    return {
        "start_hour": start,
        "end_hour": end,
        "hours": hours,
        "n": n,
        "total": total,
        "share": n / total,
        "uniform_share": hours / 24,
        "busiest_cell": {"day": DAYS[day], "hour": int(hour), "n": float(grid[day, hour])},
        "days": days,
        "text": text,
    }


def plot_time_profile(profile: pd.DataFrame, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Heatmap of a :func:`time_profile` (days x hours); returns the matplotlib Figure (``ax``'s when given)."""
    import matplotlib
    import matplotlib.figure
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):  # a title is printed as given
        if ax is None:
            fig, ax = plt.subplots(figsize=(10, 3.6))
        elif isinstance(ax.figure, matplotlib.figure.Figure):
            fig = ax.figure
        else:  # the layout below is a Figure's
            raise ParameterError("`ax` is on a matplotlib SubFigure; pass axes of a Figure (plt.subplots())")
        image = ax.imshow(profile.to_numpy(), aspect="auto", cmap="YlOrRd", origin="upper")
        ax.set_yticks(range(7), list(profile.index))
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_xlabel(f"hour of day ({profile.attrs.get('tz', 'local time')})")
        n = profile.attrs.get("n_timed", int(profile.to_numpy().sum()))
        ax.set_title(title or f"When incidents happen ({n} with a time of day)")
        fig.colorbar(image, ax=ax, label="incidents")
        fig.tight_layout()
    return fig


@dataclass(frozen=True)
class NteParams:
    """The night-time-economy view: how near a licensed premises counts and which hours are the evening.

    Parameters
    ----------
    distance_m
        Incidents within this distance (metres, EPSG:27700) of a premises count for it (> 0).
    evening_start_hour, evening_end_hour
        The evening window in local hours, wrapping midnight (default 18:00-04:00).
    tz
        Local time zone.
    """

    distance_m: float = 50.0
    evening_start_hour: int = 18
    evening_end_hour: int = 4
    tz: str = "Europe/London"

    def __post_init__(self) -> None:
        if not self.distance_m > 0:
            raise ParameterError(f"`distance_m` must be positive metres; got {self.distance_m!r}")
        for name in ("evening_start_hour", "evening_end_hour"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
                raise ParameterError(f"`{name}` must be an hour 0-23; got {value!r}")
        if self.evening_start_hour == self.evening_end_hour:
            raise ParameterError("the evening window is empty: its start and end hours are equal")

    @property
    def evening_hours(self) -> list[int]:
        """The window's hours in order, e.g. [18, 19, ..., 23, 0, 1, 2, 3]."""
        length = (self.evening_end_hour - self.evening_start_hour) % 24
        return [(self.evening_start_hour + i) % 24 for i in range(length)]

    @property
    def evening_label(self) -> str:
        """The window as "18:00-04:00"."""
        return f"{self.evening_start_hour:02d}:00-{self.evening_end_hour:02d}:00"


def night_time_economy(
    incidents: pd.DataFrame, premises: gpd.GeoDataFrame, *, params: NteParams | None = None
) -> pd.DataFrame:
    """Incidents near each licensed premises by local hour, with the evening window's count and share.

    Parameters
    ----------
    incidents
        Timed incidents (``easting``, ``northing``, ``occurred_at`` and optionally a from/to window);
        rows without a time of day are left out (police.uk has none).
    premises
        Points (EPSG:27700) with ``place_id`` and ``name`` (:func:`geo_csp.layers.read_places`).
    params
        Distance and evening window (:class:`NteParams`).

    Returns
    -------
    pandas.DataFrame
        One row per premises, busiest evening first: ``place_id, name, n`` (timed incidents within
        ``distance_m``), ``n_evening``, ``evening_share`` and one column per hour ``h00``..``h23``
        (aoristic shares where a window is known). An incident near two premises counts for both.
        ``attrs["nte_params"]`` holds the parameters.
    """
    params = params or NteParams()
    require_working_crs(premises, "`premises`", error=SchemaError)
    require_columns(premises, ("place_id", "name"), "`premises`", fix="read them with geo_csp.layers.read_places")
    hour_cols = [f"h{h:02d}" for h in range(24)]
    x = incidents[schema.EASTING].to_numpy(dtype="float64")
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y)
    tree = shapely.STRtree(premises.geometry.to_numpy())
    inc_idx, prem_idx = tree.query(shapely.points(x[ok], y[ok]), predicate="dwithin", distance=params.distance_m)
    near = incidents.iloc[np.flatnonzero(ok)[inc_idx]]
    by_hour = np.zeros((len(premises), 24))
    timed, begin, end = incident_windows(near)
    if timed.any():
        sel = np.flatnonzero(timed)
        hourly = aoristic_weights(begin.iloc[sel], end.iloc[sel], tz=params.tz).reshape(-1, 7, 24).sum(axis=1)
        np.add.at(by_hour, prem_idx[sel], hourly)
    out = pd.DataFrame(by_hour, columns=hour_cols)
    out.insert(0, "place_id", premises["place_id"].to_numpy(dtype=object))
    out.insert(1, "name", premises["name"].to_numpy(dtype=object))
    total = by_hour.sum(axis=1)
    evening = by_hour[:, params.evening_hours].sum(axis=1)
    out.insert(2, schema.N, total)
    out.insert(3, "n_evening", evening)
    with np.errstate(invalid="ignore", divide="ignore"):
        out.insert(4, "evening_share", np.where(total > 0, evening / total, np.nan))
    out = out.sort_values(["n_evening", schema.N], ascending=False, kind="mergesort").reset_index(drop=True)
    out.attrs["nte_params"] = {**asdict(params), "evening": params.evening_label}
    return out


def area_time_profile(
    incidents: pd.DataFrame, area: shapely.Geometry | None = None, *, aoristic: bool = True, share: float = 0.5
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """The profile of an area from its timed victim-reported incidents, and its busiest window.

    Parameters
    ----------
    incidents
        Store incidents (any sources): only timed rows of victim-reported sources are used
        (:func:`geo_csp.sources.timing_incidents`: never stop and search, never police.uk months).
    area
        Polygon (EPSG:27700) to keep incidents in; ``None`` keeps all.
    aoristic, share
        As :func:`time_profile` and :func:`busiest_window`.

    Returns
    -------
    (profile, window, timed)
        The 7 x 24 profile (``attrs["sources"]`` names the sources used), :func:`busiest_window`'s
        result, and the timed incidents used.

    Raises
    ------
    ParameterError
        No timed victim-reported incident (in the area).
    """
    from geo_csp import sources

    timed, names = sources.timing_incidents(incidents)
    if timed.empty:
        held = sorted(incidents[schema.SOURCE].astype(str).unique()) if schema.SOURCE in incidents.columns else []
        raise ParameterError(
            f"no timed victim-reported incidents among sources {held or 'none'}: police.uk street crime has the "
            "month only and stop and search is police activity; ingest a partner extract with a date-time "
            "(geo-csp ingest --mapping FILE) or choose its source"
        )
    if area is not None:
        shapely.prepare(area)
        inside = shapely.intersects_xy(
            area, timed[schema.EASTING].to_numpy(dtype="float64"), timed[schema.NORTHING].to_numpy(dtype="float64")
        )
        timed = timed[inside]
        if timed.empty:
            raise ParameterError("no timed victim-reported incident lies in this area; choose a larger area")
        names = tuple(sorted(timed[schema.SOURCE].astype(str).unique())) if schema.SOURCE in timed.columns else ()
    profile = time_profile(timed, aoristic=aoristic)
    profile.attrs["sources"] = list(names)
    return profile, busiest_window(profile, share=share), timed
