"""The Splink model, its training, and scoring: batch, incremental, and one record in real time.

- `model`: the comparisons and blocking rules, described (no I/O);
- `training`: unsupervised training, checked before it is kept;
- `store`: `TrainedModel` (Splink's settings, term frequencies, HoSo's metadata) and its versions;
- `scoring`: pairs scored on DuckDB or Spark; `compiled`: the model as Python for real time;
- `candidates`: the linked records by blocking key, for incremental linking;
- `realtime`: one record against indexed candidates; `engines`: DuckDB and Spark connections;
- `splink_internals`: the only module that imports `splink.internals`.
"""

from linkage.matching.candidates import RecordIndex
from linkage.matching.compiled import CompiledModel
from linkage.matching.engines import DUCKDB_MEMORY_LIMIT, Engine, duckdb_connection, peak_memory_gb, spark_session
from linkage.matching.model import BLOCKING_KEYS, MODEL_NAME, for_dialect, level_key
from linkage.matching.model import fits as model_fits
from linkage.matching.realtime import Candidate, CandidateSource, RealtimeMatcher
from linkage.matching.scoring import TF_COLUMNS, Scorer, term_frequencies
from linkage.matching.splink_internals import similarity_jar_location
from linkage.matching.store import ModelStore, TrainedModel
from linkage.matching.training import BASELINE, match_weights_chart, train

__all__ = [
    "BASELINE",
    "BLOCKING_KEYS",
    "DUCKDB_MEMORY_LIMIT",
    "MODEL_NAME",
    "TF_COLUMNS",
    "Candidate",
    "CandidateSource",
    "CompiledModel",
    "Engine",
    "ModelStore",
    "RealtimeMatcher",
    "RecordIndex",
    "Scorer",
    "TrainedModel",
    "duckdb_connection",
    "for_dialect",
    "level_key",
    "match_weights_chart",
    "model_fits",
    "peak_memory_gb",
    "similarity_jar_location",
    "spark_session",
    "term_frequencies",
    "train",
]
