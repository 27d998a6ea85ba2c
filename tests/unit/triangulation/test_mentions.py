"""Mentions by word-run lookup find exactly what one regular expression of the known names
(longest first, between word boundaries) finds: on random word soups and names, and on the
bundled UCDP events' narratives with their actors' names and the bundled aliases."""

from __future__ import annotations

import random
import re

from app.services.triangulation.evaluation import load_frame, read_aliases
from app.services.triangulation.names import _NON_WORD, AliasTable, Mentions, _ascii, variants
from app.settings import PROJECT_ROOT


class RegexMentions:
    """The reference: one alternation of every known name, longest first."""

    def __init__(self, names):
        keys = sorted({k for k in names if len(k) >= 3}, key=len, reverse=True)
        self.pattern = (re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, keys)) + r")(?![a-z0-9])")
                        if keys else None)

    def of(self, text):
        if not text or self.pattern is None:
            return frozenset()
        flat = " ".join(_NON_WORD.sub(" ", _ascii(text)).split())
        return frozenset(m.group(1) for m in self.pattern.finditer(flat))


WORDS = ["ab", "abc", "bal", "balaka", "anti", "fprc", "upc", "seleka", "x", "ex", "3r", "a1b",
         "of", "the", "mpc", "lra", "kaga", "bandoro"]
ODD = ["Anti-Balaka", "  ", "é", "ÉX-séléka", "(2014)", ",", ";", "\n", "--", "Ab", "abc-d"]


def _name(rng: random.Random) -> str:
    if rng.random() < 0.1:  # not a normalised name: never found by either
        return rng.choice(ODD) + rng.choice(WORDS)
    return " ".join(rng.choice(WORDS) for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])))


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS + ODD) + rng.choice([" ", " ", "-", ", ", ""])
                   for _ in range(rng.randrange(0, 40)))


def test_random_names_and_texts():
    rng = random.Random(14)
    for _ in range(400):
        names = {_name(rng) for _ in range(rng.randrange(0, 30))}
        fast, slow = Mentions(names), RegexMentions(names)
        for _ in range(20):
            t = _text(rng)
            assert fast.of(t) == slow.of(t), (sorted(names), t)
    assert Mentions({"anti balaka", "balaka"}).of("The Anti-Balaka attacked") == {"anti balaka"}


def test_bundled_narratives():
    events = load_frame("ucdp", PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson")
    names = AliasTable.of(read_aliases(PROJECT_ROOT / "geodata" / "triangulation" / "actor-aliases-car.csv")).keys()
    names |= {v for p in events["perpetrators"] for n in p for v in variants(n)}
    fast, slow = Mentions(names), RegexMentions(names)
    texts = [t for t in events["narrative"].tolist() if isinstance(t, str)]
    found = 0
    for t in texts:
        got = fast.of(t)
        assert got == slow.of(t), t
        found += bool(got)
    assert len(texts) > 1000 and found > 100  # the law is not vacuous
