"""Compose a brief from the data alone: figures, statements that link to the records behind
them, and the data of its charts and map. The result is plain JSON (kept as the record's
`content`); `render.py` turns it into HTML and PDF.

Two editions. The full edition is for mission staff. The partner edition uses only what partners
may see (docs/scoring.md "Need to share"): approved incidents, the sanitised threat layer, the
forecast at partner resolution; no warnings, responses, information requirements, sections,
perpetrators, narratives, reporters or sources; every count below the suppression threshold is
withheld ("fewer than N").
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import bases as base_repo
from app.repositories import briefs as repo
from app.repositories import exports as export_repo
from app.repositories import hotspots as hotspot_repo
from app.services import forecast as forecast_svc
from app.services.briefs.period import Period
from app.services.briefs.scope import Scope
from app.services.information_requirements import gaps as ir_gaps
from app.services.patrols import execution as patrol_execution
from app.services.threat import reporting_effort
from app.services.threat.layer import HotspotQuery, threat_layer
from app.services.warnings.responses import summary as time_summary
from app.settings import Settings

EDITIONS = ("full", "partner")
RISING_PATTERNS = ("new hot spot", "intensifying hot spot", "consecutive hot spot")
CATEGORY_LABELS = {
    "killing": "killings", "injury": "injuries", "abduction": "abductions",
    "sexual_violence": "sexual violence", "looting_destruction": "looting or destruction",
    "displacement": "forced displacement", "attack_on_peacekeepers": "attacks on peacekeepers "
    "or humanitarians", "threat_intimidation": "threats or intimidation",
    "armed_group_presence": "armed-group movement or presence", "other": "other incidents",
}


def _iso(t: datetime) -> str:
    return t.isoformat()


def link(path: str, title: str, **params: Any) -> dict[str, str]:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return {"href": f"{path}?{query}" if query else path, "title": title}


def statement(text: str, *links: dict[str, str], ids: list[str] | None = None,
              kind: str = "fact") -> dict[str, Any]:
    out: dict[str, Any] = {"text": text[:1].upper() + text[1:], "kind": kind,
                           "links": list(links)}
    if ids:
        out["record_ids"] = ids
    return out


class Counter:
    """Counts as an edition may show them: partners never see a count below the threshold."""

    def __init__(self, partner: bool, floor: int) -> None:
        self.partner, self.floor = partner, floor

    def __call__(self, n: int | None) -> int | None:
        if n is None:
            return None
        return None if self.partner and 0 < n < self.floor else n

    def text(self, n: int | None) -> str:
        return f"fewer than {self.floor}" if n is None else f"{n:,}"

    def change(self, cur: int | None, prev: int | None) -> str:
        if cur is None or prev is None:
            return "change withheld"
        d = cur - prev
        if d == 0:
            return "no change"
        pct = f", {d / prev:+.0%}" if prev else ""
        return f"{d:+,}{pct}"


def plural(n: int | None, one: str, many: str | None = None, text: str | None = None) -> str:
    shown = text if text is not None else f"{n:,}" if n is not None else "some"
    return f"{shown} {one if n == 1 else (many or one + 's')}"


def _word(kind: str) -> str:
    return "day" if kind == "day" else "week"


async def compose(session: AsyncSession, settings: Settings, period: Period, scope: Scope, *,
                  edition: str, now: datetime, charts: bool = True) -> dict[str, Any]:
    partner = edition == "partner"
    role = Role.partner if partner else Role.analyst
    count = Counter(partner, settings.partner_min_count)
    statuses = ([Status.approved.value] if partner and settings.partner_approved_only
                else [Status.entered.value, Status.validated.value, Status.approved.value])
    res = min(settings.brief_res, settings.partner_max_res) if partner else settings.brief_res
    ctx = _Ctx(session, settings, period, scope, partner, role, count, statuses, res, now)
    sections = [await _incidents(ctx, charts), await _threat(ctx, charts)]
    if not partner:
        sections += [await _warnings(ctx), await _patrols(ctx)]
    sections.append(await _forecast(ctx))
    sections.append(await _reporting(ctx))
    summary = [s["statements"][0] for s in sections if s["statements"]]
    return {
        "title": f"{'Daily' if period.kind == 'day' else 'Weekly'} situation brief — "
                 f"{scope.name}, {period.label()}",
        "edition": edition,
        "period": {"kind": period.kind, "as_of": period.as_of.isoformat(),
                   "start": _iso(period.start), "end": _iso(period.end),
                   "previous_start": _iso(period.previous_start),
                   "timezone": str(period.tz)},
        "scope": {"mission": scope.mission, "aor": scope.aor, "name": scope.name},
        "generated_at": _iso(now),
        "charts": charts,
        "summary": summary,
        "sections": sections,
        "figures": ctx.figures,
        "notes": _notes(partner, settings),
    }


def _notes(partner: bool, settings: Settings) -> list[str]:
    notes = ["Generated from the data in Kinga alone; every statement links to the records "
             "behind it. Incidents are counted by when they occurred, in mission time."]
    if partner:
        notes.append(f"Partner edition: approved incidents only; counts below "
                     f"{settings.partner_min_count} are withheld; no perpetrator or source detail.")
    return notes


class _Ctx:
    def __init__(self, session: AsyncSession, settings: Settings, period: Period, scope: Scope,
                 partner: bool, role: Role, count: Counter, statuses: list[str], res: int,
                 now: datetime) -> None:
        self.session, self.settings, self.period, self.scope = session, settings, period, scope
        self.partner, self.role, self.count, self.statuses, self.res = (partner, role, count,
                                                                         statuses, res)
        self.now = now
        self.figures: dict[str, Any] = {}
        self.admin1: dict[int, str] = {}

    def incidents_link(self, title: str, start: datetime, end: datetime,
                       category: str | None = None) -> dict[str, str]:
        return link("/api/v1/incidents", title, start=_iso(start), end=_iso(end - timedelta(
            microseconds=1)), category=category, f="geojson")

    def place(self, cell: str) -> str:
        name = self.admin1.get(h3.str_to_int(cell))
        return f"cell {cell} ({name})" if name else f"cell {cell}"


async def _incidents(ctx: _Ctx, charts: bool) -> dict[str, Any]:
    p, c, area = ctx.period, ctx.count, ctx.scope.area
    cur = await repo.incident_breakdown(ctx.session, start=p.start, end=p.end,
                                        statuses=ctx.statuses, area=area)
    prev = await repo.incident_breakdown(ctx.session, start=p.previous_start, end=p.start,
                                         statuses=ctx.statuses, area=area)
    n, n_prev = c(cur["totals"]["incidents"]), c(prev["totals"]["incidents"])
    fat, crsv = c(cur["totals"]["fatalities"]), c(cur["totals"]["crsv_survivors"])
    word = _word(p.kind)
    ids = await repo.incident_ids(ctx.session, start=p.start, end=p.end, statuses=ctx.statuses,
                                  area=area)
    statements = [statement(
        f"{plural(n, 'incident', text=c.text(n))} against civilians occurred "
        f"({c.change(n, n_prev)} on the "
        f"previous {word}): {plural(fat, 'person', 'people', c.text(fat))} killed, "
        f"{plural(crsv, 'survivor', text=c.text(crsv))} of sexual violence.",
        ctx.incidents_link("the incidents", p.start, p.end),
        ctx.incidents_link("the previous period's incidents", p.previous_start, p.start),
        ids=ids)]
    rows = []
    for cat in sorted(set(cur["categories"]) | set(prev["categories"]),
                      key=lambda k: -cur["categories"].get(k, {}).get("incidents", 0)):
        a = c(cur["categories"].get(cat, {}).get("incidents", 0))
        b = c(prev["categories"].get(cat, {}).get("incidents", 0))
        rows.append({"category": cat, "label": CATEGORY_LABELS.get(cat, cat), "incidents": a,
                     "previous": b, "change": c.change(a, b)})
    moving = [r for r in rows if r["incidents"] is not None and r["previous"] is not None]
    if moving:
        top = max(moving, key=lambda r: (r["incidents"] - r["previous"], r["incidents"]))
        if top["incidents"] > top["previous"]:
            statements.append(statement(
                f"The largest rise was in {top['label']}: {top['previous']} → {top['incidents']}.",
                ctx.incidents_link(top["label"], p.start, p.end, top["category"]),
                kind="change"))
    if rows and rows[0]["incidents"]:
        statements.append(statement(
            "By category: " + "; ".join(f"{r['label']} {c.text(r['incidents'])} "
                                         f"({r['change']})" for r in rows[:6]) + ".",
            ctx.incidents_link("by category", p.start, p.end)))
    ctx.figures.update(incidents=n, incidents_previous=n_prev, fatalities=fat, crsv_survivors=crsv)
    section: dict[str, Any] = {"id": "incidents", "title": "Incidents", "statements": statements,
                               "table": {"columns": ["category", "this " + word,
                                                     "previous " + word, "change"],
                                         "rows": [[r["label"], c.text(r["incidents"]),
                                                   c.text(r["previous"]), r["change"]]
                                                  for r in rows]}}
    if not ctx.partner:
        st = cur["statuses"]
        moves = await repo.workflow_moves(ctx.session, start=p.start, end=p.end)
        statements.append(statement(
            f"Of these, {st.get('entered', 0)} await validation, {st.get('validated', 0)} are "
            f"validated and {st.get('approved', 0)} approved; during the {word} "
            f"{moves.get('validated', 0)} incidents were validated, {moves.get('approved', 0)} "
            f"approved and {moves.get('rejected', 0)} rejected.",
            link("/api/v1/incidents", "incidents awaiting validation", status="entered",
                 start=_iso(p.start), end=_iso(p.end - timedelta(microseconds=1)))))
        perps = cur["perpetrators"]
        if perps:
            statements.append(statement(
                "Perpetrators named most: " + "; ".join(
                    f"{name} {k} ({c.change(k, prev['perpetrators'].get(name, 0))})"
                    for name, k in list(perps.items())[:5]) + ".",
                ctx.incidents_link("the incidents", p.start, p.end)))
    if charts:
        step = 7 if p.kind == "week" else 1
        steps = 12 if p.kind == "week" else 14
        series = await repo.series(ctx.session, start=p.end - timedelta(days=step * steps),
                                   end=p.end, step_days=step, statuses=ctx.statuses, area=area)
        withheld = f" (· fewer than {c.floor}, withheld)" if ctx.partner else ""
        section["charts"] = [
            {"kind": "series", "title": f"Incidents per {word}, last {steps} {word}s{withheld}",
             "values": [c(v) for v in series],
             "labels": [(p.end - timedelta(days=step * (steps - i))).date().isoformat()
                        for i in range(steps)]},
            {"kind": "bars", "title": f"By category: this {word} and the previous",
             "rows": [{"label": r["label"], "values": [r["incidents"], r["previous"]]}
                      for r in rows[:8]], "legend": [f"this {word}", f"previous {word}"]},
        ]
    return section


async def _threat(ctx: _Ctx, charts: bool) -> dict[str, Any]:
    p, s = ctx.period, ctx.settings
    q_end = HotspotQuery(res=ctx.res, as_of=p.end, window_days=s.brief_threat_window_days,
                         role=ctx.role, bbox=ctx.scope.bbox, with_reporting=True)
    q_prev = HotspotQuery(res=ctx.res, as_of=p.start, window_days=s.brief_threat_window_days,
                          role=ctx.role, bbox=ctx.scope.bbox, with_pattern=False)
    now_cells = await threat_layer(ctx.session, q_end, s)
    before = {c["cell"]: c["threat_score"] for c in await threat_layer(ctx.session, q_prev, s)}
    ctx.admin1 = await export_repo.cell_admin1(
        ctx.session, res=ctx.res, cells=[h3.str_to_int(c["cell"]) for c in now_cells],
        start=p.end - timedelta(days=s.brief_threat_window_days), end=p.end,
        statuses=ctx.statuses)
    levels = {lvl: sum(1 for c in now_cells if c["threat_level"] == lvl)
              for lvl in ("critical", "high", "medium", "low")}
    thin = sum(1 for c in now_cells if c.get("level_label") == reporting_effort.LOW_THIN)
    hotspot_link = link("/api/v1/hotspots", "the threat layer", as_of=_iso(p.end), res=ctx.res,
                        window_days=s.brief_threat_window_days, reporting="true")
    statements = [statement(
        f"At the end of the period {plural(levels['critical'], 'cell')} "
        f"{'was' if levels['critical'] == 1 else 'were'} at critical threat and "
        f"{levels['high']} at high (H3 resolution {ctx.res}, {s.brief_threat_window_days}-day "
        f"window); {plural(thin, 'low cell')} {'rests' if thin == 1 else 'rest'} on thin "
        "reporting.", hotspot_link)]
    rises = sorted(((c["threat_score"] - before.get(c["cell"], 0.0), c) for c in now_cells),
                   key=lambda x: (-x[0], x[1]["cell"]))
    rising = [(d, c) for d, c in rises if d > 0.5][:5]
    for _d, c in rising:
        statements.append(statement(
            f"Threat rose in {ctx.place(c['cell'])}: {before.get(c['cell'], 0.0):.0f} → "
            f"{c['threat_score']:.0f} ({c.get('level_label', c['threat_level'])}).",
            link(f"/api/v1/hotspots/{c['cell']}", "the cell, its series and incidents",
                 as_of=_iso(p.end), window_days=s.brief_threat_window_days), kind="change"))
    emerging = [c for c in now_cells if c.get("pattern") in RISING_PATTERNS]
    if emerging:
        statements.append(statement(
            "Emerging patterns: " + "; ".join(f"{ctx.place(c['cell'])} — {c['pattern']}"
                                               for c in emerging[:5]) + ".", hotspot_link,
            kind="pattern"))
    ctx.figures.update(critical_cells=levels["critical"], high_cells=levels["high"],
                       thin_reporting_low_cells=thin,
                       top_rise=({"cell": rising[0][1]["cell"], "from": round(before.get(
                           rising[0][1]["cell"], 0.0), 1), "to": rising[0][1]["threat_score"]}
                           if rising else None))
    section: dict[str, Any] = {
        "id": "threat", "title": "Threat", "statements": statements,
        "table": {"columns": ["cell", "place", "score", "level", "change"],
                  "rows": [[c["cell"], ctx.admin1.get(h3.str_to_int(c["cell"]), ""),
                            f"{c['threat_score']:.0f}", c.get("level_label", c["threat_level"]),
                            f"{d:+.0f}"] for d, c in rising]}}
    if charts:
        bases = await base_repo.list_bases(ctx.session, as_of=p.as_of, bbox=ctx.scope.bbox)
        warnings = ([] if ctx.partner else
                    [w["centre"]["coordinates"] for w in await repo.warnings_raised(
                        ctx.session, start=p.start, end=p.end, area=ctx.scope.area)
                     if w["centre"]])
        section["map"] = {"cells": [{"cell": c["cell"], "level": c["threat_level"]}
                                    for c in now_cells[:600]],
                          "bases": [[b["longitude"], b["latitude"]] for b in bases],
                          "warnings": warnings}
    return section


async def _warnings(ctx: _Ctx) -> dict[str, Any]:
    p, s = ctx.period, ctx.settings
    rows = await repo.warnings_raised(ctx.session, start=p.start, end=p.end, area=ctx.scope.area)
    window = {"start": _iso(p.start), "end": _iso(p.end - timedelta(microseconds=1))}
    all_link = link("/api/v1/warnings", "the warnings", **window)
    metrics_link = link("/api/v1/response-metrics", "response metrics", **window)
    if not rows:
        ctx.figures.update(warnings=0)
        return {"id": "warnings", "title": "Warnings and responses", "statements": [statement(
            "No warning was raised in the period.", all_link)]}
    by_rule: dict[str, int] = {}
    for w in rows:
        by_rule[w["rule"]] = by_rule.get(w["rule"], 0) + 1

    def minutes(step: str) -> list[float]:
        return [(w[step] - w["created_at"]).total_seconds() / 60 for w in rows if w.get(step)]

    ack, arrive = time_summary(minutes("acknowledged_at")), time_summary(minutes("on_scene_at"))
    cutoff = min(p.end, ctx.now)
    deadline = timedelta(minutes=s.brief_response_deadline_minutes)
    unanswered = [w for w in rows if not w["responded"]]
    # A warning's own acknowledgement deadline (its urgency, docs/response.md) where it has one.
    overdue = [w for w in unanswered
               if cutoff > (w.get("acknowledge_by") or w["created_at"] + deadline)]
    statements = [statement(
        f"{plural(len(rows), 'warning')} {'was' if len(rows) == 1 else 'were'} raised (" + ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in sorted(by_rule.items())) + "); "
        f"{len(rows) - len(unanswered)} got a response, {len(unanswered)} none"
        f" — {len(overdue)} of them overdue (no response by the warning's acknowledgement "
        f"deadline, or within {s.brief_response_deadline_minutes} minutes where it has none).",
        all_link, metrics_link,
        ids=[str(w["id"]) for w in rows][:20])]
    if ack["n"]:
        statements.append(statement(
            f"Time to acknowledge: median {ack['median']:.0f} min, 90th percentile "
            f"{ack['p90']:.0f} min" + (f"; time to arrive on scene: median "
                                       f"{arrive['median']:.0f} min" if arrive["n"] else "")
            + ".", metrics_link))
    for w in overdue[:5]:
        statements.append(statement(
            f"Overdue: “{w['headline']}” (raised {w['created_at']:%Y-%m-%d %H:%M} UTC, "
            f"{w['status']}).", link(f"/api/v1/warnings/{w['id']}", "the warning"),
            kind="overdue"))
    reasons: dict[str, int] = {}
    for w in rows:
        for r in w["delay_reasons"]:
            reasons[r] = reasons.get(r, 0) + 1
    if reasons:
        statements.append(statement(
            "Delays were put down to: " + ", ".join(
                f"{k.replace('_', ' ')} ({v})" for k, v in
                sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))) + ".", metrics_link))
    outcomes = [(w, o) for w in rows for o in w["outcomes"]][:8]
    for w, o in outcomes:
        statements.append(statement(f"Outcome for “{w['headline']}”: {o.rstrip('.')}.",
                                    link(f"/api/v1/warnings/{w['id']}", "the warning"),
                                    kind="outcome"))
    ctx.figures.update(warnings=len(rows), warnings_unanswered=len(unanswered),
                       warnings_overdue=len(overdue), ack_median_min=ack["median"])
    return {"id": "warnings", "title": "Warnings and responses", "statements": statements,
            "table": {"columns": ["raised (UTC)", "rule", "severity", "status", "response"],
                      "rows": [[f"{w['created_at']:%Y-%m-%d %H:%M}", w["rule"], w["severity"],
                                w["status"], ", ".join(w["response_types"]) or "none"]
                               for w in rows[:25]]}}


async def _patrols(ctx: _Ctx) -> dict[str, Any]:
    """Execution of the saved patrol plans whose period overlaps the brief's (docs/response.md)."""
    p = ctx.period
    first, last = p.start.date(), (p.end - timedelta(microseconds=1)).date()
    ex = (await patrol_execution.patrol_execution(ctx.session, first, last, None))["total"]
    window = {"start": first.isoformat(), "end": last.isoformat()}
    ex_link = link("/api/v1/patrol-execution", "patrol execution", by="base_week", **window)
    if not ex["reported"]:
        return {"id": "patrols", "title": "Patrol execution", "statements": [statement(
            "No patrol reports are recorded in Kinga for this period: patrol execution cannot be "
            "assessed from the data" + (f" ({plural(ex['planned'], 'planned task')} in saved "
                                        "plans, none reported)." if ex["planned"] else
                                        ". No saved patrol plan covers it."),
            link("/api/v1/patrol-plans", "saved patrol plans", **window), ex_link, kind="gap")]}
    ctx.figures.update(patrol_execution_rate=ex["execution_rate"], patrols_planned=ex["planned"])
    return {"id": "patrols", "title": "Patrol execution", "statements": [statement(
        f"Of {plural(ex['planned'], 'planned patrol task')}, {ex['done']} were done, "
        f"{ex['partly']} partly and {ex['not_done']} not done; {ex['unreported']} unreported "
        f"(execution rate {ex['execution_rate']:.0%}, a partly done task counting half).",
        ex_link)]}


