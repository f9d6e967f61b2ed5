"""Writing an evidence pack: the report (HTML and PDF), the data (GeoPackage and CSVs), the manifest and,
for a public pack, its suppression audit (outside the pack) and its entry in the store's register."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import geo_csp
from geo_csp import figures, schema, store
from geo_csp._escape import spreadsheet_safe
from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.evidence.differencing import register_public_pack
from geo_csp.evidence.groups import GROUPS, QUALIFIED_LABELS
from geo_csp.evidence.params import EvidencePack
from geo_csp.evidence.report import pack_maps, report_html


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_evidence(pack: EvidencePack, out_dir: str | Path, *, audit_dir: str | Path | None = None) -> dict[str, Path]:
    """Write the pack: ``report.html``, ``report.pdf``, ``area.gpkg``, CSVs and ``manifest.json``.

    Parameters
    ----------
    pack
        From :func:`build_evidence`.
    out_dir
        Folder to write into (created).
    audit_dir
        Where the suppression audit of a public pack goes (a sensitive file, kept out of the pack);
        default ``<out_dir>-disclosure-audit`` beside it.

    Returns
    -------
    dict
        Name -> path of every file written.
    """
    from weasyprint import HTML

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    images = {k: figures.figure_to_data_uri(fig) for k, fig in pack_maps(pack).items()}
    page = report_html(pack, images)
    written["report.html"] = out / "report.html"
    written["report.html"].write_text(page, encoding="utf-8")
    written["report.pdf"] = out / "report.pdf"
    HTML(string=page, base_url=str(out)).write_pdf(written["report.pdf"])
    gpkg = out / "area.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    pack.area.to_file(gpkg, layer="area", driver="GPKG")
    unit_cols = [
        c
        for c in (schema.UNIT_ID, schema.CATEGORY, schema.PATTERN, schema.GI_Z, schema.EXPLANATION)
        if c in pack.units.columns
    ]
    if not pack.params.public:
        unit_cols.insert(1, schema.N)
    pack.units[[*unit_cols, "geometry"]].to_file(gpkg, layer="hotspot_cells", driver="GPKG")
    if pack.points is not None:
        pack.points.to_file(gpkg, layer="incidents", driver="GPKG")
    written["area.gpkg"] = gpkg
    for name, table in pack.tables.items():
        path = out / f"{name}.csv"
        whole = {
            c: "Int64"
            for c in table.columns
            if c in (*GROUPS, *QUALIFIED_LABELS, "All records", schema.N) or name == "partner_counts"
        }  # counts print as 187, not 187.0
        spreadsheet_safe(table.astype(whole)).to_csv(path, na_rep=SUPPRESSED_MARK if pack.params.public else "")
        written[path.name] = path
    if pack.audit is not None:
        adir = Path(audit_dir) if audit_dir is not None else out.parent / f"{out.name}-disclosure-audit"
        adir.mkdir(parents=True, exist_ok=True)
        spreadsheet_safe(pack.audit).to_csv(adir / "disclosure_audit.csv", index=False)
        written["disclosure_audit.csv"] = adir / "disclosure_audit.csv"
    manifest = {
        "title": f"Safer Streets evidence pack: {pack.figures['area_name']}",
        "software": {"name": "geo-csp", "version": geo_csp.__version__},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "store": store.store_label(pack.store_dir),
        "synthetic": pack.synthetic,
        "parameters": pack.params.to_dict(),
        "disclosure_rule": pack.params.disclosure.rule if pack.params.public else None,
        "inputs": pack.inputs,
        "figures": pack.figures,
        "outputs": {k: {"file": p.name, "sha256": _sha256(p)} for k, p in written.items() if p.parent == out},
        "reproduce": "geo_csp.evidence.build_evidence(<the store labelled manifest['store']>,"
        " EvidenceParams.from_dict(manifest['parameters']))"
        ".figures == manifest['figures']",
    }
    written["manifest.json"] = out / "manifest.json"
    written["manifest.json"].write_text(json.dumps(manifest, indent=1, default=str) + "\n", encoding="utf-8")
    if pack.params.public:
        register_public_pack(pack)
    return written
