"""Measuring linkage against a truth: pairwise precision, recall and F1, and blocking recall.

    scores = pairwise_scores(predicted={"a": "P1", "b": "P1"}, truth={"a": "T1", "b": "T1"})
    scores.f1  # 1.0
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from linkage.matching import BLOCKING_KEYS
from linkage.pipeline import all_batch_ids, load_tables
from linkage.standardize import place_newborns


@dataclass(frozen=True)
class PairwiseScores:
    true_positives: int
    predicted_pairs: int
    true_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs_in(groups: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in groups)


def pairwise_scores(predicted: Mapping[str, str], truth: Mapping[str, str]) -> PairwiseScores:
    """Pairwise scores of a clustering (record -> cluster) against a truth (record -> person).

    Records missing from either side are left out of both.
    """
    common = [r for r in predicted if r in truth]
    both = Counter((predicted[r], truth[r]) for r in common)
    return PairwiseScores(
        true_positives=_pairs_in(both.values()),
        predicted_pairs=_pairs_in(Counter(predicted[r] for r in common).values()),
        true_pairs=_pairs_in(Counter(truth[r] for r in common).values()),
    )


def blocking_recall(
    records: Mapping[str, Mapping[str, Any]], truth: Mapping[str, str], rules: Sequence[Sequence[str]]
) -> float:
    """Share of true pairs that at least one blocking rule (a list of equal, non-null columns) proposes."""
    by_person: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record in truth:
            by_person[truth[record]].append(record)
    found = total = 0
    for members in by_person.values():
        for a, b in combinations(members, 2):
            total += 1
            ra, rb = records[a], records[b]
            if any(all(ra.get(c) is not None and ra.get(c) == rb.get(c) for c in rule) for rule in rules):
                found += 1
    return found / total if total else 1.0


def read_truth(path: Path) -> dict[str, str]:
    """A truth file (`source,record_id,person_id`) as unique id -> true person."""
    with open(path, encoding="utf-8") as fh:
        return {f"{row['source']}|{row['record_id']}": row["person_id"] for row in csv.DictReader(fh)}


def evaluate_linkage(data_dir: Path, assignments: Mapping[str, str], truth: Mapping[str, str]) -> dict[str, float]:
    """Pairwise scores of the graph's persons and the blocking recall, over the truth's records.

    A record without a MATCH (waiting for review) counts as a person of its own.
    """
    table = load_tables(data_dir, all_batch_ids(data_dir))
    table = place_newborns(table, table)
    records: dict[str, dict[str, Any]] = {
        str(row["unique_id"]): {str(k): v for k, v in row.items()} for row in table.to_dict("records")}
    predicted = {uid: assignments.get(uid, f"unlinked:{uid}") for uid in records}
    scores = pairwise_scores(predicted, truth)
    return {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
            "blocking_recall": blocking_recall(records, truth, BLOCKING_KEYS)}


def review_label_scores(events: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """How the model's automatic links fared against reviewers' decisions (labelled pairs).

    Each event is a reviewer's MATCH or NO_MATCH of a record to a person, with the record's links
    before it. `match_precision` is the share of reviewed automatic MATCHes the reviewers kept;
    `review_match_rate` the share of reviewed POSSIBLE_MATCH items that were matches.
    """
    kept = overturned = confirmed = rejected = 0
    for event in events:
        decision = "MATCH" if event["action"] == "link:MATCH" else "NO_MATCH"
        after = [x for x in event["after"]["links"] if x.get("origin") == "MANUAL"]
        if not after:
            continue
        person = after[0]["person_id"]
        prior = next((x for x in event["before"]["links"] if x["person_id"] == person), None)
        if prior is None or prior.get("origin") != "AUTO":
            continue
        if prior["state"] == "MATCH":
            kept += decision == "MATCH"
            overturned += decision == "NO_MATCH"
        elif prior["state"] == "POSSIBLE_MATCH":
            confirmed += decision == "MATCH"
            rejected += decision == "NO_MATCH"
    return {
        "reviewed_auto_matches": float(kept + overturned),
        "match_precision": kept / (kept + overturned) if kept + overturned else 1.0,
        "reviewed_possible_matches": float(confirmed + rejected),
        "review_match_rate": confirmed / (confirmed + rejected) if confirmed + rejected else 0.0,
    }