async def _forecast(ctx: _Ctx) -> dict[str, Any]:
    p, s = ctx.period, ctx.settings
    res = min(ctx.res, s.forecast_partner_max_res) if ctx.partner else ctx.res
    horizon = s.brief_forecast_horizon_days
    fc_link = link("/api/v1/forecast", "the forecast", as_of=_iso(p.end), res=res,
                   horizon_days=horizon)
    try:
        cells = await _forecast_cells(ctx, res, horizon)
    except (forecast_svc.NoData, forecast_svc.BeforeHistory) as exc:
        return {"id": "forecast", "title": f"Forecast, next {horizon // 7} weeks",
                "statements": [statement(f"No forecast: {exc.detail}.", fc_link, kind="gap")]}
    top = cells[:5]
    labels = await export_repo.cell_admin1(
        ctx.session, res=res, cells=[h3.str_to_int(c["cell"]) for c in top],
        start=p.end - timedelta(days=365), end=p.end, statuses=ctx.statuses)
    ctx.admin1.update(labels)
    expected = sum(c["expected_incidents"] for c in cells)
    statements = [statement(
        f"For the next {horizon} days the forecast ({cells[0]['method'] if cells else 'n/a'}) "
        f"expects about {expected:.0f} incidents; the most likely areas: " + "; ".join(
            f"{ctx.place(c['cell'])} — {c['expected_incidents']:.1f} expected, "
            f"P(at least one) {c['p_incident']:.0%}" for c in top[:3]) + ".", fc_link)]
    ctx.figures.update(forecast_expected=round(expected, 1),
                       forecast_top=[c["cell"] for c in top])
    return {"id": "forecast", "title": f"Forecast, next {horizon // 7} weeks",
            "statements": statements,
            "table": {"columns": ["cell", "place", "expected incidents", "P(at least one)"],
                      "rows": [[c["cell"], labels.get(h3.str_to_int(c["cell"]), ""),
                                f"{c['expected_incidents']:.2f}", f"{c['p_incident']:.0%}"]
                               for c in top]}}


