"""SQL fragments shared by the repositories: the H3 parent of a stored cell, and the per-event
threat terms rendered from `app.domain.ThreatTerms`.

The terms' definitions (and their parameters' values) live in `app.services.threat.score`; the
SQL here computes the same numbers, and `tests/db/threat/test_threat_terms_parity.py` scores
random incidents through both and checks that they agree. Every value is a bound parameter
(`term_params`); the fragments themselves are fixed text.
"""

from __future__ import annotations

from typing import Any

from app.domain import DATE_SPAN_DAYS, ThreatTerms

# Past this exponent float8 exp() raises "value out of range: underflow" in PostgreSQL; Python's
# math.exp and numpy return 0.0 there, and so does the decay below.
EXP_UNDERFLOW = 745.0


def h3_parent(column: str = "i.h3_cell", res: str = ":res") -> str:
    """The parent at resolution `res` (a bound parameter or an integer literal) of the H3 index
    stored in `column` (BIGINT): set the resolution bits 52-55, fill the lower digits with 7.
    The same bit operation as `app.services.geo.h3cells.parent_int`."""
    return (f"((({column} & ~(15::bigint << 52)) | (CAST({res} AS bigint) << 52)) "
            f"| ((1::bigint << (3 * (15 - CAST({res} AS int)))) - 1))")


def valid_cell(column: str = "i.h3_cell", res: str = ":res") -> str:
    """A stored cell every reader can use: an H3 cell index (mode 1, reserved bits clear), at or
    below resolution `res`, on one of the 122 base cells. The edge stores nothing else; a row
    written around it is left out of aggregates instead of breaking them (issue 11)."""
    return (f"(({column} >> 56) = 8 AND (({column} >> 52) & 15) >= CAST({res} AS int) "
            f"AND (({column} >> 45) & 127) < 122)")


def age_days(end: str = ":end", column: str = "i.occurred_start") -> str:
    """Age of the event at the window's end, in days (float8: date_part, not extract, whose
    numeric result makes exp/ln ~10x slower per row)."""
    return (f"(date_part('epoch', CAST({end} AS timestamptz) - {column})"
            " / CAST(86400 AS float8))")


def precision_scale(alias: str = "i") -> str:
    """The precision-widened decay scale of an event: max(scale, share x the days its date's
    precision code covers) (score.decay_scale; issue 13)."""
    spans = " ".join(f"WHEN {k} THEN CAST({float(v)!r} AS float8)"
                     for k, v in DATE_SPAN_DAYS.items())
    return (f"greatest(CAST(:t_scale AS float8), CAST(:t_prec_share AS float8) * "
            f"(CASE {alias}.time_precision {spans} ELSE CAST(0 AS float8) END))")


def decay(age: str, scale: str = "CAST(:t_scale AS float8)") -> str:
    """exp(-max(age, 0) / scale), 0 where it would underflow (huge windows)."""
    x = f"(greatest({age}, CAST(0 AS float8)) / {scale})"
    return f"(CASE WHEN {x} < {EXP_UNDERFLOW} THEN exp(-{x}) ELSE CAST(0 AS float8) END)"


def credibility(alias: str = "i") -> str:
    """Status weight x grade weight; rejected (and any unknown status or grade) weighs 0."""
    return (f"(CASE {alias}.status WHEN 'approved' THEN CAST(:t_approved AS float8) "
            f"WHEN 'validated' THEN CAST(:t_validated AS float8) "
            f"WHEN 'entered' THEN CAST(:t_entered AS float8) ELSE CAST(0 AS float8) END"
            f" * CASE {alias}.quality_grade WHEN 'a' THEN CAST(:t_a AS float8) "
            f"WHEN 'b' THEN CAST(:t_b AS float8) WHEN 'c' THEN CAST(:t_c AS float8) "
            f"ELSE CAST(0 AS float8) END)")


def event_harm(alias: str = "i") -> str:
    """1 + weighted casualties + log-scaled displacement (see score.event_harm)."""
    return (f"(CAST(1 AS float8) + CAST(:t_fat AS float8) * {alias}.fatalities_best"
            f" + CAST(:t_inj AS float8) * {alias}.injured"
            f" + CAST(:t_child AS float8) * {alias}.children_affected"
            f" + CAST(:t_disp AS float8) * ln(CAST(1 AS float8) + {alias}.displaced))")


def event_crsv(alias: str = "i") -> str:
    """Survivors of sexual violence, at least 1 for an event of the CRSV category."""
    return (f"greatest({alias}.crsv_survivors, "
            f"CASE WHEN {alias}.category = :t_crsv_cat THEN 1 ELSE 0 END)::float8")


def term_params(terms: ThreatTerms) -> dict[str, Any]:
    """The bound parameters every fragment above reads."""
    sw, gw = terms.status_weight, terms.grade_weight
    return {
        "t_scale": terms.decay_scale_days,
        "t_approved": sw.get("approved", 0.0), "t_validated": sw.get("validated", 0.0),
        "t_entered": sw.get("entered", 0.0),
        "t_a": gw.get("a", 0.0), "t_b": gw.get("b", 0.0), "t_c": gw.get("c", 0.0),
        "t_fat": terms.harm_fatality, "t_inj": terms.harm_injured,
        "t_child": terms.harm_children, "t_disp": terms.harm_displaced_log,
        "t_crsv_cat": terms.crsv_category, "t_prec_share": terms.precision_share,
    }
