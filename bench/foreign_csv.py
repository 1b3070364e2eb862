"""A population from outside, without ids, read as one CSV through a mapping into an empty data directory.

    python -m bench.foreign_csv --persons 10000 [--json]

The generator's `no-ids` world is exported as one CSV the way another system would write it (full
name, the birth date or else the year in a second column, sex code, phone, post-2025 commune), with
a truth by the CSV's own ids. It is read by `ingest csv --mapping` into an empty data directory and
linked by HoSo's own `link` (into an in-memory link store); then a model is trained on these records
alone (no baseline parameter) and the persons rebuilt with it; and bare Splink is given the same
fields and its documented recipe for records without ids. Each line prints pairwise precision,
recall and F1. Newborns recorded under their mother's name are left out of the export: without any
id they have no name to be found by.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from bench.sequence import LOWER, UPPER, MemoryLinkStore, bare_splink_without_ids
from linkage import pipeline
from linkage.evaluation import pairwise_scores, read_truth
from linkage.intake import ingest, synthetic_inputs
from linkage.matching import Scorer, train
from linkage.mpi.plan import plan_rebuild
from linkage.standardize import place_newborns
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

MAPPING = """[source]
system = "outside"
[columns]
record_id = "id"
full_name = "ho_ten"
birth_date = ["ngay_sinh", "nam_sinh"]
sex = "gioi"
phone = "sdt"
commune_code = "xa"
code_list = "post2025"
[sex_codes]
M = "male"
F = "female"
"""


def export(root: Path, persons: int, seed: int) -> tuple[Path, Path, dict[str, str]]:
    """The no-ids world as one CSV, its mapping, and the truth by the CSV's record ids."""
    generate(SynthConfig(persons=persons, seed=seed, profile="no-ids"), root / "synth")
    for kind, files, mapping in synthetic_inputs(root / "synth"):
        ingest(kind, files, root / "source-data", mapping=mapping)
    table = pipeline.load_tables(root / "source-data", pipeline.all_batch_ids(root / "source-data"))
    truth_of = read_truth(root / "synth" / "truth.csv")
    rows = [r for r in table.to_dict("records") if not r["placeholder_name"] and r["unique_id"] in truth_of]
    path = root / "outside.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "ho_ten", "ngay_sinh", "nam_sinh", "gioi", "sdt", "xa"])
        for n, r in enumerate(rows):
            day = r["birth_date"] or ""
            sex = {"male": "M", "female": "F"}.get(r["sex"] or "", "")
            writer.writerow([n, r["name"], day, "" if day else (r["birth_year"] or ""), sex, r["phone"] or "",
                             r["commune"] or ""])
    (root / "outside.toml").write_text(MAPPING, encoding="utf-8")
    return path, root / "outside.toml", {f"csv|outside:{n}": truth_of[r["unique_id"]] for n, r in enumerate(rows)}


def scores(assigned: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    s = pairwise_scores(assigned, truth)
    return {"precision": s.precision, "recall": s.recall, "f1": s.f1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path, mapping, truth = export(root, args.persons, args.seed)
        data = root / "data"
        summary = ingest(SourceKind.CSV, [path], data, mapping=mapping)
        out["records"] = summary.accepted
        store = MemoryLinkStore()
        pipeline.link(data, store, UPPER, LOWER)
        out["hoso link"] = scores(store.match, truth) | {"without_person": len(truth) - len(store.match)}
        table = pipeline.load_tables(data, pipeline.all_batch_ids(data))
        table = place_newborns(table, table)
        alone = train(table, use_baseline=False)
        plan = plan_rebuild(table, Scorer(alone.splink, alone.tf).within(table, LOWER), {}, UPPER, LOWER)
        out["trained on these records alone"] = scores(
            {link.uid: link.person_id for link in plan.links if link.state == "MATCH"}, truth)
        out["bare splink, same fields"] = {"f1": bare_splink_without_ids(table, truth)}
    if args.json:
        print(json.dumps(out))
        return
    print(f"a population without ids from one CSV: {out['records']} records")
    for name, figures in out.items():
        if isinstance(figures, dict):
            print(f"{name:<34}" + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                            for k, v in figures.items()))


if __name__ == "__main__":
    main()
