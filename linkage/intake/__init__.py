"""Source files in, immutable batches out: the sources' registry, their readers, records, batches.

    summary = ingest(SourceKind.POPULATION, [Path("registry.csv")], data_dir)
    summary.accepted, summary.quarantined
"""

from linkage.intake.batches import (
    BatchSummary,
    batch_ranks,
    batches_dir,
    ingest,
    list_batches,
    read_manifest,
    restore_batch,
    set_aside,
    sha256_file,
)
from linkage.intake.reasons import reason_vi
from linkage.intake.records import Moment, SourceRecord, Text
from linkage.intake.registry import ANY_TYPE, SOURCES, UPLOADABLE, Source, synthetic_files, synthetic_inputs

__all__ = [
    "ANY_TYPE",
    "SOURCES",
    "UPLOADABLE",
    "BatchSummary",
    "Moment",
    "Source",
    "SourceRecord",
    "Text",
    "batch_ranks",
    "batches_dir",
    "ingest",
    "list_batches",
    "read_manifest",
    "reason_vi",
    "restore_batch",
    "set_aside",
    "sha256_file",
    "synthetic_files",
    "synthetic_inputs",
]
