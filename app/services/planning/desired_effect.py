"""Desired effect, reason, time window and composition of a patrol, from a cell's threat profile.

Pure functions. A *threat cell* is one dict of the hotspot threat layer (threat_score, threat_level,
trend, pattern, ...). A *profile* is what the patrol repository counts for a cell over the
analysis window (see app.repositories.patrols.cell_profiles):
  incidents, recent (last `patrol_ongoing_days`), violations (harm to civilians, last
  `patrol_violation_days`), unverified (status entered), displaced, crsv, humanitarian
  (attacks on peacekeepers/humanitarians, looting), hours[24] (local hour, only incidents whose
  hour is known), dows[7] (local weekday, Monday = 0).
"""

from __future__ import annotations

from typing import Any

import h3

EFFECTS = (
    "protect",
    "deter",
    "enable_investigation",
    "humanitarian_access",
    "encourage_returns",
    "situational_awareness",
)
RISING_PATTERNS = ("new", "consecutive", "intensifying", "emerging")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LEVEL_PRIORITY = {"critical": 1, "high": 2, "medium": 3, "low": 4}
MIN_TIMED = 3  # fewer incidents with a known hour say nothing about time of day
MIN_DATED = 5
EMPTY: dict[str, Any] = {
    "incidents": 0,
    "recent": 0,
    "violations": 0,
    "unverified": 0,
    "displaced": 0,
    "crsv": 0,
    "humanitarian": 0,
    "hours": [0] * 24,
    "dows": [0] * 7,
}


def neighbourhood(profiles: dict[str, dict[str, Any]], cell: str, k: int = 1) -> dict[str, Any]:
    """A cell's profile summed with its neighbours' within k rings ("in and around the cell")."""
    out: dict[str, Any] = {key: (list(v) if isinstance(v, list) else 0) for key, v in EMPTY.items()}
    for c in h3.grid_disk(cell, k):
        p = profiles.get(c)
        if not p:
            continue
        for key, v in EMPTY.items():
            if isinstance(v, list):
                out[key] = [a + b for a, b in zip(out[key], p.get(key, v), strict=True)]
            else:
                out[key] += int(p.get(key) or 0)
    return out


def _rising(cell: dict[str, Any]) -> str | None:
    pattern = str(cell.get("pattern") or "").lower()
    if any(word in pattern for word in RISING_PATTERNS) and "hot" in pattern:
        return f"emerging pattern: {pattern}"
    trend = cell.get("trend") or {}
    if str(trend.get("direction") or "") in ("increasing", "rising", "up"):
        return f"rising trend (slope {float(trend.get('slope') or 0):+.2f})"
    if cell.get("forecast_only"):
        f = cell.get("forecast") or {}
        return (f"forecast: P(at least one incident) {float(f.get('p_incident') or 0):.2f}, "
                f"expected harm {float(f.get('expected_harm') or 0):.1f}, no current threat")
    return None


def desired_effect(
    cell: dict[str, Any], profile: dict[str, Any], settings: Any
) -> tuple[str, str, list[str]]:
    """(effect, reason, other effects that also apply). The first matching rule wins, in the
    order of EFFECTS: ongoing harm outranks a rising trend, which outranks investigation, etc."""
    p = {**EMPTY, **profile}
    found: list[tuple[str, str]] = []
    if p["recent"] > 0:
        found.append(
            (
                "protect",
                f"ongoing violence: {p['recent']} incident(s) in the last "
                f"{settings.patrol_ongoing_days} days",
            )
        )
    rising = _rising(cell)
    if rising:
        found.append(("deter", rising))
    if p["violations"] > 0:
        found.append(
            (
                "enable_investigation",
                f"{p['violations']} violation(s) against civilians "
                f"in the last {settings.patrol_violation_days} days",
            )
        )
    if p["humanitarian"] > 0:
        found.append(
            (
                "humanitarian_access",
                f"{p['humanitarian']} attack(s) on peacekeepers, aid workers or property",
            )
        )
    direction = str((cell.get("trend") or {}).get("direction") or "")
    if p["displaced"] > 0 and p["recent"] == 0 and direction not in ("increasing", "rising", "up"):
        found.append(
            (
                "encourage_returns",
                f"{p['displaced']} people displaced, no incident in the "
                f"last {settings.patrol_ongoing_days} days",
            )
        )
    if p["unverified"] > 0:
        found.append(("situational_awareness", f"{p['unverified']} unverified report(s)"))
    elif p["incidents"] < 3:
        found.append(
            (
                "situational_awareness",
                f"thin information: {p['incidents']} incident(s) in the analysis window",
            )
        )
    if not found:
        found.append(("situational_awareness", "steady threat without a sharper signal"))
    effect, reason = found[0]
    return effect, reason, [e for e, _ in found[1:] if e != effect]


