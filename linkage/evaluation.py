"""Measuring linkage against a truth: pairwise precision, recall and F1, blocking recall, calibration.

    scores = pairwise_scores(predicted={"a": "P1", "b": "P1"}, truth={"a": "T1", "b": "T1"})
    scores.f1  # 1.0

A truth file has the columns `source,record_id,person_id`: the record's source kind and its record
id as HoSo stores it (`hoso batch show` lists them), and any label of its true person. A record from
a mapped CSV has the source `csv` and the record id `<system>:<id>` (the mapping's `system`, then
the value of its `record_id` column); a hospital record `<facility>:<MA_LK>`; a population record
its personal id.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from linkage.errors import EvaluationError
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


TRUTH_COLUMNS = ("source", "record_id", "person_id")
MIN_TRUTH_OVERLAP = 0.5  # of the records linked, the share the truth must name to be about them


def read_truth(path: Path) -> dict[str, str]:
    """A truth file (`source,record_id,person_id`) as unique id -> true person."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in TRUTH_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise EvaluationError(f"{path.name}: not a truth file: no column {', '.join(missing)} "
                                      f"(it needs {','.join(TRUTH_COLUMNS)})")
            return {f"{row['source']}|{row['record_id']}": row["person_id"] for row in reader
                    if row["source"] and row["record_id"] and row["person_id"]}
    except UnicodeDecodeError as exc:
        raise EvaluationError(f"{path.name}: not a truth file: not UTF-8 text") from exc
    except csv.Error as exc:
        raise EvaluationError(f"{path.name}: not a truth file: {exc}") from exc


def calibration(links: Iterable[tuple[str, str, str, float]], assignments: Mapping[str, str],
                truth: Mapping[str, str], bins: int = 10) -> list[dict[str, float]]:
    """Per band of the model's probability: the links in it, the share that are true, the mean
    probability, and the gap between the two (the calibration error).

    A link of a record to a person is true when the record's true person is the one most of the
    person's MATCH-linked records belong to.
    """
    majority = _true_person_of(assignments, truth)
    counts = [[0, 0, 0.0] for _ in range(bins)]  # links, true, probability sum
    for uid, person, _, probability in links:
        if uid not in truth or person not in majority:
            continue
        band = counts[min(int(probability * bins), bins - 1)]
        band[0] += 1
        band[1] += truth[uid] == majority[person]
        band[2] += probability
    return [{"from": i / bins, "to": (i + 1) / bins, "links": n, "true_share": true / n,
             "mean_probability": total / n, "error": abs(total / n - true / n)}
            for i, (n, true, total) in enumerate(counts) if n]


def _true_person_of(assignments: Mapping[str, str], truth: Mapping[str, str]) -> dict[str, str]:
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for uid, person in assignments.items():
        if uid in truth:
            votes[person][truth[uid]] += 1
    return {person: counter.most_common(1)[0][0] for person, counter in votes.items()}


