"""Actor names as two sources spell them: normalised, resolved through the mission's alias table,
compared with rapidfuzz.

"X-group" and "X-Group Militia", "Y Militia" and "Y Rebel Coalition" differ only in spelling
and descriptors; normalisation removes those. Names that differ in substance (one source codes
an armed group that took power as "Government of <country>", another by the group's name) are
joined by alias rows that analysts edit per mission, optionally limited to a period. Nothing
here knows any particular group: the aliases are data (the bundled mission profile seeds some).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from rapidfuzz import fuzz

# Descriptors that say what kind of actor a name is, not which one.
DESCRIPTORS = frozenset({
    "the", "of", "and", "de", "la", "le", "les", "des", "du", "militia", "militias", "forces",
    "force", "group", "groups", "coalition", "rebel", "rebels", "ethnic", "movement", "elements",
    "former", "ex", "armed", "fighters", "men",
})
# Names that identify nobody (ACLED's placeholders, crowds, victims).
ANONYMOUS = frozenset({
    "", "unidentified", "unknown", "unidentified armed", "unidentified communal", "civilians",
    "civilian", "rioters", "protesters", "gunmen", "assailants",
})
_PAREN = re.compile(r"\([^)]*\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# A one-word name this short is an acronym: acronyms match exactly or not at all ("FPR" is not
# "FPRC").
ACRONYM_MAX = 5
# Name evidence from a mention of the other side's actor in a narrative (weaker than a coded name:
# narratives also name victims and suspects).
MENTION_SIMILARITY = 0.8


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """Lower case, ASCII, no parentheses ("(2013-2014)", "(<country>)"), no
    descriptors; "" when nothing identifying is left."""
    words = _NON_WORD.sub(" ", _PAREN.sub(" ", _ascii(name))).split()
    key = " ".join(w for w in words if w not in DESCRIPTORS)
    return "" if key in ANONYMOUS else key


@lru_cache(maxsize=65536)
def variants(name: str) -> tuple[str, ...]:
    """The names one coded actor field stands for: a UCDP side may list several ("X-group,
    ABC-D"); an ACLED actor is "ACRONYM: Full name"."""
    out: dict[str, None] = {}
    for part in name.split(","):
        pieces = part.split(":", 1)
        for piece in pieces:
            key = normalise(piece)
            if key:
                out.setdefault(key, None)
    return tuple(out)


@dataclass(frozen=True)
class Alias:
    alias: str
    canonical: str
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass
class AliasTable:
    """Aliases keyed by their normalised spelling. `canonical(key, day)` applies the row valid on
    that day (rows without dates always apply)."""

    rows: dict[str, list[Alias]] = field(default_factory=dict)

    @classmethod
    def of(cls, aliases: Iterable[Alias]) -> AliasTable:
        table = cls()
        for a in aliases:
            key, canon = normalise(a.alias), normalise(a.canonical)
            if key and canon:
                table.rows.setdefault(key, []).append(Alias(key, canon, a.valid_from, a.valid_to))
        return table

    def canonical(self, key: str, day: date | None) -> str:
        for a in self.rows.get(key, ()):
            if day is None or ((a.valid_from is None or a.valid_from <= day)
                               and (a.valid_to is None or day <= a.valid_to)):
                return a.canonical
        return key

    def keys(self) -> set[str]:
        return set(self.rows) | {a.canonical for rows in self.rows.values() for a in rows}


def canonical_names(names: Sequence[str], day: date | None, aliases: AliasTable) -> frozenset[str]:
    return frozenset(aliases.canonical(v, day) for n in names for v in variants(n))


def _is_acronym(key: str) -> bool:
    return " " not in key and len(key) <= ACRONYM_MAX


@lru_cache(maxsize=262144)
def pair_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if _is_acronym(a) or _is_acronym(b):
        return 0.0
    return fuzz.token_set_ratio(a, b) / 100.0


def _coverage(a: frozenset[str], b: frozenset[str], b_mentions: frozenset[str]) -> float:
    """How well the other account accounts for each of this one's actors: the mean over this
    side's names of the best coded-name similarity (or a mention in the other's narrative)."""
    total = 0.0
    for x in a:
        best = max((pair_similarity(x, y) for y in b), default=0.0)
        if best < MENTION_SIMILARITY and x in b_mentions:
            best = MENTION_SIMILARITY
        total += best
    return total / len(a)


def similarity(a: frozenset[str], b: frozenset[str], a_mentions: frozenset[str] = frozenset(),
               b_mentions: frozenset[str] = frozenset()) -> float | None:
    """Actor agreement in [0, 1]: every actor of each side should be found on the other (a clash
    between two groups is not one group's attack on civilians), as a coded name or as a mention
    in the other's narrative; the mean of both directions. None when a side names nobody (then
    names are no evidence either way)."""
    if not a or not b:
        return None
    return (_coverage(a, b, b_mentions) + _coverage(b, a, a_mentions)) / 2


class Mentions:
    """Which known names a narrative mentions (whole words, after normalisation), computed once
    per account rather than once per pair.

    Known names are normalised word sequences, so a mention is a run of whole words of the
    flattened narrative: scanning its words left to right, the longest known name starting at
    a word is taken and the scan resumes after it (what a regular expression of the names,
    longest first, between word boundaries, would find — tested against one), by looking word
    runs up in a set instead of trying every name at every position."""

    def __init__(self, names: Iterable[str]) -> None:
        self.keys = frozenset(k for k in names if len(k) >= 3)
        lengths: dict[str, set[int]] = {}
        for k in self.keys:
            words = k.split(" ")
            lengths.setdefault(words[0], set()).add(len(words))
        # first word -> the word counts of the names starting with it, longest first
        self.lengths = {w: sorted(ns, reverse=True) for w, ns in lengths.items()}

    def of(self, text: str | None) -> frozenset[str]:
        if not text or not self.keys:
            return frozenset()
        words = _NON_WORD.sub(" ", _ascii(text)).split()
        lengths, keys = self.lengths, self.keys
        found = set()
        i, n = 0, len(words)
        while i < n:
            step = 1
            for m in lengths.get(words[i], ()):
                if i + m <= n:
                    run = words[i] if m == 1 else " ".join(words[i:i + m])
                    if run in keys:
                        found.add(run)
                        step = m
                        break
            i += step
        return frozenset(found)


def mentioned(text_names: frozenset[str], day: date | None, aliases: AliasTable) -> frozenset[str]:
    return frozenset(aliases.canonical(k, day) for k in text_names)
