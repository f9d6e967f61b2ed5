"""SYNTHETIC incidents for the demo borough: background, planted hotspots and the Heartbeat effect.

Every incident is one row of a table with the month index (0 = 2023-01), the crime type index (into
:data:`geo_csp.schema.CRIME_TYPES`), the snap point it sits on (-1 = unlocated) and its origin
("background" or a planted hotspot's name). Counts are Poisson with mild seasonality; locations
are drawn from snap-point weights. All draws are vectorised over incidents; loops run only over
months, crime types and hotspots.

Planted multipliers are *density multipliers*: expected incidents per km^2 inside the place divided
by the borough-average background incidents per km^2 in the same month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo_csp import schema
from geo_csp.demo.places import DemoPlaces

__all__ = ["Hotspot", "HOTSPOTS", "TYPE_SHARES", "N_MONTHS", "START_MONTH", "months", "make_incidents"]

START_MONTH = "2023-01"
N_MONTHS = 36

# Shares of recorded crime + ASB by police.uk type (England & Wales-like, as the brief states).
TYPE_SHARES: dict[str, float] = {
    "Violence and sexual offences": 0.35,
    "Anti-social behaviour": 0.18,
    "Public order": 0.08,
    "Criminal damage and arson": 0.08,
    "Other theft": 0.07,
    "Shoplifting": 0.06,
    "Vehicle crime": 0.05,
    "Burglary": 0.05,
    "Drugs": 0.02,
    "Other crime": 0.02,
    "Bicycle theft": 0.01,
    "Robbery": 0.01,
    "Theft from the person": 0.01,
    "Possession of weapons": 0.01,
}
#: police.uk's shop-type snap-point names (see :data:`geo_csp.demo.places._PUBLIC_PLACES`).
SHOP_PLACES = ("Supermarket", "Shopping Area")
_CENTRE_MIX = {
    "Violence and sexual offences": 0.36,
    "Anti-social behaviour": 0.14,
    "Shoplifting": 0.12,
    "Public order": 0.11,
    "Other theft": 0.08,
    "Criminal damage and arson": 0.05,
    "Theft from the person": 0.03,
    "Drugs": 0.03,
    "Robbery": 0.02,
    "Bicycle theft": 0.02,
    "Vehicle crime": 0.02,
    "Possession of weapons": 0.01,
    "Other crime": 0.01,
}
_ESTATE_MIX = {
    "Violence and sexual offences": 0.34,
    "Anti-social behaviour": 0.24,
    "Criminal damage and arson": 0.12,
    "Burglary": 0.07,
    "Vehicle crime": 0.06,
    "Public order": 0.07,
    "Drugs": 0.04,
    "Other theft": 0.03,
    "Other crime": 0.02,
    "Possession of weapons": 0.01,
}


@dataclass(frozen=True)
class Hotspot:
    """A planted hotspot: a named place, a kind and a density multiplier per month."""

    name: str
    kind: str  # "persistent" | "emerging" | "diminishing"
    multipliers: tuple[float, ...]  # per month; 0 means background only
    mix: tuple[tuple[str, float], ...]
    sigma_m: float | None = None  # Gaussian concentration around the centre (None: uniform over points)


#: Months the emerging hotspot has been hot at the end of the series: the last 20% of the 36 months,
#: i.e. inside the "recent" window of Chainey's scheme at its default (``recent_prop`` 0.2 -> 7
#: periods). An onset any earlier puts hot months into the "older" window, and Chainey's rules then
#: call the place intermittent, not emerging; ArcGIS calls it new/consecutive either way.
EMERGING_MONTHS = 7


def _ramp(a: float, b: float, n: int) -> tuple[float, ...]:
    return tuple(float(v) for v in np.linspace(a, b, n))


HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot("Bury Town Centre", "persistent", (10.0,) * N_MONTHS, tuple(_CENTRE_MIX.items()), sigma_m=280.0),
    Hotspot("Moorside", "persistent", (12.0,) * N_MONTHS, tuple(_ESTATE_MIX.items())),
    Hotspot(
        "Victoria Estate",
        "emerging",
        (0.0,) * (N_MONTHS - EMERGING_MONTHS) + _ramp(6.0, 10.0, EMERGING_MONTHS),
        tuple(_ESTATE_MIX.items()),
    ),
    Hotspot("Radcliffe Town Centre", "diminishing", (10.0,) * 12 + _ramp(9.5, 5.0, 24), tuple(_CENTRE_MIX.items())),
)


def months() -> list[str]:
    """The 36 demo months, "2023-01" .. "2025-12"."""
    return [str(p) for p in pd.period_range(START_MONTH, periods=N_MONTHS, freq="M")]


def seasonality(*, amplitude: float) -> np.ndarray:
    """Monthly factor (mean 1) peaking in July."""
    cal = np.arange(N_MONTHS) % 12 + 1
    return 1.0 + amplitude * np.cos(2 * np.pi * (cal - 7) / 12)


@dataclass(frozen=True)
class Incidents:
    """The generated incidents and what was planted (see the module docstring for the columns)."""

    table: pd.DataFrame  # month, type, point, origin
    background_per_km2: np.ndarray  # expected background density per month
    expected: dict[str, np.ndarray]  # hotspot -> expected planted excess per month
    heartbeat: dict[str, object]


def _weights_in(places: DemoPlaces, spot: Hotspot) -> tuple[np.ndarray, np.ndarray]:
    geom = places.place(spot.name)
    idx = places.points_in(geom)
    if spot.sigma_m is None:
        w = np.ones(len(idx))
    else:
        c = geom.centroid
        d2 = (places.points["easting"].to_numpy()[idx] - c.x) ** 2 + (
            places.points["northing"].to_numpy()[idx] - c.y
        ) ** 2
        w = np.exp(-d2 / (2 * spot.sigma_m**2))
    return idx, w / w.sum()


def make_incidents(
    places: DemoPlaces,
    rng: np.random.Generator,
    *,
    crimes_per_year: float,
    unlocated_share: float,
    heartbeat_footprint: shapely.Geometry,
    displacement_nodes: np.ndarray,
    heartbeat_from: int,
    heartbeat_reduction: float,
    heartbeat_displaced_share: float,
) -> Incidents:
    """Background + planted hotspots + the Heartbeat reduction and displacement, as one table."""
    pts = places.points
    area_km2 = float(places.borough.area.iloc[0]) / 1e6
    types = list(schema.CRIME_TYPES)
    shares = np.array([TYPE_SHARES[t] for t in types])
    bg_w = pts["weight"].to_numpy()

    # planted excess per hotspot and month, relative to the borough-average background density
    spots = []
    excess_density = np.zeros(N_MONTHS)  # sum over hotspots of (mult - local ratio) * area, km^2 units
    for spot in HOTSPOTS:
        geom = places.place(spot.name)
        a_km2 = geom.area / 1e6
        local_ratio = bg_w[places.points_in(geom)].sum() / (a_km2 / area_km2)
        mult = np.asarray(spot.multipliers)
        unit_excess = np.where(mult > 0, np.maximum(mult - local_ratio, 0.0), 0.0) * a_km2
        excess_density += unit_excess
        spots.append((spot, unit_excess))
    season = seasonality(amplitude=0.08)
    # choose the background density so that the expected annual total is crimes_per_year
    d_bg = crimes_per_year / 12 / (area_km2 + excess_density.mean()) * season  # per km^2 per month

    # Shoplifting sits at shop-type snap points, each drawing an equal part of half of it, but only
    # inside the planted places (the town centres' shops); elsewhere a "Supermarket" label is just a
    # snap point's name and its part follows the background. A pile at each of the ~20 scattered
    # shop points made a persistent hot cell the truth did not record.
    shop = pts["location"].isin([f"On or near {name}" for name in SHOP_PLACES]).to_numpy()
    in_planted = np.zeros(len(pts), dtype=bool)
    for spot in HOTSPOTS:
        in_planted[places.points_in(places.place(spot.name))] = True
    shop_pile = np.where(shop & in_planted, 0.5 / max(int(shop.sum()), 1), 0.0)

    frames = []
    asb = types.index("Anti-social behaviour")
    for t, share in enumerate(shares):
        amp = 0.18 if t == asb else 0.08
        lam = share * d_bg * area_km2 * seasonality(amplitude=amp) / season
        n = rng.poisson(lam)
        m = np.repeat(np.arange(N_MONTHS), n)
        w = bg_w / bg_w.sum()
        if types[t] == "Shoplifting":
            w = shop_pile + (1.0 - shop_pile.sum()) * w
        p = rng.choice(len(pts), size=len(m), p=w)
        frames.append(pd.DataFrame({"month": m, "type": t, "point": p, "origin": "background"}))
    expected: dict[str, np.ndarray] = {}
    for spot, unit_excess in spots:
        lam = unit_excess * d_bg
        expected[spot.name] = lam
        n = rng.poisson(lam)
        m = np.repeat(np.arange(N_MONTHS), n)
        idx, w = _weights_in(places, spot)
        mix_types = [types.index(k) for k, _ in spot.mix]
        mix_p = np.array([v for _, v in spot.mix])
        frames.append(
            pd.DataFrame(
                {
                    "month": m,
                    "type": rng.choice(mix_types, size=len(m), p=mix_p / mix_p.sum()),
                    "point": idx[rng.choice(len(idx), size=len(m), p=w)],
                    "origin": spot.name,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)

    # Operation Heartbeat: from `heartbeat_from` a share of footprint crime is prevented; part of the
    # prevented crime moves to the displacement street.
    in_fp = shapely.contains_xy(heartbeat_footprint, pts["easting"].to_numpy(), pts["northing"].to_numpy())
    at = in_fp[table["point"].to_numpy()] & (table["month"].to_numpy() >= heartbeat_from)
    removed = at & (rng.random(len(table)) < heartbeat_reduction)
    removed_idx = np.flatnonzero(removed)
    n_disp = int(round(len(removed_idx) * heartbeat_displaced_share))
    moved = rng.choice(removed_idx, size=n_disp, replace=False)
    node_pos = places.node_rows(displacement_nodes)
    table.loc[moved, "point"] = node_pos[rng.integers(0, len(node_pos), size=n_disp)]
    table.loc[moved, "origin"] = "Heartbeat displacement"
    dropped = np.setdiff1d(removed_idx, moved)
    table = table.drop(index=dropped)

    # a few background rows are published without a location
    bg_rows = np.flatnonzero(table["origin"].to_numpy() == "background")
    lost = rng.choice(bg_rows, size=int(round(unlocated_share * len(bg_rows))), replace=False)
    table.iloc[lost, table.columns.get_loc("point")] = -1
    order = np.lexsort((rng.random(len(table)), table["month"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    heartbeat: dict[str, object] = {
        "prevented": int(len(removed_idx)),
        "displaced": n_disp,
        "prevented_not_displaced": int(len(dropped)),
        "footprint_rows_in_operation_before_effect": int(at.sum()),
    }
    return Incidents(table, d_bg, expected, heartbeat)
