"""Linkage: quality against the truth and speed beside bare Splink on the same prepared table.

    python -m bench.linkage --persons 100000 [--profile realistic|hard|dense|no-ids|...]

Prints one row per figure: HoSo's standardise, train, score and cluster stages, then bare Splink
(the same settings, training calls and prediction on the same standardised table, clustered by
Splink's connected components), the ratio of the two, peak memory, and pairwise precision, recall,
F1, blocking recall, the share of records left for review and the share of review items that are
true matches, and the calibration of every link (automatic and for review): per tenth of the
model's probability, the links and the share of them that are true, and the largest gap between
that share and the mean probability over the tenths holding at least 20 links.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import tempfile
import time
from pathlib import Path

from splink import DuckDBAPI, Linker, block_on

from linkage import pipeline
from linkage.evaluation import blocking_recall, calibration, pairwise_scores, read_truth
from linkage.intake import ingest, synthetic_inputs
from linkage.matching.engines import duckdb_connection
from linkage.matching.model import BLOCKING_KEYS, settings
from linkage.mpi.plan import plan_incremental
from linkage.standardize.table import place_newborns
from linkage.synth import Profile, SynthConfig, generate

UPPER, LOWER = 0.95, 0.5


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_splink(table, model, seed: int = 42) -> float:  # type: ignore[no-untyped-def]
    """Seconds bare Splink takes for train + predict + cluster on the prepared table, on a DuckDB
    connection configured as HoSo's (the same memory limit), making the training calls HoSo made
    (the same deterministic rules and EM blocks, from the model's record of its training)."""
    began = time.perf_counter()
    con = duckdb_connection()
    db_api = DuckDBAPI(connection=con)
    records = db_api.register(table, table_name="bare_records")
    linker = Linker(records, settings(), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(model.meta["prior_rules"], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for block in model.meta["em_blocks"]:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*block),
                                                                           estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=LOWER)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, UPPER)
    clusters.as_pandas_dataframe()
    con.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--profile", default="realistic", choices=[p.value for p in Profile])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--without-bare", action="store_true",
                        help="measure HoSo only (at a million persons bare Splink doubles the run)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        src, data = Path(tmp) / "synth", Path(tmp) / "data"
        generate(SynthConfig(persons=args.persons, seed=args.seed, profile=args.profile), src)
        for kind, files, mapping in synthetic_inputs(src):
            ingest(kind, files, data, mapping=mapping)
        truth = read_truth(src / "truth.csv")
        t = time.perf_counter()
        table = pipeline.load_tables(data, pipeline.all_batch_ids(data))
        table = place_newborns(table, table)
        rows.append(("standardise", time.perf_counter() - t, "s"))
        t = time.perf_counter()
        model = pipeline.train_model(data, table=table)
        rows.append(("train", time.perf_counter() - t, "s"))
        t = time.perf_counter()
        pairs = pipeline.scorer_for(model, table).within(table, LOWER)
        rows.append(("score", time.perf_counter() - t, "s"))
        t = time.perf_counter()
        plan = plan_incremental(table, table.iloc[0:0], pairs, pairs.iloc[0:0], {}, UPPER, LOWER)
        rows.append(("cluster", time.perf_counter() - t, "s"))
        hoso_total = sum(v for _, v, _ in rows)
        rows.append(("hoso linking total", hoso_total, "s"))
        hoso_peak = peak_mb()
        if not args.without_bare:
            bare = bare_splink(table, model)
            rows.append(("bare splink (train+predict+cluster)", bare, "s"))
            linking_only = hoso_total - rows[0][1]
            rows.append(("ratio hoso/bare (same table)", linking_only / bare, "x"))
        rows.append(("records", float(len(table)), "records"))
        rows.append(("peak memory", max(hoso_peak, peak_mb()), "MB"))
        assigned = {link.uid: link.person_id for link in plan.links if link.state == "MATCH"}
        predicted = {uid: assigned.get(uid, f"unlinked:{uid}") for uid in table["unique_id"]}
        scores = pairwise_scores(predicted, truth)
        records = {str(r["unique_id"]): r for r in table.to_dict("records")}
        review = sum(1 for link in plan.links if link.state == "POSSIBLE_MATCH") + len(plan.duplicates)
        links = [(link.uid, link.person_id, link.state, link.probability) for link in plan.links]
        items = [link for link in links if link[2] == "POSSIBLE_MATCH"]
        in_review = calibration(items, assigned, truth, bins=1)
        bands = calibration(links, assigned, truth)
        rows += [("precision", scores.precision, ""), ("recall", scores.recall, ""), ("f1", scores.f1, ""),
                 ("blocking recall", blocking_recall(records, truth, BLOCKING_KEYS), ""),
                 ("review items / records", review / len(table), ""),
                 ("review items that are true matches", in_review[0]["true_share"] if in_review else 1.0, ""),
                 ("review items withheld across a conflict", float(plan.withheld_reviews), "pairs"),
                 ("review items withheld: another birth date", float(plan.contradicted_reviews), "pairs"),
                 ("review items withheld: held by its own person", float(plan.elsewhere_reviews), "pairs"),
                 ("calibration error, largest of the tenths", max(
                     (b["error"] for b in bands if b["links"] >= 20), default=0.0), ""),
                 ("persons", float(len(set(assigned.values()))), "persons"),
                 ("prior: probability two records match", float(model.splink["probability_two_random_records_match"]),
                  ""),
                 ("links refused by the chain guard", float(plan.refused_chains), "links"),
                 ("records equally like two persons (tie rule)", float(plan.tied_records), "records")]
    if args.json:
        print(json.dumps({name: value for name, value, _ in rows} | {"calibration": bands}))
        return
    print(f"linkage benchmark: {args.persons} persons, profile {args.profile}")
    for name, value, unit in rows:
        shown = f"{value:>14.3e}" if 0 < abs(value) < 1e-3 else f"{value:>14.4f}"
        print(f"{name:<45}{shown} {unit}")
    print("calibration: probability    links   true share   mean probability")
    for band in bands:
        print(f"  {band['from']:.1f}-{band['to']:.1f}{band['links']:>17,}{band['true_share']:>13.4f}"
              f"{band['mean_probability']:>19.4f}")


if __name__ == "__main__":
    main()
