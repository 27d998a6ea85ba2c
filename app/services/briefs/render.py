"""A brief's content as HTML (with a print stylesheet) and as PDF (WeasyPrint). Everything taken
from the data is escaped; links become absolute with the base URL given."""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from app.services.briefs import charts

CSS = """
@page { size: A4; margin: 15mm 14mm 16mm 14mm;
        @bottom-left { content: string(brief-title); font-size: 7pt; color: #666; }
        @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 7pt;
                        color: #666; } }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt;
       color: #1a1a1a; line-height: 1.35; }
body { max-width: 190mm; margin: 0 auto; padding: 0 4mm; }
h1 { font-size: 15pt; margin: 0 0 2mm; string-set: brief-title content(); }
h2 { font-size: 11.5pt; margin: 5mm 0 1.5mm; border-bottom: 0.6pt solid #2b5d8a;
     color: #2b5d8a; break-after: avoid; }
.meta { color: #555; font-size: 8.5pt; margin: 0 0 3mm; }
.edition { display: inline-block; padding: 0.5mm 2mm; border: 0.6pt solid #2b5d8a;
           border-radius: 2mm; font-size: 7.5pt; color: #2b5d8a; text-transform: uppercase; }
.summary { background: #f1f5f9; padding: 2mm 4mm; border-left: 2pt solid #2b5d8a; }
ul { margin: 1mm 0 2mm; padding-left: 5mm; }
li { margin: 0.8mm 0; break-inside: avoid; }
li.change::marker { color: #d7301f; } li.gap::marker, li.overdue::marker { color: #7f0000; }
.links { font-size: 7.5pt; color: #555; }
a { color: #2b5d8a; text-decoration: none; }
figure { margin: 2mm 0; break-inside: avoid; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 2mm 0; font-size: 8pt; break-inside: auto; }
th, td { border-bottom: 0.4pt solid #ccc; padding: 0.8mm 2.5mm 0.8mm 0; text-align: left; }
th { color: #555; font-weight: normal; }
footer { margin-top: 6mm; font-size: 7.5pt; color: #555; border-top: 0.4pt solid #ccc; }
@media screen { body { padding: 8mm; } }
@media print { a { color: inherit; } }
"""


@lru_cache(maxsize=4)
def _countries(path: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [f["geometry"] for f in doc.get("features", []) if f.get("geometry")]


def outlines(path: Path, bbox: tuple[float, float, float, float] | None
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Country outlines (a bundled data file) that meet the bbox, and among them those that
    frame the map (a quarter or more of the country lies in the bbox: the mission's country,
    not a neighbour touched at its edge)."""
    if bbox is None:
        return [], []
    from shapely.geometry import box, shape

    frame = box(*bbox)
    meet = [g for g in _countries(str(path)) if shape(g).intersects(frame)]
    framing = [g for g in meet if shape(g).intersection(frame).area >= 0.25 * shape(g).area]
    return meet, framing


def _map_bbox(m: dict[str, Any]) -> tuple[float, float, float, float] | None:
    import h3

    pts = [(lng, lat) for c in m["cells"] for lat, lng in h3.cell_to_boundary(c["cell"])]
    pts += [tuple(b) for b in m["bases"]]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def _link(base_url: str, ln: dict[str, str]) -> str:
    href = ln["href"]
    if href.startswith("/"):
        href = base_url.rstrip("/") + href
    return f'<a href="{escape(href, quote=True)}">{escape(ln["title"])}</a>'


def _statements(items: list[dict[str, Any]], base_url: str) -> str:
    out = []
    for s in items:
        links = " · ".join(_link(base_url, ln) for ln in s.get("links", []))
        extra = f' <span class="links">[{links}]</span>' if links else ""
        out.append(f'<li class="{escape(s.get("kind", "fact"))}">{escape(s["text"])}{extra}</li>')
    return "<ul>" + "".join(out) + "</ul>"


def _table(t: dict[str, Any]) -> str:
    if not t.get("rows"):
        return ""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in t["columns"])
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in t["rows"])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(section: dict[str, Any], outline_path: Path | None) -> str:
    out = []
    for ch in section.get("charts", []):
        if ch["kind"] == "series":
            out.append(charts.series(ch["values"], ch["labels"], ch["title"]))
        elif ch["kind"] == "bars" and ch["rows"]:
            out.append(charts.bars(ch["rows"], ch["legend"], ch["title"]))
    if "map" in section:
        m = section["map"]
        shapes, framing = outlines(outline_path, _map_bbox(m)) if outline_path else ([], [])
        out.append(charts.cell_map(m["cells"], m["bases"], m["warnings"], shapes, framing,
                                   "Threat at the end of the period, bases" +
                                   (", warnings raised" if m["warnings"] else "")))
    return "".join(f"<figure>{svg}</figure>" for svg in out)


def html(content: dict[str, Any], *, base_url: str, outline_path: Path | None = None) -> str:
    p = content["period"]
    edition = "Partner edition" if content["edition"] == "partner" else "Mission edition"
    sections = []
    for s in content["sections"]:
        sections.append(f'<section id="{escape(s["id"])}"><h2>{escape(s["title"])}</h2>'
                        f'{_charts(s, outline_path) if content.get("charts") else ""}'
                        f'{_statements(s["statements"], base_url)}'
                        f'{_table(s.get("table") or {})}</section>')
    notes = "".join(f"<p>{escape(n)}</p>" for n in content.get("notes", []))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{escape(content["title"])}</title><style>{CSS}</style></head><body>'
        f'<header><h1>{escape(content["title"])}</h1>'
        f'<p class="meta"><span class="edition">{edition}</span> '
        f'{escape(p["kind"])} ending {escape(p["as_of"])} (mission time {escape(p["timezone"])})'
        f' · generated {escape(content["generated_at"][:16].replace("T", " "))} UTC</p></header>'
        f'<section class="summary"><h2>Main points</h2>'
        f'{_statements(content["summary"], base_url)}</section>'
        + "".join(sections) + f"<footer>{notes}</footer></body></html>")


def pdf(html_text: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html_text).write_pdf())
