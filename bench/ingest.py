"""Synthesis and ingestion speed: records per second and peak memory per reader.

    python -m bench.ingest --persons 100000

Each reader runs in its own process so its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

from linkage.intake import SOURCES, ingest, synthetic_inputs
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind


def _ingest_one(kind: str, folder: str, data: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    src = Path(folder)
    _, files, mapping = next(synthetic_inputs(src, [SourceKind(kind)]))
    began = time.perf_counter()
    summary = ingest(SourceKind(kind), files, Path(data), mapping=mapping)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"kind": kind, "records": summary.read, "seconds": seconds, "peak_mb": peak_mb})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synth"
        began = time.perf_counter()
        summary = generate(SynthConfig(persons=args.persons, seed=args.seed), out)
        synth_s = time.perf_counter() - began
        rows = [{"figure": "synth", "records": sum(c["records"] + c["quarantined"]
                                                   for c in summary["sources"].values()),
                 "seconds": synth_s, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}]
        ctx = mp.get_context("spawn")
        for kind in (k for k, source in SOURCES.items() if source.synthetic):
            queue = ctx.Queue()
            proc = ctx.Process(target=_ingest_one, args=(kind.value, str(out), str(Path(tmp) / "data"), queue))
            proc.start()
            result = queue.get()
            proc.join()
            rows.append({"figure": f"ingest {kind.value}", **{k: v for k, v in result.items() if k != "kind"}})
    if args.json:
        print(json.dumps(rows))
        return
    print(f"persons: {args.persons}")
    print(f"{'figure':<22}{'records':>10}{'seconds':>10}{'records/s':>12}{'peak MB':>10}")
    for r in rows:
        print(f"{r['figure']:<22}{r['records']:>10}{r['seconds']:>10.1f}{r['records'] / r['seconds']:>12.0f}"
              f"{r['peak_mb']:>10.0f}")


if __name__ == "__main__":
    main()
