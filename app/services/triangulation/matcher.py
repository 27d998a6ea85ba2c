"""One matcher for every write path: candidates → scores → one-to-one assignment → outcome.

The candidate search is the caller's (an indexed space–time query in the database, or an
in-memory search for the evaluation); everything after it is here and is the same for import
batches, staff entries and alerts.

Outcomes by the best assigned score: at or above `auto_link` the new account becomes a report of
the existing incident; from `review` up to it, it is held as a possible duplicate for an analyst;
below, it is a new incident.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from app.errors import InvalidInput
from app.services.triangulation.accounts import Accounts
from app.services.triangulation.scoring import PairScores, ScoreParams, gate, score_pairs

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a batch is matched. Matching a large batch builds
    hundreds of thousands of small objects (rows, name sets, tuples) that live until it ends;
    each full collection walks all of them again, which cost as much as the matching itself
    on a 10,000-row batch. Reference counting still frees everything; collection resumes when
    the last pause ends (pauses may overlap across threads)."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


class Outcome(IntEnum):
    new = 0
    linked = 1
    queued = 2


@dataclass(frozen=True)
class Thresholds:
    auto_link: float
    review: float

    def __post_init__(self) -> None:
        errors = []
        for name in ("auto_link", "review"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                errors.append({"pointer": f"/body/{name}", "detail": "must be between 0 and 1"})
        if not errors and self.review > self.auto_link:
            errors.append({"pointer": "/body/review",
                           "detail": "the review threshold must not exceed the auto-link threshold"})
        if errors:
            raise InvalidInput("thresholds out of order or range", errors=errors)


def assign(scores: PairScores, groups: np.ndarray, right_keys: np.ndarray, floor: float
           ) -> np.ndarray:
    """One-to-one, most confident first: for each new account (left) the index of its chosen pair
    in `scores`, or −1. An existing incident (right) goes to one new account, except that rows
    of one account (same `groups` key: one report coded as several rows) may share it. Pairs
    below `floor` are never chosen. Deterministic: ties go to the lower left index, then the
    smaller right key."""
    n_left = len(groups)
    chosen = np.full(n_left, -1, dtype=np.int64)
    ok = np.flatnonzero(scores.score >= floor)
    if len(ok) == 0:
        return chosen
    rkeys = np.array([str(k) for k in right_keys[scores.right[ok]]], dtype=object)
    order = ok[np.lexsort((rkeys, scores.left[ok], -scores.score[ok]))]
    taken: dict[int, object] = {}  # right index -> group (or a unique token) that holds it
    for k in order.tolist():
        i, j = int(scores.left[k]), int(scores.right[k])
        if chosen[i] >= 0:
            continue
        g = groups[i] if groups[i] is not None else ("row", i)
        holder = taken.get(j)
        if holder is None or holder == g:
            taken[j] = g
            chosen[i] = k
    return chosen


@dataclass
class Decisions:
    """Per new account: outcome, the incident key it links to or is held against, the score,
    and the scored pairs (for the evidence)."""

    outcome: np.ndarray
    target: np.ndarray  # right key, or None
    score: np.ndarray  # best assigned score (NaN when none)
    pair: np.ndarray  # index into `scores`, −1 when none
    scores: PairScores

    def counts(self) -> dict[str, int]:
        return {o.name: int((self.outcome == o).sum()) for o in Outcome}


def decide(left: Accounts, right: Accounts, scores: PairScores, thresholds: Thresholds) -> Decisions:
    chosen = assign(scores, left.group, right.key, thresholds.review)
    has = chosen >= 0
    best = np.full(len(left), np.nan)
    best[has] = scores.score[chosen[has]]
    outcome = np.full(len(left), Outcome.new, dtype=np.int8)
    outcome[has & (best >= thresholds.auto_link)] = Outcome.linked
    outcome[has & (best < thresholds.auto_link)] = Outcome.queued
    target = np.full(len(left), None, dtype=object)
    target[has] = right.key[scores.right[chosen[has]]]
    return Decisions(outcome, target, best, chosen, scores)


def candidate_pairs(left: Accounts, right: Accounts, li: np.ndarray, ri: np.ndarray,
                    params: ScoreParams) -> PairScores:
    """Gate and score pairs a search proposed; same-source pairs never pass (an export's rows
    are distinct events)."""
    li = np.asarray(li, dtype=np.int64)
    ri = np.asarray(ri, dtype=np.int64)
    if len(li):
        codes = {s: k for k, s in enumerate({*left.source.tolist(), *right.source.tolist()} - {None})}
        lcode = np.array([-1 if s is None else codes[s] for s in left.source.tolist()], dtype=np.int64)
        rcode = np.array([-2 if s is None else codes[s] for s in right.source.tolist()], dtype=np.int64)
        different = (lcode[li] == -1) | (lcode[li] != rcode[ri])
        keep = different & gate(left, right, li, ri, params)
        li, ri = li[keep], ri[keep]
    return score_pairs(left, right, li, ri, params)


def match(left: Accounts, right: Accounts, li: np.ndarray, ri: np.ndarray,
          thresholds: Thresholds, params: ScoreParams | None = None) -> Decisions:
    return decide(left, right, candidate_pairs(left, right, li, ri, params or ScoreParams()),
                  thresholds)
