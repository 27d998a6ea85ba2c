"""Alert text helpers: a category guessed from keywords, and the same SMS resent.

Whether an alert is another report of a known incident is decided by the one matcher every write
path uses (app.services.triangulation: `alerts.match_alert`), not here.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from app.services.missions import languages


def guess_category(text: str, langs: tuple[str, ...] = ("en", "fr"), un_names: tuple[str, ...] = (),
                   armed_groups: tuple[str, ...] = ()) -> str:
    """The category the words of a text suggest (keyword files per language, app/data)."""
    return languages.guess_category(text, langs, un_names, armed_groups)


def is_repeat(previous_text: str, text: str) -> bool:
    """Same SMS resent (gateways retry; people resend when they see no reply)."""
    return fuzz.ratio(previous_text.casefold().strip(), text.casefold().strip()) >= 90
