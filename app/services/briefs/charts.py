"""Small charts and a small map as inline SVG, drawn here (no plotting library, no tiles, no
network): a bar series, grouped horizontal bars, and H3 cells over country outlines."""

from __future__ import annotations

import math
from html import escape
from typing import Any

import h3

LEVEL_FILL = {"critical": "#7f0000", "high": "#d7301f", "medium": "#fc8d59", "low": "#fdd49e"}
INK, GRID, ACCENT, MUTED = "#222", "#ccc", "#2b5d8a", "#9bb7d4"


def _svg(w: int, h: int, body: str, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{body}</svg>')


def series(values: list[int | None], labels: list[str], title: str, w: int = 500,
           h: int = 150) -> str:
    """Vertical bars, one per step, with the axis maximum and the first and last labels. A
    withheld value (None: under the partner threshold) is a grey dot on the axis, not a bar."""
    left, bottom, top = 34, 22, 18
    n = max(len(values), 1)
    peak = max([v for v in values if v is not None] + [1])
    bw = (w - left - 6) / n
    parts = [f'<text x="{left}" y="12" font-size="10" fill="{INK}">{escape(title)}</text>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - 4}" y2="{h - bottom}" '
             f'stroke="{GRID}"/>',
             f'<text x="{left - 4}" y="{top + 8}" font-size="8" text-anchor="end">{peak}</text>',
             f'<text x="{left - 4}" y="{h - bottom}" font-size="8" text-anchor="end">0</text>']
    for i, v in enumerate(values):
        if v is None:
            parts.append(f'<circle cx="{left + i * bw + bw / 2:.1f}" cy="{h - bottom - 3}" r="2" '
                         'fill="#999"/>')
            continue
        bh = (h - bottom - top) * v / peak
        fill = ACCENT if i == n - 1 else MUTED
        parts.append(f'<rect x="{left + i * bw + 1:.1f}" y="{h - bottom - bh:.1f}" '
                     f'width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" fill="{fill}"/>')
    if labels:
        parts.append(f'<text x="{left}" y="{h - 8}" font-size="8">{escape(labels[0])}</text>')
        parts.append(f'<text x="{w - 4}" y="{h - 8}" font-size="8" text-anchor="end">'
                     f'{escape(labels[-1])}</text>')
    return _svg(w, h, "".join(parts), title)


def bars(rows: list[dict[str, Any]], legend: list[str], title: str, w: int = 500) -> str:
    """Horizontal bar pairs (this period, previous) per row; a withheld value (None) is written
    as such, not drawn."""
    label_w, row_h, top = 170, 18, 30
    h = top + row_h * max(len(rows), 1) + 8
    peak = max([v for r in rows for v in r["values"] if v is not None] + [1])
    span = w - label_w - 40
    parts = [f'<text x="0" y="12" font-size="10" fill="{INK}">{escape(title)}</text>']
    for j, (name, colour) in enumerate(zip(legend, (ACCENT, MUTED), strict=False)):
        parts.append(f'<rect x="{label_w + j * 110}" y="17" width="9" height="9" '
                     f'fill="{colour}"/><text x="{label_w + 13 + j * 110}" y="25" '
                     f'font-size="8">{escape(name)}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 11}" font-size="8" text-anchor="end">'
                     f'{escape(str(r["label"]))[:34]}</text>')
        for j, v in enumerate(r["values"][:2]):
            if v is None:
                continue
            bw = span * v / peak
            parts.append(f'<rect x="{label_w}" y="{y + 2 + j * 7}" width="{bw:.1f}" height="6" '
                         f'fill="{ACCENT if j == 0 else MUTED}"/>')
        first = r["values"][0]
        shown = "withheld" if first is None else str(first)
        parts.append(f'<text x="{label_w + span * (first or 0) / peak + 4:.1f}" y="{y + 8}" '
                     f'font-size="7">{shown}</text>')
    return _svg(w, h, "".join(parts), title)


def _rings(geom: dict[str, Any]) -> list[list[list[float]]]:
    if geom["type"] == "Polygon":
        return [geom["coordinates"][0]]
    if geom["type"] == "MultiPolygon":
        return [poly[0] for poly in geom["coordinates"]]
    return []


LEVEL_ORDER = {lvl: i for i, lvl in enumerate(("low", "medium", "high", "critical"))}
MIN_HEX_PX = 4.0


def _display_cells(cells: list[dict[str, Any]], px_per_degree: float) -> list[dict[str, Any]]:
    """Cells too small to see at this scale are drawn as their parent at the finest resolution
    whose hexagon is at least MIN_HEX_PX wide, with the highest level among its children."""
    if not cells:
        return []
    res = h3.get_resolution(cells[0]["cell"])
    target = res
    while target > 0 and h3.average_hexagon_edge_length(target, "km") / 111.0 * px_per_degree \
            < MIN_HEX_PX / 2:
        target -= 1
    if target == res:
        return cells
    best: dict[str, str] = {}
    for c in cells:
        parent = h3.cell_to_parent(c["cell"], target)
        if parent not in best or LEVEL_ORDER.get(c["level"], 0) > LEVEL_ORDER.get(best[parent], 0):
            best[parent] = c["level"]
    return sorted(({"cell": k, "level": v} for k, v in best.items()),
                  key=lambda c: LEVEL_ORDER.get(c["level"], 0))


def cell_map(cells: list[dict[str, Any]], bases: list[list[float]], warnings: list[list[float]],
             outlines: list[dict[str, Any]], framing: list[dict[str, Any]], title: str,
             w: int = 500, h: int = 330) -> str:
    """Cells coloured by threat level over country outlines, bases as squares, warnings as
    rings; equirectangular with the x axis shrunk by cos(latitude) at the map's centre."""
    pts: list[tuple[float, float]] = [(lng, lat) for c in cells
                                      for lat, lng in h3.cell_to_boundary(c["cell"])]
    pts += [(float(x), float(y)) for x, y in [*bases, *warnings]]
    pts += [(float(x), float(y)) for g in framing for ring in _rings(g) for x, y in ring]
    if not pts:
        body = (f'<text x="10" y="20" font-size="10">{escape(title)}</text>'
                f'<text x="10" y="40" font-size="9">No cells, bases or warnings to show.</text>')
        return _svg(w, 60, body, title)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
    padx, pady = max((x2 - x1) * 0.08, 0.2), max((y2 - y1) * 0.08, 0.2)
    x1, x2, y1, y2 = x1 - padx, x2 + padx, y1 - pady, y2 + pady
    k = math.cos(math.radians((y1 + y2) / 2))
    top = 16
    scale = min((w - 4) / ((x2 - x1) * k), (h - top - 4) / (y2 - y1))
    ox = (w - (x2 - x1) * k * scale) / 2

    def xy(lon: float, lat: float) -> str:
        return f"{ox + (lon - x1) * k * scale:.1f},{top + (y2 - lat) * scale:.1f}"

    parts = [f'<defs><clipPath id="frame"><rect x="0" y="{top}" width="{w}" '
             f'height="{h - top}"/></clipPath></defs>',
             f'<rect x="0" y="{top}" width="{w}" height="{h - top}" fill="#f7f7f4"/>',
             f'<text x="0" y="11" font-size="10" fill="{INK}">{escape(title)}</text>',
             '<g clip-path="url(#frame)">']
    for geom in outlines:
        for ring in _rings(geom):
            parts.append('<polygon points="' + " ".join(xy(x, y) for x, y in ring[::2]) +
                         '" fill="#fff" stroke="#999" stroke-width="0.6"/>')
    for c in _display_cells(cells, scale):
        hexagon = [(lng, lat) for lat, lng in h3.cell_to_boundary(c["cell"])]
        parts.append('<polygon points="' + " ".join(xy(x, y) for x, y in hexagon) +
                     f'" fill="{LEVEL_FILL.get(c["level"], "#ddd")}" stroke="#fff" '
                     'stroke-width="0.3"/>')
    for x, y in bases:
        px, py = (float(v) for v in xy(x, y).split(","))
        parts.append(f'<rect x="{px - 2.5:.1f}" y="{py - 2.5:.1f}" width="5" height="5" '
                     f'fill="{ACCENT}" stroke="#fff" stroke-width="0.6"/>')
    for x, y in warnings:
        px, py = (float(v) for v in xy(x, y).split(","))
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="none" stroke="#000" '
                     'stroke-width="1.2"/>')
    parts.append("</g>")
    legend_y = h - 10
    for i, (lvl, colour) in enumerate(LEVEL_FILL.items()):
        parts.append(f'<rect x="{6 + i * 62}" y="{legend_y - 8}" width="9" height="9" '
                     f'fill="{colour}"/><text x="{18 + i * 62}" y="{legend_y}" font-size="8">'
                     f'{lvl}</text>')
    parts.append(f'<rect x="{6 + 4 * 62}" y="{legend_y - 8}" width="7" height="7" '
                 f'fill="{ACCENT}"/><text x="{18 + 4 * 62}" y="{legend_y}" font-size="8">base'
                 '</text>')
    if warnings:
        parts.append(f'<circle cx="{10 + 5 * 62}" cy="{legend_y - 3}" r="4" fill="none" '
                     f'stroke="#000"/><text x="{18 + 5 * 62}" y="{legend_y}" font-size="8">'
                     'warning</text>')
    return _svg(w, h, "".join(parts), title)
