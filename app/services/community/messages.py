"""Short messages to reporters, one JSON file per language under app/data/messages (a new
language is a file, not code). A message never names a unit, a time of arrival, a place or
another reporter: it says that the alert was received, or that help was sent, and nothing more."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

MESSAGES_DIR = Path(__file__).resolve().parents[2] / "data" / "messages"
KINDS = ("alert.received", "alert.dispatched")


def available() -> list[str]:
    return sorted(p.stem for p in MESSAGES_DIR.glob("*.json"))


@lru_cache(maxsize=64)
def _load(code: str) -> dict[str, Any] | None:
    path = MESSAGES_DIR / f"{code}.json"
    if not re.fullmatch(r"[a-z]{2,3}", code) or not path.is_file():
        return None
    return json.loads(path.read_bytes())  # type: ignore[no-any-return]


def primary(tag: str | None) -> str | None:
    """The primary language subtag of a BCP 47 tag ("fr-CF" -> "fr")."""
    if not tag:
        return None
    return tag.split("-", 1)[0].strip().lower() or None


def message(kind: str, language: str | None, default: str) -> tuple[str, str]:
    """(language used, text) for this kind of acknowledgement: the alert's language when a file
    has the template, else the default language, else English."""
    for code in (primary(language), primary(default), "en"):
        doc = _load(code) if code else None
        if doc is not None and kind in doc.get("templates", {}):
            return str(code), str(doc["templates"][kind])
    raise LookupError(f"no message template {kind!r}")
