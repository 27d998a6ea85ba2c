"""Alerts on the one matcher: an alert is scored against counted incidents like any account, with
its own profile — the alert's free text stands in for actor names, the gate is the triage
radius and window, and a link needs the same category or a similar text (categories of SMS
alerts are guessed from keywords)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import triangulation as repo
from app.services.triangulation import accounts as acc
from app.services.triangulation.matcher import Thresholds
from app.services.triangulation.scoring import ScoreParams
from app.services.triangulation.service import MatchConfig, Matched, match_accounts


def alert_params(settings: Any) -> ScoreParams:
    return ScoreParams(slack_km=settings.triage_radius_m / 1000.0,
                       slack_days=settings.triage_window_hours / 24.0,
                       text_in_place_of_names=True, text_gate=settings.triage_text_threshold / 100.0)


def alert_account(*, lonlat: tuple[float, float], observed_at: datetime, category: str, text: str,
                  radius_m: float) -> acc.Accounts:
    return acc.from_rows([{
        "id": None, "external_source": None, "longitude": lonlat[0], "latitude": lonlat[1],
        "location_radius_m": radius_m, "occurred_start": observed_at, "occurred_end": None,
        "category": category, "perpetrators": [], "fatalities_best": None,
        "fatalities_low": None, "fatalities_high": None, "narrative": text, "text": text,
        "cites": []}])


async def match_alert(session: AsyncSession, settings: Any, values: dict[str, Any],
                      lonlat: tuple[float, float], mission: str | None = None) -> Matched:
    """Link at or above the alert link score (`triage_link_score`); from the mission's review
    threshold up to it the incident the alert opens waits as a possible duplicate. `mission`:
    the integration's, whose actor aliases and thresholds apply."""
    config = MatchConfig.from_settings(settings).for_mission(mission)
    link = settings.triage_link_score
    review = min(config.thresholds(await repo.thresholds(session, config.mission)).review, link)
    left = alert_account(lonlat=lonlat, observed_at=values["observed_at"],
                         category=values["category"], text=values["text"],
                         radius_m=values.get("location_radius_m", 0) or 0)
    return await match_accounts(session, left, config, source=None, exclude=[],
                                params=alert_params(settings), thresholds=Thresholds(link, review))
