"""Alert text helpers: a category guessed from keywords, and the same SMS resent.

Whether an alert is another report of a known incident is decided by the one matcher every write
path uses (app.services.triangulation: `alerts.match_alert`), not here.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from app.domain import Category

# Keywords (English, French, a little Sango) for alerts that arrive without a category (SMS).
KEYWORDS: list[tuple[Category, tuple[str, ...]]] = [
    (Category.sexual_violence, ("rape", "raped", "viol", "violée", "violee", "sexual", "sexuel")),
    (
        Category.killing,
        ("killed", "kill", "dead", "tué", "tue", "tués", "morts", "mort", "massacre"),
    ),
    (Category.abduction, ("abduct", "kidnap", "enlev", "otage", "hostage")),
    (Category.injury, ("injur", "wounded", "blessé", "blesse")),
    (Category.looting_destruction, ("loot", "burn", "pillage", "pillé", "incendi", "brûl")),
    (Category.displacement, ("fled", "flee", "displac", "fuite", "fuient", "déplac")),
    (Category.attack_on_peacekeepers, ("peacekeeper", "minusca", "casque bleu", "humanitarian")),
    (
        Category.armed_group_presence,
        (
            "armed men",
            "armed group",
            "hommes armés",
            "hommes armes",
            "rebel",
            "anti-balaka",
            "seleka",
            "3r",
            "upc",
            "fpcr",
        ),
    ),
    (Category.threat_intimidation, ("threat", "menace", "intimid", "warn")),
]


def guess_category(text: str) -> str:
    low = text.casefold()
    for cat, words in KEYWORDS:
        if any(re.search(r"(?<!\w)" + re.escape(w), low) for w in words):
            return cat.value
    return Category.other.value


def is_repeat(previous_text: str, text: str) -> bool:
    """Same SMS resent (gateways retry; people resend when they see no reply)."""
    return fuzz.ratio(previous_text.casefold().strip(), text.casefold().strip()) >= 90
