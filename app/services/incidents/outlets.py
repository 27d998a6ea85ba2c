"""Outlet names as cited by event data sets, normalised so that one outlet is one name (the
alias list is data: app/data/outlet-aliases.csv). Used to tell independent sources apart."""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

ALIASES = Path(__file__).resolve().parents[2] / "data" / "outlet-aliases.csv"
_PUNCT = re.compile(r"[^\w&]+")


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    with ALIASES.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    return {_key(alias): outlet for alias, outlet in rows[1:]}


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())


@lru_cache(maxsize=8192)
def outlet(name: str) -> str:
    key = _key(name)
    return _aliases().get(key, key)


@lru_cache(maxsize=8192)
def cited_outlets(field: str) -> tuple[str, ...]:
    """A `;`-separated source field as distinct normalised outlets, in order."""
    seen: dict[str, None] = {}
    for part in field.split(";"):
        if part.strip():
            seen.setdefault(outlet(part), None)
    return tuple(k for k in seen if k)
