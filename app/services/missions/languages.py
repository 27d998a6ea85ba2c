"""Languages as data: category keywords and outbound message templates, one JSON file per
language under app/data/languages (a new language is a file, not code).

A keyword ending in `*` matches the start of a word ("kill*": killed, killing); any other keyword
matches whole words only (short words in one language are often prefixes of words in another).
Matching ignores case and accents (and Arabic diacritics). The category order is the domain's
priority (sexual violence before killing, killing before presence…), whatever the language.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.domain import Category

LANG_DIR = Path(__file__).resolve().parents[2] / "data" / "languages"
# First match wins: the most specific and most serious categories first.
CATEGORY_ORDER = (
    Category.sexual_violence, Category.killing, Category.abduction, Category.injury,
    Category.looting_destruction, Category.displacement, Category.attack_on_peacekeepers,
    Category.armed_group_presence, Category.threat_intimidation,
)
FALLBACK = "en"


def fold(text: str) -> str:
    """Case- and accent-free form (NFKD without combining marks, casefolded)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def available() -> list[str]:
    return sorted(p.stem for p in LANG_DIR.glob("*.json"))


def exists(code: str) -> bool:
    return (LANG_DIR / f"{code}.json").is_file() if re.fullmatch(r"[a-z]{2,3}", code) else False


@lru_cache(maxsize=32)
def load(code: str) -> dict[str, Any]:
    if not exists(code):
        raise LookupError(f"no language file for {code!r}")
    doc = json.loads((LANG_DIR / f"{code}.json").read_bytes())
    known = {c.value for c in Category}
    for cat in doc.get("keywords", {}):
        if cat not in known:
            raise ValueError(f"{code}.json: unknown category {cat!r}")
    return doc  # type: ignore[no-any-return]


def _pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for w in sorted({fold(w.strip()) for w in words if w.strip()}, key=len, reverse=True):
        if w.endswith("*"):
            parts.append(re.escape(w[:-1]))
        else:
            parts.append(re.escape(w) + r"(?!\w)")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")") if parts else None


@lru_cache(maxsize=64)
def keyword_patterns(languages: tuple[str, ...], un_names: tuple[str, ...] = (),
                     armed_groups: tuple[str, ...] = ()
                     ) -> list[tuple[str, re.Pattern[str]]]:
    """(category, compiled pattern) in priority order, for these languages plus the mission's own
    names (its UN names count as peacekeepers, its armed groups as armed-group presence; both as
    word prefixes)."""
    words: dict[str, list[str]] = {c.value: [] for c in CATEGORY_ORDER}
    for code in languages or (FALLBACK,):
        if not exists(code):
            continue
        for cat, kws in load(code).get("keywords", {}).items():
            words.setdefault(cat, []).extend(kws)
    words[Category.attack_on_peacekeepers.value] += [n.rstrip("*") + "*" for n in un_names]
    words[Category.armed_group_presence.value] += [n.rstrip("*") + "*" for n in armed_groups]
    out = []
    for cat in CATEGORY_ORDER:
        pat = _pattern(words.get(cat.value, []))
        if pat is not None:
            out.append((cat.value, pat))
    return out


def guess_category(text: str, languages: tuple[str, ...], un_names: tuple[str, ...] = (),
                   armed_groups: tuple[str, ...] = ()) -> str:
    low = fold(text)
    for cat, pat in keyword_patterns(languages, un_names, armed_groups):
        if pat.search(low):
            return cat
    return Category.other.value


def template_language(languages: Iterable[str]) -> str:
    """The first of the mission's languages that has message templates (else English)."""
    for code in languages:
        if exists(code) and load(code).get("templates"):
            return code
    return FALLBACK


def message(key: str, languages: Iterable[str], **values: Any) -> str:
    """An outbound message in the mission's first language that has this template."""
    for code in [*languages, FALLBACK]:
        if exists(code):
            tpl = load(code).get("templates", {}).get(key)
            if tpl is not None:
                return str(tpl).format(**values)
    raise LookupError(f"no template {key!r}")
