"""HoSo's record linkage: source files to batches, Vietnamese standardisation, the Splink model, persons.

The stages, each a subpackage whose `__init__` is its surface, importing only the ones before it:
`standardize` < `intake` < `matching`, `mpi` < `pipeline` < `evaluation`; `synth` (synthetic
populations and the baseline model's training) sits on top and is imported only by the command line,
the benchmarks and the tests. Other packages import from here, never from a module inside.

    ingest(SourceKind.POPULATION, [Path("registry.csv")], data_dir)
    link(data_dir, store, upper=0.95, lower=0.5)
"""

from linkage.errors import EvaluationError, IngestError, LinkageError, ModelError, NotCompilable, SourceError
from linkage.evaluation import evaluate_linkage, read_truth, review_label_scores
from linkage.intake import (
    ANY_TYPE,
    SOURCES,
    UPLOADABLE,
    Moment,
    Source,
    batches_dir,
    ingest,
    list_batches,
    read_manifest,
    restore_batch,
    set_aside,
    sha256_file,
    synthetic_inputs,
)
from linkage.locks import exclusive
from linkage.matching import (
    DUCKDB_MEMORY_LIMIT,
    Engine,
    ModelStore,
    RealtimeMatcher,
    TrainedModel,
    level_key,
    match_weights_chart,
    spark_session,
)
from linkage.mpi import (
    FREQUENT_FIELDS,
    NEWEST_FIELDS,
    PERSON_ID_PATTERN,
    REGISTRY_FIELDS,
    LinkPlan,
    Reviewed,
    conflicts,
    conflicts_among,
    golden_record,
    new_person_id,
    valid_person_id,
)
from linkage.pipeline import LinkStore, RunKind, RunSummary, all_batch_ids, link, relink, train_model
from linkage.standardize import (
    VIETNAM_RETAINED,
    birth_keys,
    fold,
    icd10_description,
    load_admin_units,
    normalise_phone,
    one_keystroke_apart,
    parse_birth_date,
    split_name,
)
from linkage.vocab import ID_SYSTEMS, SYSTEM_KINDS, CodeList, IdKind, SourceKind

__all__ = [
    "ANY_TYPE",
    "DUCKDB_MEMORY_LIMIT",
    "FREQUENT_FIELDS",
    "ID_SYSTEMS",
    "NEWEST_FIELDS",
    "PERSON_ID_PATTERN",
    "REGISTRY_FIELDS",
    "SOURCES",
    "SYSTEM_KINDS",
    "UPLOADABLE",
    "VIETNAM_RETAINED",
    "CodeList",
    "Engine",
    "EvaluationError",
    "IdKind",
    "IngestError",
    "LinkPlan",
    "LinkStore",
    "LinkageError",
    "ModelError",
    "ModelStore",
    "Moment",
    "NotCompilable",
    "RealtimeMatcher",
    "Reviewed",
    "RunKind",
    "RunSummary",
    "Source",
    "SourceError",
    "SourceKind",
    "TrainedModel",
    "all_batch_ids",
    "batches_dir",
    "birth_keys",
    "conflicts",
    "conflicts_among",
    "evaluate_linkage",
    "exclusive",
    "fold",
    "golden_record",
    "icd10_description",
    "ingest",
    "level_key",
    "link",
    "list_batches",
    "load_admin_units",
    "match_weights_chart",
    "new_person_id",
    "normalise_phone",
    "one_keystroke_apart",
    "parse_birth_date",
    "read_manifest",
    "read_truth",
    "relink",
    "restore_batch",
    "review_label_scores",
    "set_aside",
    "sha256_file",
    "spark_session",
    "split_name",
    "synthetic_inputs",
    "train_model",
    "valid_person_id",
]
