"""Derive Bury's shipped geography from the ONS/Census open data kept beside the repository.

Run from the repository root: ``python boundaries/make_bury.py [REAL_DATA_DIR]``. It reads the
Greater Manchester files under ``../shared/data/real`` (see PROVENANCE.md here), subsets them to Bury
(E08000002) and writes the files in this folder. The outputs are committed, so a fresh install works
on Bury with no downloads; this script documents exactly how they were made.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

HERE = Path(__file__).resolve().parent
BURY_LAD = "E08000002"


def main(real: Path) -> None:
    """Write Bury's geography files into this folder from the real-data folder ``real``."""
    lookup = pd.read_csv(real / "gm-lsoa" / "lsoa21_to_ward22_best-fit_lookup.csv")
    lookup = lookup[lookup["lad22cd"] == BURY_LAD]

    census = pd.read_csv(real / "population" / "census2021_ts001_usual_residents_lsoa21_england_wales.csv.gz")
    census = census.rename(
        columns={"geography code": "lsoa_code", "Residence type: Total; measures: Value": "population"}
    )[["lsoa_code", "population"]]
    mid2017 = pd.read_csv(real / "population" / "mid2017_population_lsoa11_ward_la_england_wales.csv.gz")
    mid2017 = mid2017.rename(columns={"population_mid2017": "population"})[["area_code", "population"]]

    borough = gpd.read_file(real / "gm-local-authorities" / "gm_local_authority_2021_generalised.geojson")
    borough = borough[borough["area_code"] == BURY_LAD][["area_code", "area_name", "geometry"]]
    borough = borough.rename(columns={"area_code": "borough_code", "area_name": "borough_name"})
    borough["population"] = int(census[census["lsoa_code"].isin(lookup["lsoa21cd"])]["population"].sum())

    lsoa21 = gpd.read_file(real / "gm-lsoa" / "gm_lsoa_2021_generalised.geojson")
    lsoa21 = lsoa21[lsoa21["area_code"].isin(lookup["lsoa21cd"])]
    lsoa21 = lsoa21.rename(columns={"area_code": "lsoa_code", "area_name": "lsoa_name"})
    lsoa21 = lsoa21.merge(census, on="lsoa_code", how="left").merge(
        lookup[["lsoa21cd", "wd22cd"]].rename(columns={"lsoa21cd": "lsoa_code", "wd22cd": "ward_code"}),
        on="lsoa_code",
    )

    lsoa11 = gpd.read_file(real / "gm-lsoa" / "gm_lsoa_2011_generalised.geojson")
    lsoa11 = lsoa11[lsoa11["area_name"].str.startswith("Bury ")]
    lsoa11 = lsoa11.rename(columns={"area_code": "lsoa_code", "area_name": "lsoa_name"})
    lsoa11 = lsoa11.merge(mid2017.rename(columns={"area_code": "lsoa_code"}), on="lsoa_code", how="left")

    wards22 = gpd.read_file(real / "gm-wards" / "gm_wards_2022_generalised.geojson")
    wards22 = wards22[wards22["area_code"].isin(lookup["wd22cd"])][["area_code", "area_name", "geometry"]]
    wards22 = wards22.rename(columns={"area_code": "ward_code", "area_name": "ward_name"})
    ward_pop = lsoa21.groupby("ward_code")["population"].sum().rename("population").reset_index()
    wards22 = wards22.merge(ward_pop, on="ward_code", how="left")

    wards17 = gpd.read_file(real / "gm-wards" / "gm_wards_2017_generalised.geojson")
    inside = wards17.representative_point().within(borough.geometry.iloc[0])
    wards17 = wards17[inside][["area_code", "area_name", "geometry"]]
    wards17 = wards17.rename(columns={"area_code": "ward_code", "area_name": "ward_name"})
    wards17 = wards17.merge(mid2017.rename(columns={"area_code": "ward_code"}), on="ward_code", how="left")

    checks = {
        "wards 2022": (len(wards22), 17),
        "wards 2017": (len(wards17), 17),
        "LSOAs 2021": (len(lsoa21), 120),
        "LSOAs 2011": (len(lsoa11), 120),
    }
    for label, (got, want) in checks.items():
        if got != want:
            raise SystemExit(f"{label}: expected {want} features for Bury, got {got}")
    for frame in (wards22, wards17, lsoa21, lsoa11):
        if frame["population"].isna().any():
            raise SystemExit("a Bury unit has no population: check the population files")

    def write(frame: gpd.GeoDataFrame, name: str) -> None:
        out = frame.to_crs("EPSG:4326").sort_values(frame.columns[0]).reset_index(drop=True)
        out["geometry"] = out.geometry.set_precision(1e-6)
        path = HERE / name
        path.unlink(missing_ok=True)
        out.to_file(path, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 6, "RFC7946": "YES"})
        print(f"wrote {path.name}: {len(out)} features")

    write(borough, "bury_borough.geojson")
    write(wards22, "bury_wards_2022.geojson")
    write(wards17, "bury_wards_2017.geojson")
    write(lsoa21, "bury_lsoa_2021.geojson")
    write(lsoa11, "bury_lsoa_2011.geojson")


if __name__ == "__main__":
    default = HERE.parent.parent / "shared" / "data" / "real"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
