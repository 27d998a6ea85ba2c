"""Triage: is an alert another report of a known incident, or something new?

Pure functions over plain rows (no SQL). A candidate incident within the search radius and time
window scores, in [0, 1]:
    0.35 · nearness + 0.25 · closeness in time + 0.20 · same category + 0.20 · text similarity
where nearness = 1 − distance / radius, closeness = 1 − |Δt| / window, and text similarity is
rapidfuzz's token-set ratio against the incident narrative (0 when either text is empty). The
best candidate is linked when its score reaches the link threshold and either the category
matches or the texts are similar beyond the text threshold; otherwise the alert opens an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from app.services.missions import languages

WEIGHTS = {"distance": 0.35, "time": 0.25, "category": 0.20, "text": 0.20}

@dataclass(frozen=True)
class Match:
    incident_id: Any
    score: float
    parts: dict[str, float]


def guess_category(text: str, langs: tuple[str, ...] = ("en", "fr"), un_names: tuple[str, ...] = (),
                   armed_groups: tuple[str, ...] = ()) -> str:
    """The category the words of a text suggest (keyword files per language, app/data)."""
    return languages.guess_category(text, langs, un_names, armed_groups)


def text_similarity(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(a.casefold(), b.casefold()))


def score(
    *,
    distance_m: float,
    radius_m: float,
    dt_hours: float,
    window_hours: float,
    same_category: bool,
    text_sim: float,
) -> tuple[float, dict[str, float]]:
    parts = {
        "distance": max(0.0, 1.0 - distance_m / radius_m),
        "time": max(0.0, 1.0 - abs(dt_hours) / window_hours),
        "category": 1.0 if same_category else 0.0,
        "text": text_sim / 100.0,
    }
    return sum(WEIGHTS[k] * v for k, v in parts.items()), parts


def best_match(
    candidates: list[dict[str, Any]],
    *,
    category: str,
    text: str,
    observed_at: datetime,
    radius_m: float,
    window_hours: float,
    link_score: float,
    text_threshold: float,
) -> Match | None:
    best: Match | None = None
    for c in candidates:
        sim = text_similarity(text, c.get("narrative"))
        same = c["category"] == category
        s, parts = score(
            distance_m=float(c["distance_m"]),
            radius_m=radius_m,
            dt_hours=(observed_at - c["occurred_start"]).total_seconds() / 3600,
            window_hours=window_hours,
            same_category=same,
            text_sim=sim,
        )
        if s < link_score or not (same or sim >= text_threshold):
            continue
        if best is None or s > best.score:
            best = Match(c["id"], round(s, 4), {k: round(v, 4) for k, v in parts.items()})
    return best


def is_repeat(previous_text: str, text: str) -> bool:
    """Same SMS resent (gateways retry; people resend when they see no reply)."""
    return fuzz.ratio(previous_text.casefold().strip(), text.casefold().strip()) >= 90