def time_window(around: dict[str, Any], window_hours: int) -> dict[str, Any]:
    """The local-time window and days when incidents in and around the cell happen."""
    hours = list(around.get("hours") or [0] * 24)
    timed = sum(hours)
    if timed < MIN_TIMED:
        start, end, basis = 6, 18, f"daylight default: {timed} incident(s) with a known hour"
    else:
        best, start = -1, 0
        for s in range(24):  # circular: a window may run across midnight
            n = sum(hours[(s + i) % 24] for i in range(window_hours))
            if n > best:
                best, start = n, s
        end = (start + window_hours) % 24
        basis = f"{best} of {timed} incidents with a known hour fall in this window"
    span = [(start + i) % 24 for i in range((end - start) % 24 or 24)]
    night = sum(1 for h in span if h >= 18 or h < 6) * 2 >= len(span)
    dows = list(around.get("dows") or [0] * 7)
    dated = sum(dows)
    days = list(DAY_NAMES)
    if dated >= MIN_DATED:
        top = [d for d in sorted(range(7), key=lambda d: (-dows[d], d))[:3] if dows[d] > 0]
        if sum(dows[d] for d in top) >= 0.6 * dated:
            days = [DAY_NAMES[d] for d in sorted(top)]
    return {
        "start": f"{start:02d}:00",
        "end": f"{end:02d}:00",
        "night": night,
        "days": days,
        "basis": basis,
    }


def composition(
    effect: str, cell: dict[str, Any], around: dict[str, Any], base: dict[str, Any], mode: str
) -> list[dict[str, str]]:
    """Who should go: hints with the reason for each."""
    hints = []
    if around.get("crsv", 0) > 0 or int(cell.get("crsv") or 0) > 0:
        hints.append(
            {
                "role": "mixed_gender_engagement_team",
                "why": "sexual violence reported in or around the cell",
            }
        )
    if effect in ("situational_awareness", "encourage_returns", "protect") or around.get(
        "unverified"
    ):
        hints.append(
            {"role": "community_liaison_assistant", "why": "engage the community and verify alerts"}
        )
    if effect in ("enable_investigation", "encourage_returns"):
        hints.append(
            {"role": "interpreter", "why": "interviews with victims, witnesses or returnees"}
        )
    if effect == "enable_investigation":
        hints.append({"role": "human_rights_officer", "why": "document recent violations"})
    if effect == "humanitarian_access":
        hints.append({"role": "civil_military_coordination", "why": "coordinate with aid convoys"})
    if cell.get("threat_level") == "critical" and int(base.get("qrf_standby") or 0) > 0:
        hints.append(
            {
                "role": "quick_reaction_force_standby",
                "why": f"critical threat; {base.get('name')} holds a QRF at 15 minutes' notice",
            }
        )
    if mode == "air":
        hints.append({"role": "air_asset", "why": "target beyond ground reach"})
    return hints


def priority(cell: dict[str, Any], effect: str) -> int:
    level = LEVEL_PRIORITY.get(str(cell.get("threat_level") or "low"), 4)
    return max(1, level - 1) if effect == "protect" else level
