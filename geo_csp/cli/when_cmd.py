"""``geo-csp when``: the day-of-week x hour profile of an area, cell or hotspot, its busiest window, the NTE view.

Only timed, victim-reported records are used (:func:`geo_csp.sources.timing_incidents`): partner
extracts with a time of day, never stop and search, never police.uk street crime (it has the month
only and is never given an hour). Records with a from/to window are spread over it (aoristic weights).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo_csp import settings
from geo_csp._errors import ParameterError
from geo_csp.cli._app import app, console, out


def _evening(text: str) -> tuple[int, int]:
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError as exc:
        raise ParameterError(f"--evening {text!r} must be two hours START-END, e.g. 18-4") from exc
    return start, end


@app.command("when")
def when_command(
    area: Annotated[
        str | None,
        typer.Option(
            "--area",
            help="Named place, ward, H3 cell id, hotspot area (with --areas) or polygon file; default the whole store.",
        ),
    ] = None,
    store_dir: Annotated[Path, typer.Option("--store", help="Store folder.")] = settings.DEFAULT_STORE_DIR,
    areas_file: Annotated[
        Path | None,
        typer.Option(
            "--areas", help="Hotspot areas written by `geo-csp areas` (GeoParquet/GPKG), to name one with --area HS-01."
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help="Timed source (repeatable; default every timed victim-reported source in the store)."
        ),
    ] = None,
    crime_type: Annotated[list[str] | None, typer.Option("--crime-type", help="Category (repeatable).")] = None,
    share: Annotated[float, typer.Option("--share", help="The busiest window holds at least this share.")] = 0.5,
    aoristic: Annotated[
        bool, typer.Option("--aoristic/--no-aoristic", help="Spread from/to windows over their hours.")
    ] = True,
    premises: Annotated[
        Path | None,
        typer.Option(
            "--premises", help="Licensed premises (points CSV/GeoJSON/GPKG): adds the night-time-economy table."
        ),
    ] = None,
    distance_m: Annotated[
        float, typer.Option("--distance-m", help="Incidents within this distance of a premises.")
    ] = 50.0,
    evening: Annotated[str, typer.Option("--evening", help="Evening window START-END in local hours.")] = "18-4",
    png: Annotated[Path | None, typer.Option("--png", help="Write the heat map image here.")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the 7 x 24 counts here.")] = None,
) -> None:
    """When incidents happen: day of week x hour heat map, the busiest window and the counts behind it."""
    import geopandas as gpd

    from geo_csp import geography, layers, schema, store, timeprofile

    frame = store.read_incidents(store_dir, sources=source or None, crime_types=crime_type or None, located_only=True)
    label, geom = "the whole store", None
    if area is not None:
        hot = (
            gpd.read_parquet(areas_file)
            if areas_file is not None and areas_file.suffix == ".parquet"
            else (gpd.read_file(areas_file) if areas_file is not None else None)
        )
        polygon, kind = geography.resolve_place(area, geography.store_geography(store_dir), hot_areas=hot)
        label, geom = f"{polygon['name'].iloc[0]} ({kind})", polygon.geometry.iloc[0]
    profile, window, timed = timeprofile.area_time_profile(frame, geom, aoristic=aoristic, share=share)
    names = profile.attrs["sources"]
    out.print(
        f"Time profile of {label}: {profile.attrs['n_timed']:,} timed incidents from {', '.join(names)} "
        f"({profile.attrs['n_aoristic']:,} with a from/to window, spread over it); hours are UK local time"
    )
    shown = profile.round(1)
    shown.columns = [f"{h:02d}" for h in shown.columns]
    out.print(shown.to_string(), soft_wrap=True)
    by_hour = profile.sum(axis=0)
    hours = [(window["start_hour"] + i) % 24 for i in range(window["hours"])]
    out.print("Busiest window: " + window["text"])
    out.print("Counts behind it: " + ", ".join(f"{h:02d}:00 {by_hour[h]:,.1f}" for h in hours))
    if window["hours"] / 24 >= window["share"] - 0.05:
        out.print("The incidents are spread evenly over the day: no hours stand out.")
    if profile.attrs["n_timed"] < 100:
        out.print(
            f"Caution: {profile.attrs['n_timed']} incidents are few for a 168-hour profile; read the window, "
            "not single hours."
        )
    if premises is not None:
        start, end = _evening(evening)
        params = timeprofile.NteParams(distance_m=distance_m, evening_start_hour=start, evening_end_hour=end)
        nte = timeprofile.night_time_economy(timed, layers.read_places(premises), params=params)
        cols = ["name", schema.N, "n_evening", "evening_share"]
        out.print(
            f"Night-time economy: incidents within {distance_m:g} m of each premises, "
            f"{params.evening_label} evening window"
        )
        out.print(nte[cols].head(20).round(2).to_string(index=False), soft_wrap=True)
    if csv is not None:
        profile.to_csv(csv)
        console.print(f"wrote {csv}")
    if png is not None:
        fig = timeprofile.plot_time_profile(
            profile, title=f"When: {label} ({profile.attrs['n_timed']:,} timed incidents)"
        )
        fig.savefig(png, dpi=110)
        console.print(f"wrote {png}")


@app.command("nearrepeat")
def nearrepeat_command(
    store_dir: Annotated[Path, typer.Option("--store", help="Store folder.")] = settings.DEFAULT_STORE_DIR,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Timed source (repeatable; default every source whose records all carry a day)."),
    ] = None,
    crime_type: Annotated[
        list[str] | None, typer.Option("--crime-type", help="Category (repeatable; default Burglary).")
    ] = None,
    distance_m: Annotated[float, typer.Option("--distance-m", help="Near in space (metres).")] = 200.0,
    days: Annotated[float, typer.Option("--days", help="Near in time (days).")] = 14.0,
    since: Annotated[str | None, typer.Option("--since", help="First month (YYYY-MM) of the incidents tested.")] = None,
    permutations: Annotated[int, typer.Option("--permutations", help="Shuffles of the dates.")] = 999,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the shuffles.")] = 0,
    min_size: Annotated[int, typer.Option("--min-size", help="Smallest series listed.")] = 3,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the series here.")] = None,
) -> None:
    """Near-repeat alert: Knox space-time test against shuffled dates, and the series to look at."""
    from geo_csp import nearrepeat, periods, schema, store

    types = crime_type or ["Burglary"]
    frame = store.read_incidents(store_dir, sources=source or None, crime_types=types, located_only=True)
    if since is not None:
        periods.validate_months([since], name="--since")
        frame = frame[frame[schema.MONTH].astype(str) >= since]
    if source is None and len(frame):  # only sources whose records carry a day (police.uk has months only)
        dated = frame[schema.OCCURRED_DATE].notna().groupby(frame[schema.SOURCE].astype(str)).all()
        frame = frame[frame[schema.SOURCE].astype(str).isin(dated[dated].index)]
        if frame.empty:
            raise ParameterError(
                f"the store {store_dir} holds no {', '.join(types)} records with a day: police.uk publishes months "
                "only and is never given a day; ingest a timed partner extract (geo-csp ingest --mapping FILE)"
            )
    params = nearrepeat.NearRepeatParams(
        distance_m=distance_m, days=days, permutations=permutations, seed=seed, min_size=min_size
    )
    result = nearrepeat.knox_test(frame, params=params)
    sources_used = ", ".join(sorted(frame[schema.SOURCE].astype(str).unique()))
    out.print(f"{', '.join(types)} from {sources_used}: {result.text}", soft_wrap=True)
    shown = result.table.assign(
        expected=result.table["expected"].round(1), knox_ratio=result.table["knox_ratio"].round(2)
    )
    out.print(shown.to_string(index=False), soft_wrap=True)
    series = nearrepeat.near_repeat_series(frame, params=params)
    if series.empty:
        out.print(f"No series of {min_size} or more incidents within {distance_m:g} m and {days:g} days.")
    else:
        cols = ["series_id", "n", "first_date", "last_date", "location", "radius_m"]
        out.print(f"Series to look at ({len(series)}), latest first:")
        out.print(series[cols].head(20).round(0).to_string(index=False), soft_wrap=True)
    if csv is not None:
        series.to_csv(csv, index=False)
        console.print(f"wrote {csv}")