def evaluate_linkage(data_dir: Path, assignments: Mapping[str, str], truth: Mapping[str, str],
                     links: Sequence[tuple[str, str, str, float]] = ()) -> dict[str, Any]:
    """Pairwise scores of the graph's persons and the blocking recall, over the truth's records.

    A record without a MATCH (a reviewer said no) counts as a person of its own; so does a record of
    the truth that is not among the linked records though its source kind was ingested (quarantined,
    or in a batch set aside), and those are counted apart; truth records of sources never ingested
    are left out. A truth that names too few of the linked records is refused: its ids do not line
    up with HoSo's (an F1 over a handful of records would mislead). With `links` (record, person,
    state, probability), the calibration per probability band and the share of review items that
    are true matches are reported too.
    """
    table = load_tables(data_dir, all_batch_ids(data_dir))
    table = place_newborns(table, table)
    records: dict[str, dict[str, Any]] = {
        str(row["unique_id"]): {str(k): v for k, v in row.items()} for row in table.to_dict("records")}
    known = sum(1 for uid in records if uid in truth)
    if not records:
        raise EvaluationError("there are no linked records to evaluate: ingest and link first")
    if known < MIN_TRUTH_OVERLAP * len(records):
        record_example = next(iter(records))
        truth_example = next(iter(truth), "(none)")
        raise EvaluationError(
            f"the truth names only {known} of the {len(records)} records linked: its ids do not line up with "
            f"HoSo's (a record here is {record_example!r}, one of the truth {truth_example!r}; a truth row gives "
            "source and record_id as HoSo stores them, see `hoso batch show`)")
    predicted = {uid: assignments.get(uid, f"unlinked:{uid}") for uid in records}
    # Truth records of a source kind that was ingested but not among the records were refused
    # (quarantined) or sit in a batch set aside: each is a person of its own, so recall shows them.
    sources = {uid.split("|", 1)[0] for uid in records}
    absent = [uid for uid in truth if uid not in records and uid.split("|", 1)[0] in sources]
    predicted |= {uid: f"absent:{uid}" for uid in absent}
    scores = pairwise_scores(predicted, truth)
    linked_only = pairwise_scores({uid: p for uid, p in predicted.items() if uid in records}, truth)
    result: dict[str, Any] = {
        "precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
        "f1_linked_records_only": linked_only.f1,
        "blocking_recall": blocking_recall(records, truth, BLOCKING_KEYS),
        "records": len(records), "truth_records": len(truth), "truth_records_not_linked": len(absent),
        "truth_records_of_sources_not_ingested": sum(1 for uid in truth if uid.split("|", 1)[0] not in sources),
        "records_not_in_truth": len(records) - known}
    if links:
        bands = calibration(links, assignments, truth)
        review = [link for link in links if link[2] == "POSSIBLE_MATCH"]
        review_bands = calibration(review, assignments, truth, bins=1)
        result |= {"calibration": bands,
                   "calibration_error_max": max((b["error"] for b in bands if b["links"] >= 20), default=0.0),
                   "review_true_share": review_bands[0]["true_share"] if review_bands else 0.0}
    return result


def review_label_scores(events: Sequence[Mapping[str, Any]], bins: int = 10) -> dict[str, Any]:
    """How the model's automatic links fared against reviewers' decisions (labelled pairs).

    Each event is a reviewer's MATCH or NO_MATCH of a record to a person (taking a record off its
    person, `unlink`, is a NO_MATCH), with the record's links before it. `match_precision` is the
    share of reviewed automatic MATCHes the reviewers kept; `review_match_rate` the share of reviewed
    POSSIBLE_MATCH items that were matches;
    `review_calibration`, per band of the model's probability (when the link recorded it), the
    decisions and the share that were matches beside the mean probability.
    """
    kept = overturned = confirmed = rejected = 0
    bands = [[0, 0, 0.0] for _ in range(bins)]  # decisions, matches, probability sum
    for event in events:
        decision = "MATCH" if event["action"] == "link:MATCH" else "NO_MATCH"
        after = [x for x in event["after"]["links"] if x.get("origin") == "MANUAL" and x.get("state") == decision]
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
        if isinstance(probability := prior.get("probability"), int | float):
            band = bands[min(int(probability * bins), bins - 1)]
            band[0] += 1
            band[1] += decision == "MATCH"
            band[2] += probability
    return {
        "reviewed_auto_matches": float(kept + overturned),
        "match_precision": kept / (kept + overturned) if kept + overturned else 1.0,
        "reviewed_possible_matches": float(confirmed + rejected),
        "review_match_rate": confirmed / (confirmed + rejected) if confirmed + rejected else 0.0,
        "review_calibration": [{"from": i / bins, "to": (i + 1) / bins, "decisions": n, "match_share": m / n,
                                "mean_probability": total / n} for i, (n, m, total) in enumerate(bands) if n],
    }
