"""Training the baseline model shipped with HoSo, a developer's step run when the model changes.

    python -m linkage.synth.baseline [--persons 20000] [--seed 11]

Trains on a realistic synthetic population of every source (no parameter taken from an earlier
baseline) and writes `linkage/matching/data/baseline_model.json`, whose parameters fill in what a
first batch cannot estimate.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from linkage.intake import ingest, synthetic_inputs
from linkage.matching import BASELINE, train
from linkage.pipeline import load_tables
from linkage.synth.generate import Profile, SynthConfig, generate


def write_baseline(persons: int = 20_000, seed: int = 11, path: Path = BASELINE) -> Path:
    """Train on a synthetic realistic population of every source and write it as the baseline model."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(SynthConfig(persons=persons, seed=seed, profile=Profile.REALISTIC), root / "synth")
        batches = [ingest(kind, files, root / "data", mapping=mapping).batch_id
                   for kind, files, mapping in synthetic_inputs(root / "synth")]
        trained = train(load_tables(root / "data", batches), seed=seed, use_baseline=False)
    # Term frequencies are the linked records' own, never the synthetic names'.
    model = replace(trained, tf={}, meta={"baseline": {"persons": persons, "seed": seed, "profile": "realistic",
                                                "trained_at": datetime.now(UTC).isoformat(timespec="seconds")}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m linkage.synth.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    print(f"baseline written to {write_baseline(args.persons, args.seed)}")


if __name__ == "__main__":
    main()
