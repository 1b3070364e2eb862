"""Linkage on data unlike HoSo's own, and in any order of arrival: one row per profile and order.

    python -m bench.sequence --persons 20000 [--profiles realistic,no-ids,id-typos,households,hard]
                             [--orders 3] [--json]

For each generator profile, the sources are ingested as batches and linked with HoSo's own pipeline
(`linkage.pipeline.link`: training, the retraining rule, scoring, the MPI plan) into an in-memory
link store that keeps links the way the graph does. First all at once, then one `link` after each
batch in several orders (the order of the source files, its reverse, and shuffles). Each row gives
pairwise precision, recall and F1 against the truth, the F1 gap to the all-at-once run, records
without a MATCH (must be 0), review items per record and their share of true matches, and the
retrainings the rule triggered. For the profile without ids, bare Splink is run on the same
standardised table with its documented recipe for data without ids (prior from name and birth
date, u by random sampling, EM on a birth-date block and a name block), for comparison.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from splink import DuckDBAPI, Linker, block_on

from linkage import pipeline
from linkage.evaluation import pairwise_scores, read_truth
from linkage.intake import batches_dir, ingest, synthetic_inputs
from linkage.matching.engines import duckdb_connection
from linkage.matching.model import deterministic_rules_without_ids, settings
from linkage.mpi import LinkPlan, Reviewed
from linkage.standardize import place_newborns
from linkage.synth import SynthConfig, generate

UPPER, LOWER = 0.95, 0.5


class MemoryLinkStore:
    """Persons and links in memory, written as `graph.identity.GraphLinkStore` writes them."""

    def __init__(self) -> None:
        self.batches: set[str] = set()
        self.match: dict[str, str] = {}  # uid -> person
        self.possible: dict[tuple[str, str], float] = {}  # (uid, person) -> probability
        self.duplicates: set[tuple[str, str]] = set()
        self.retrained: list[str] = []

    def linked_batches(self) -> set[str]:
        return set(self.batches)

    def assignments(self, exclude_run: str | None = None) -> dict[str, str]:
        return dict(self.match)

    def persons_of(self, uids: list[str], exclude_run: str | None = None) -> dict[str, str]:
        persons = {self.match[uid] for uid in uids if uid in self.match}
        return {uid: person for uid, person in self.match.items() if person in persons}

    def reviewed(self) -> Reviewed:
        return Reviewed()

    def no_matches_of(self, uids: list[str]) -> list[tuple[str, str]]:
        return []

    def write(self, records: pd.DataFrame, plan: LinkPlan, model_version: str, run_id: str,
              batches: list[str], kind: str) -> None:
        if kind == "relink":
            self.match, self.possible, self.duplicates = {}, {}, set()
        for link in plan.links:
            if link.state == "MATCH":
                self.match[link.uid] = link.person_id
                self.possible.pop((link.uid, link.person_id), None)
            elif self.match.get(link.uid) != link.person_id:
                self.possible[(link.uid, link.person_id)] = link.probability
        retired = dict(plan.retired)
        if retired:
            self.match = {uid: retired.get(person, person) for uid, person in self.match.items()}
        self.duplicates |= {(a, b) for a, b, _, _ in plan.duplicates}
        self.batches |= set(batches)


def review_share_true(store: MemoryLinkStore, truth: dict[str, str]) -> float:
    """Share of POSSIBLE_MATCH items whose record's true person is among the person's records."""
    members: dict[str, set[str]] = {}
    for uid, person in store.match.items():
        if uid in truth:
            members.setdefault(person, set()).add(truth[uid])
    items = [(uid, person) for uid, person in store.possible if uid in truth]
    true = sum(1 for uid, person in items if truth[uid] in members.get(person, set()))
    return true / len(items) if items else 1.0


def run(data: Path, batches: Iterable[list[str]], truth: dict[str, str], all_records: list[str]) -> dict[str, Any]:
    """Link `batches` (each a list of batch ids made visible together) one link after another."""
    store = MemoryLinkStore()
    hidden = data / "hidden"
    hidden.mkdir(exist_ok=True)
    for path in batches_dir(data).iterdir():
        path.rename(hidden / path.name)
    began = time.perf_counter()
    for group in batches:
        for batch_id in group:
            (hidden / batch_id).rename(batches_dir(data) / batch_id)
        summary = pipeline.link(data, store, UPPER, LOWER)
        if summary.retrained:
            store.retrained.append(summary.retrained)
    seconds = time.perf_counter() - began
    predicted = {uid: store.match.get(uid, f"unlinked:{uid}") for uid in all_records}
    scores = pairwise_scores(predicted, truth)
    return {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
            "without_person": sum(1 for uid in all_records if uid not in store.match),
            "review_items": len(store.possible) + len(store.duplicates),
            "review_true_share": review_share_true(store, truth), "retrained": len(store.retrained),
            "seconds": seconds}


def documented_settings() -> dict[str, Any]:
    """HoSo's comparisons with Splink's own term-frequency adjustments: each name by its frequency among
    all records (Splink computes a column's frequencies itself: on HoSo's keyed names, "female|nguyen|thi|
    lan", it would weigh the given name by the whole name's frequency, the family and middle names again)."""
    plain = {"middle_key": "middle_fold", "given_key": "given_fold"}
    out: dict[str, Any] = settings().get_settings("duckdb").as_dict()
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("tf_adjustment_column") in plain:
                level["tf_adjustment_column"] = plain[level["tf_adjustment_column"]]
    return out


def bare_splink_without_ids(table: pd.DataFrame, truth: dict[str, str]) -> float:
    """F1 of bare Splink on the same table with HoSo's comparisons, trained by Splink's documented
    recipe for records without ids, clustered by connected components at the same threshold."""
    con = duckdb_connection()
    try:
        linker = Linker(DuckDBAPI(connection=con).register(table, table_name="bare_records"), documented_settings(),
                        log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(deterministic_rules_without_ids(), recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
        for block in (block_on("birth_date", "commune"), block_on("family_key", "middle_fold", "given_fold",
                                                                  "commune")):
            linker.training.estimate_parameters_using_expectation_maximisation(
                block, estimate_without_term_frequencies=True)
        predictions = linker.inference.predict(threshold_match_probability=LOWER)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, UPPER)
        frame = clusters.as_pandas_dataframe()
    finally:
        con.close()
    predicted = dict(zip(frame["unique_id"].astype(str), frame["cluster_id"].astype(str), strict=True))
    return pairwise_scores(predicted, truth).f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--profiles", default="realistic,no-ids,id-typos,households,hard")
    parser.add_argument("--orders", type=int, default=3, help="orders of arrival besides all at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows: list[dict[str, Any]] = []
    for profile in args.profiles.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            src, data = Path(tmp) / "synth", Path(tmp) / "data"
            generate(SynthConfig(persons=args.persons, seed=args.seed, profile=profile), src)
            ids = [ingest(kind, files, data, mapping=mapping).batch_id
                   for kind, files, mapping in synthetic_inputs(src)]
            truth = read_truth(src / "truth.csv")
            table = pipeline.load_tables(data, pipeline.all_batch_ids(data))
            records = table["unique_id"].tolist()
            orders: list[tuple[str, list[list[str]]]] = [("all at once", [ids])]
            rng = random.Random(args.seed)
            candidates = [list(ids), list(reversed(ids))]
            while len(candidates) < args.orders:
                candidates.append(rng.sample(ids, len(ids)))
            orders += [(f"one by one #{n + 1}", [[b] for b in order]) for n, order in enumerate(candidates)]
            first_f1 = None
            for name, groups in orders:
                for path in (data / "models").glob("*"):  # every order starts without a model
                    path.unlink()
                row = {"profile": profile, "order": name, "records": len(records),
                       **run(data, groups, truth, records)}
                first_f1 = row["f1"] if first_f1 is None else first_f1
                row["f1_gap"] = row["f1"] - first_f1
                row["review_per_record"] = row["review_items"] / len(records)
                rows.append(row)
                if not args.json:
                    print(f"{profile:<11}{name:<16}P {row['precision']:.4f}  R {row['recall']:.4f}  "
                          f"F1 {row['f1']:.4f} ({row['f1_gap']:+.4f})  unlinked {row['without_person']}  "
                          f"review {row['review_per_record']:.2%} ({row['review_true_share']:.0%} true)  "
                          f"retrained {row['retrained']}  {row['seconds']:.0f} s", flush=True)
            if profile == "no-ids":
                bare = bare_splink_without_ids(place_newborns(table, table), truth)
                rows.append({"profile": profile, "order": "bare splink", "f1": bare})
                if not args.json:
                    print(f"{profile:<11}{'bare splink':<16}F1 {bare:.4f}", flush=True)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
