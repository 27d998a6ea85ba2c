"""Precision and recall of the matcher against a hand-labelled set of candidate pairs.

The evaluation runs the matcher exactly as an import of the second file on top of the first
would (same accounts, gate, scores and one-to-one assignment over the whole batch), with the
candidate search done in memory instead of by the database index. For each threshold t the
predicted links are the assigned pairs scoring at least t (assignment with floor t, as the
import would do with that threshold).

Labels: `same` (one event), `part` (one account is a day or place of the other's multi-day or
multi-place account), `different`, `unsure` (left out). A predicted link is correct when the
pair is `same` or `part` (merging a part into the whole still counts the event once); recall is
over the `same` pairs (a part the one-to-one assignment leaves out is not a miss).
Predicted links to pairs that were never labelled are reported separately: they are not in the
sample, so they count neither way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.services.incidents.import_mapping import iter_chunks
from app.services.triangulation import accounts as acc
from app.services.triangulation.matcher import assign, candidate_pairs
from app.services.triangulation.names import Alias, AliasTable, Mentions
from app.services.triangulation.scoring import PairScores, ScoreParams, day_gap, haversine_km

CORRECT = ("same", "part")


def read_labels(path: Path) -> pd.DataFrame:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    df = pd.DataFrame(rows[1:], columns=rows[0])
    df["ucdp_id"] = df["ucdp_id"].astype(str)
    return df


def read_aliases(path: Path) -> list[Alias]:
    with path.open(newline="", encoding="utf-8") as fh:
        out = []
        for r in csv.DictReader(fh):
            out.append(Alias(r["alias"], r["canonical"],
                             pd.Timestamp(r["valid_from"]).date() if r.get("valid_from") else None,
                             pd.Timestamp(r["valid_to"]).date() if r.get("valid_to") else None))
        return out


def load_frame(source: str, path: Path) -> pd.DataFrame:
    frames = [c.events for c in iter_chunks(source, path, 9, chunk_rows=1_000_000)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def search(left: acc.Accounts, right: acc.Accounts, params: ScoreParams, block: int = 256
           ) -> tuple[np.ndarray, np.ndarray]:
    """All (left, right) pairs passing the gate, by brute force in blocks (the evaluation's
    stand-in for the database index)."""
    lis, ris = [], []
    for lo in range(0, len(left), block):
        li = np.arange(lo, min(lo + block, len(left)))
        d = haversine_km(left.lat[li, None], left.lon[li, None], right.lat[None], right.lon[None])
        r = (left.radius_m[li, None] + right.radius_m[None]) / 1000.0
        g = day_gap(left.start[li, None], left.end[li, None], right.start[None], right.end[None])
        a, b = np.nonzero((d <= r + params.slack_km) & (g <= params.slack_days))
        lis.append(li[a])
        ris.append(b)
    if not lis:
        return np.array([], int), np.array([], int)
    return np.concatenate(lis), np.concatenate(ris)


@dataclass
class Run:
    """The scored candidate pairs of one simulated import (new = left, store = right)."""

    left: acc.Accounts
    right: acc.Accounts
    scores: PairScores
    left_ids: np.ndarray
    right_ids: np.ndarray


def simulate(store: pd.DataFrame, store_source: str, batch: pd.DataFrame, batch_source: str,
             aliases: Iterable[Alias], params: ScoreParams | None = None) -> Run:
    p = params or ScoreParams()
    table = AliasTable.of(aliases)
    right = acc.from_events(store, store_source)
    left = acc.from_events(batch, batch_source)
    li, ri = search(left, right, p)
    mentions = Mentions(table.keys() | left.all_name_keys() | right.all_name_keys())
    left.resolve(table, mentions)
    right.resolve(table, mentions)
    scores = candidate_pairs(left, right, li, ri, p)
    return Run(left, right, scores, batch["external_id"].astype(str).to_numpy(),
               store["external_id"].astype(str).to_numpy())


def predicted(run: Run, threshold: float) -> set[tuple[str, str]]:
    """(store id, batch id) pairs linked or held at this threshold."""
    chosen = assign(run.scores, run.left.group, run.right.key, threshold)
    ks = chosen[chosen >= 0]
    return {(str(run.right_ids[run.scores.right[k]]), str(run.left_ids[run.scores.left[k]]))
            for k in ks.tolist()}


def evaluate(run: Run, labels: pd.DataFrame, thresholds: Iterable[float]) -> list[dict[str, Any]]:
    lab = {(r.ucdp_id, r.acled_id): r.label for r in labels.itertuples()}
    positives = {k for k, v in lab.items() if v == "same"}
    rows = []
    for t in thresholds:
        pred = predicted(run, t)
        judged = {k: lab[k] for k in pred if k in lab and lab[k] != "unsure"}
        tp = sum(1 for v in judged.values() if v in CORRECT)
        fp = len(judged) - tp
        found = len(positives & pred)
        rows.append({
            "threshold": round(t, 2), "predicted_labelled": len(judged), "correct": tp, "wrong": fp,
            "precision": tp / len(judged) if judged else float("nan"),
            "same_found": found, "same_total": len(positives),
            "recall": found / len(positives) if positives else float("nan"),
            "predicted_unlabelled": sum(1 for k in pred if k not in lab),
        })
    return rows


def label_summary(labels: pd.DataFrame) -> dict[str, int]:
    out = labels["label"].value_counts().to_dict()
    out["pairs"] = len(labels)
    out["ucdp_events"] = labels["ucdp_id"].nunique()
    return {str(k): int(v) for k, v in out.items()}


def sample_pairs(store: pd.DataFrame, batch: pd.DataFrame, *, start: str, end: str, events: int,
                 per_event: int, seed: int, slack_km: float = 50.0, slack_days: float = 7.0
                 ) -> pd.DataFrame:
    """How the labelled set was drawn (docs/triangulation.md): `events` store events in
    [start, end) with at least one batch event within both radii + slack_km and slack_days,
    chosen at random; for each, its `per_event` nearest batch events by days apart, then km."""
    s = store[(store["occurred_start"] >= start) & (store["occurred_start"] < end)].reset_index(drop=True)
    u, a = acc.from_events(s, None), acc.from_events(batch, None)
    d = haversine_km(u.lat[:, None], u.lon[:, None], a.lat[None], a.lon[None])
    r = (u.radius_m[:, None] + a.radius_m[None]) / 1000.0
    g = day_gap(u.start[:, None], u.end[:, None], a.start[None], a.end[None])
    near = (d <= r + slack_km) & (g <= slack_days)
    has = np.flatnonzero(near.sum(1) > 0)
    pick = np.sort(np.random.default_rng(seed).choice(has, size=min(events, len(has)), replace=False))
    rows = []
    for i in pick:
        js = sorted(np.flatnonzero(near[i]), key=lambda j: (g[i, j], d[i, j]))[:per_event]
        rows += [(s["external_id"].iloc[i], batch["external_id"].iloc[j], round(float(d[i, j]), 1),
                  round(float(g[i, j]), 1)) for j in js]
    return pd.DataFrame(rows, columns=["ucdp_id", "acled_id", "km", "days_apart"])