_FORECASTS: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()


async def _forecast_cells(ctx: _Ctx, res: int, horizon: int) -> list[dict[str, Any]]:
    """The forecast for the period's end, kept per data version (a scheduled run composes two
    editions; a second request for the same brief does not refit)."""
    s = ctx.settings
    version = await hotspot_repo.data_version(ctx.session)
    key = (version, res, ctx.period.end, horizon, s.brief_forecast_method, ctx.partner,
           ctx.scope.bbox, ctx.scope.forecast_area, s.model_dump_json())
    if version is not None and key in _FORECASTS:
        return _FORECASTS[key]
    cells = await forecast_svc.forecast_layer(ctx.session, res, ctx.period.end, horizon, s,
                                              s.brief_forecast_method, bbox=ctx.scope.bbox,
                                              approved_only=ctx.partner,
                                              area=ctx.scope.forecast_area)
    if version is not None:
        _FORECASTS[key] = cells
        while len(_FORECASTS) > 8:
            _FORECASTS.popitem(last=False)
    return cells


async def _reporting(ctx: _Ctx) -> dict[str, Any]:
    p, s = ctx.period, ctx.settings
    statements = []
    if not ctx.partner:
        until = min(p.end - timedelta(microseconds=1), ctx.now)
        report = await ir_gaps.gap_report(ctx.session, until=until, periods=4, now=ctx.now)
        gaps_link = link("/api/v1/information-requirements/gaps", "the gap report",
                         as_of=_iso(until))
        in_gap = [i for i in report["items"] if i["in_gap"]]
        ctx.figures.update(irs=report["total"], irs_in_gap=len(in_gap))
        if report["total"] == 0:
            statements.append(statement("No information requirement is registered.", gaps_link,
                                        kind="gap"))
        else:
            statements.append(statement(
                f"{len(in_gap)} of {report['total']} information requirements are in gap "
                "(reporting in their area missed their required frequency in at least one of "
                "the last four periods).", gaps_link, kind="gap" if in_gap else "fact"))
        for i in in_gap[:8]:
            last = (f"last report {i['days_since_last_report']:.0f} days before"
                    if i["last_report"] else "no report ever")
            statements.append(statement(
                f"{i['code'] or i['kind'].upper()}{' (CRSV)' if i['crsv'] else ''}: "
                f"“{i['question']}” — {i['periods_missed']} of {len(i['periods'])} periods of "
                f"{i['frequency_days']} days without reporting; {last}.", gaps_link, kind="gap"))
    effort = await reporting_effort.effort(
        ctx.session, reporting_effort.Window(
            ctx.res, p.end - timedelta(days=s.brief_threat_window_days), p.end), ctx.role, s)
    silent = sorted(((e["history_mean"], cell) for cell, e in effort.items()
                     if e["status"] == "none"), reverse=True)
    steady = [(m, cell) for m, cell in silent if m >= s.reporting_min_reports]
    thin = sum(1 for e in effort.values() if e["status"] == "thin")
    effort_link = link("/api/v1/reporting-effort", "the reporting-effort layer",
                       as_of=_iso(p.end), res=ctx.res, window_days=s.brief_threat_window_days)
    text = (f"{len(silent)} cells that were reported on before the "
            f"{s.brief_threat_window_days}-day window have no report in it, and {thin} have thin "
            "reporting: a low threat there is not evidence of calm.")
    statements.append(statement(text, *([] if ctx.partner else [effort_link]), kind="gap"))
    if steady and not ctx.partner:
        statements.append(statement(
            "Gone quiet after steady reporting: " + "; ".join(
                f"{ctx.place(cell)} ({mean:.1f} reports per window before)"
                for mean, cell in steady[:3]) + ".", effort_link, kind="gap"))
    ctx.figures.update(silent_cells=len(silent), thin_cells=thin)
    return {"id": "reporting", "title": "Reporting gaps", "statements": statements}

