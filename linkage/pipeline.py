"""Linking runs: standardise batches, train, score, decide persons, hand the plan to a store.

The store (the graph, `graph.identity.GraphLinkStore`) keeps the persons and links; this module
knows nothing of Neo4j. A run is safe to repeat: the standardised tables are cached per batch,
person ids of a run are derived from its batches, and batches are marked linked only at the end.

Sequence neutrality: a model trained on the first batches knows little of what came after them (a
first source alone has no duplicates across sources to learn from). So a link retrains the model
and rebuilds every person (keeping person ids and reviewers' decisions) when the data has changed
enough since the model was trained: a source kind the model never saw, or twice the records it
was trained on (`retrain_reason`). Linking the same batches in any order then ends with the persons
of one all-at-once run, and the rebuilds cost, over a registry's life, a constant factor of one
link of everything (each is at least twice the size of the one before).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.errors import ModelError
from linkage.intake import batch_ranks, batches_dir, set_aside
from linkage.matching import (
    DUCKDB_MEMORY_LIMIT,
    ModelStore,
    RecordIndex,
    Scorer,
    TrainedModel,
    model_fits,
    term_frequencies,
    train,
)
from linkage.mpi import LinkPlan, Reviewed, plan_incremental, plan_rebuild, seeded_person_ids
from linkage.standardize import LINKAGE_COLUMNS, place_newborns, standardise

log = logging.getLogger(__name__)
RunKind = Literal["link", "relink"]


class LinkStore(Protocol):
    """Where persons and links live (the graph)."""

    def linked_batches(self) -> set[str]: ...

    def assignments(self, exclude_run: str | None = None) -> dict[str, str]: ...

    def persons_of(self, uids: list[str], exclude_run: str | None = None) -> dict[str, str]: ...

    def reviewed(self) -> Reviewed: ...

    def no_matches_of(self, uids: list[str]) -> list[tuple[str, str]]: ...

    def write(self, records: pd.DataFrame, plan: LinkPlan, model_version: str, run_id: str,
              batches: list[str], kind: RunKind) -> None: ...


@dataclass
class RunSummary:
    """What a linking run did, with its timings in seconds."""

    run_id: str
    kind: str
    model_version: str
    batches: list[str]
    records_new: int
    records_total: int
    pairs_scored: int
    stats: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)  # batch -> why it was kept out
    retrained: str | None = None  # why the model was retrained before this run, if it was

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "kind": self.kind, "model_version": self.model_version,
                "batches": self.batches, "records_new": self.records_new, "records_total": self.records_total,
                "pairs_scored": self.pairs_scored, "set_aside": self.set_aside, "retrained": self.retrained,
                **self.stats,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()}}


def _cache(data_dir: Path, batch_id: str) -> Path:
    return data_dir / "linkage" / "standardised" / f"{batch_id}.parquet"


# The standardised tables of small batches last read from their files, by the file and its state: a link
# reads a new batch's table three times (to check it, to link it, to index it), 15 ms each for a
# self-report's; the second read keeps it for the third.
_SMALL_TABLE_ROWS = 10_000
_small_tables: dict[tuple[str, int, int], pd.DataFrame] = {}
_small_tables_lock = threading.Lock()


def standardised(data_dir: Path, batch_id: str) -> pd.DataFrame:
    """The linkage table of one batch, computed once and cached next to the batch (again when the
    cached table lacks a column the model now reads). The caller may change the frame it is given."""
    cache = _cache(data_dir, batch_id)
    if cache.exists():
        stat = cache.stat()
        key = (str(cache), stat.st_mtime_ns, stat.st_size)
        with _small_tables_lock:
            small = _small_tables.get(key)
        if small is not None:
            return small.copy()
        cached = pd.read_parquet(cache)
        if set(LINKAGE_COLUMNS) <= set(cached.columns):
            _keep_small(key, cached)
            return cached
        # Cached by a version of HoSo whose model read fewer columns: standardised anew below.
    source = batches_dir(data_dir) / batch_id / "records.parquet"
    con = duckdb.connect()
    try:
        raw = con.execute("SELECT * EXCLUDE (payload) FROM read_parquet(?)", [str(source)]).df()
    finally:
        con.close()
    table = standardise(raw)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(cache)
    return table


def _keep_small(key: tuple[str, int, int], table: pd.DataFrame) -> None:
    """Keep a copy of a small batch's standardised table, as read from its file, for the next reads."""
    if len(table) <= _SMALL_TABLE_ROWS:
        with _small_tables_lock:
            if len(_small_tables) >= 8:
                _small_tables.pop(next(iter(_small_tables)))
            _small_tables[key] = table.copy()


def load_tables(data_dir: Path, batch_ids: list[str]) -> pd.DataFrame:
    """The linkage table of several batches; a record in several batches keeps its newest version."""
    if not batch_ids:
        return pd.DataFrame(columns=LINKAGE_COLUMNS)
    frames = [standardised(data_dir, b) for b in batch_ids]
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates("unique_id", keep="last").reset_index(drop=True)
    return table.astype(object).where(table.notna(), None)


def all_batch_ids(data_dir: Path) -> list[str]:
    """The batches linking reads: every one not set aside, oldest first."""
    return list(batch_ranks(data_dir))


# Batches to standardise are standardised by worker processes, one per core, when there are several
# holding this many records together (starting a process and its imports costs a second or two).
PARALLEL_RECORDS = 200_000


def _to_standardise(data_dir: Path, batch_id: str) -> bool:
    cache = _cache(data_dir, batch_id)
    try:
        return not set(LINKAGE_COLUMNS) <= set(pq.read_schema(cache).names)
    except (OSError, pa.ArrowInvalid):  # none yet, or unreadable: `standardised` writes it anew
        return True


def _records_in(data_dir: Path, batch_id: str) -> int:
    try:
        return pq.ParquetFile(batches_dir(data_dir) / batch_id / "records.parquet").metadata.num_rows
    except (OSError, pa.ArrowInvalid):
        return 0


def _standardise_quietly(data_dir: Path, batch_id: str) -> str | None:
    """`standardised` in a worker: the cache written, nothing sent back but why it failed."""
    try:
        standardised(data_dir, batch_id)
    except Exception as exc:  # the batch is standardised again, and set aside, by the caller's process
        return f"{type(exc).__name__}: {exc}"
    return None


def standardise_ahead(data_dir: Path, batch_ids: list[str]) -> int:
    """Write the standardised tables `batch_ids` lack in worker processes, the largest batch first, when
    there are several and records enough; returns how many were written. A batch that fails is left
    without one: `standardised` then fails on it in the caller's process, which sets it aside."""
    todo = [b for b in batch_ids if _to_standardise(data_dir, b)]
    workers = min(len(todo), os.cpu_count() or 1)
    sizes = {b: _records_in(data_dir, b) for b in todo}
    if workers < 2 or sum(sizes.values()) < PARALLEL_RECORDS:
        return 0
    order = sorted(todo, key=lambda b: -sizes[b])
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        failures = list(pool.map(_standardise_quietly, [data_dir] * len(order), order))
    for batch_id, failure in zip(order, failures, strict=True):
        if failure is not None:
            log.info("batch %s was not standardised by a worker (%s)", batch_id, failure)
    return sum(failure is None for failure in failures)


def linkable(data_dir: Path, batch_ids: list[str], refused: dict[str, str]) -> list[str]:
    """`batch_ids` less those that cannot be standardised: each of those is set aside with its reason
    (logged, and added to `refused`), so that one bad batch never stops the others from linking."""
    standardise_ahead(data_dir, batch_ids)
    kept = []
    for batch_id in batch_ids:
        try:
            standardised(data_dir, batch_id)
        except Exception as exc:
            log.exception("batch %s cannot be standardised", batch_id)
            refused[batch_id] = f"cannot be standardised: {type(exc).__name__}: {exc}"
            set_aside(data_dir, batch_id, refused[batch_id])
            continue
        kept.append(batch_id)
    return kept


def train_model(data_dir: Path, seed: int = 42, table: pd.DataFrame | None = None,
                memory_limit: str = DUCKDB_MEMORY_LIMIT,
                labelled_matches: list[tuple[str, str]] | None = None) -> TrainedModel:
    """Train on every ingested batch (`table`, when the caller has loaded them already) and save a new
    model version; `labelled_matches` (pairs reviewers put in one person) teach it too."""
    batches = all_batch_ids(data_dir)
    if not batches:
        raise ModelError("nothing to train on: ingest some batches first (`hoso ingest`)")
    if table is None:
        table = load_tables(data_dir, batches)
    trained = train(table, seed=seed, memory_limit=memory_limit, labelled_matches=labelled_matches)
    sources = sorted(str(s) for s in table["source"].dropna().unique())
    return ModelStore(data_dir).save(replace(trained, meta={**trained.meta, "records": len(table),
                                                            "batches": len(batches), "sources": sources}))


RETRAIN_GROWTH = 2.0  # retrain when the records have grown this many times since the model's training
# A source kind the model never saw counts once it holds this share of the records: a trickle (the first
# citizen's self-report, one clinic's first export) cannot move the model's parameters, and retraining
# and rebuilding a nation for it would hold that one record for an hour.
RETRAIN_NEW_KIND_SHARE = 0.01


def retrain_reason(model: TrainedModel, records: int, sources: Mapping[str, int]) -> str | None:
    """Why the model should be retrained before linking, or None: `records` is how many records there
    will be (old and new), `sources` how many of them each source kind holds.

    A model the operator trained by hand (`hoso train`) is kept as long as the rule allows too; a
    model without the record counts is not second-guessed, unless its comparisons are not this
    version's (it could not score).
    """
    if not model_fits(model.splink):
        return "the model was trained by an earlier version of HoSo, with other comparisons"
    meta = model.meta
    trained_on = meta.get("records")
    if not isinstance(trained_on, int):
        return None
    seen = set(meta.get("sources") or [])
    new_kinds = sorted(kind for kind, count in sources.items()
                       if kind not in seen and count >= RETRAIN_NEW_KIND_SHARE * records) if seen else []
    if new_kinds:
        return f"a source kind the model has not seen: {', '.join(new_kinds)}"
    if records >= RETRAIN_GROWTH * max(trained_on, 1):
        return f"{records} records, {records / max(trained_on, 1):.1f}× the {trained_on} it was trained on"
    return None


def _source_counts(index: RecordIndex, new: pd.DataFrame) -> Counter[str]:
    """How many records of each source kind there will be: those linked and the new ones."""
    counts = Counter(index.source_counts())
    counts.update(str(s) for s in new["source"].dropna())
    return counts


def _run_id(kind: str, batches: list[str], model_version: str) -> str:
    return f"{kind}-" + hashlib.sha256("|".join([kind, model_version, *sorted(batches)]).encode()).hexdigest()[:16]


def scorer_for(model: TrainedModel, table: pd.DataFrame, spark: Any = None,
               memory_limit: str = DUCKDB_MEMORY_LIMIT, population: int | None = None) -> Scorer:
    """A scorer of `model` among `population` records (`TrainedModel.among`); a model saved without
    term frequencies takes them from `table`."""
    return Scorer(model.among(population), model.tf or term_frequencies(table), spark=spark,
                  memory_limit=memory_limit)


def prepare(data_dir: Path) -> str | None:
    """Read the current model and compile its comparisons: what the first link of a few records in a
    process would otherwise pay (0.4 s at a million persons). For a server, before its first job.
    Returns the model's version; None when there is none yet."""
    try:
        model = ModelStore(data_dir).current()
    except ModelError:
        return None
    if model.tf:  # a model saved without its frequencies takes them from the records, at the link
        Scorer(model.splink, model.tf).compiled  # noqa: B018 - built and kept for the process
    return model.version


def _silent(_: str) -> None:
    return None


def link(data_dir: Path, store: LinkStore, upper: float, lower: float, spark: Any = None,
         memory_limit: str = DUCKDB_MEMORY_LIMIT, progress: Callable[[str], None] = _silent) -> RunSummary:
    """Link every ingested batch not yet linked against the persons that exist; `progress` is told each
    step as it begins.

    The run costs what its batches cost: the linked records are read from the record index only where
    they share a blocking key with a new record, and persons only where such a record belongs to one.
    Training and rebuilding (a first link, or `retrain_reason`) read every batch.
    """
    with RecordIndex(data_dir).kept_open() as index:
        return _link(data_dir, store, upper, lower, spark, memory_limit, progress, index)


def _link(data_dir: Path, store: LinkStore, upper: float, lower: float, spark: Any, memory_limit: str,
          progress: Callable[[str], None], index: RecordIndex) -> RunSummary:
    timings: dict[str, float] = {}
    began = time.perf_counter()
    progress("reading the batches")
    linked = store.linked_batches()
    ranks = batch_ranks(data_dir)
    batches = list(ranks)
    refused: dict[str, str] = {}
    new_ids = linkable(data_dir, [b for b in batches if b not in linked], refused)
    old_ids = [b for b in batches if b in linked]
    index.sync({b: ranks[b] for b in old_ids}, lambda batch_id: standardised(data_dir, batch_id))
    new = load_tables(data_dir, new_ids)
    new = new[~new["unique_id"].isin(index.held(new["unique_id"]))].reset_index(drop=True)
    records_existing = index.count()
    new = place_newborns(new, pd.concat([index.newborn_reference(new), new], ignore_index=True))
    timings["standardise"] = time.perf_counter() - began
    models = ModelStore(data_dir)
    if new.empty:  # batches that accepted no record, or none new: marked linked, nothing to train or score
        version = models.current().version if models.versions() else "none"
        run_id = _run_id("link", new_ids, version)
        store.write(new, LinkPlan(), version, run_id, new_ids, "link")
        _index_batches(data_dir, index, {b: ranks[b] for b in new_ids})
        timings["total"] = time.perf_counter() - began
        return RunSummary(run_id, "link", version, new_ids, 0, records_existing, 0, LinkPlan().stats(), timings,
                          refused)
    t = time.perf_counter()
    total = records_existing + len(new)
    if not models.versions():
        log.info("no model yet: training one")
        progress(f"training a model on {total:,} records (none yet)")
        train_model(data_dir, table=_everyone(data_dir, old_ids, new, records_existing), memory_limit=memory_limit)
    elif (why := retrain_reason(models.current(), total, _source_counts(index, new))) \
            and records_existing == 0:
        log.info("retraining the model before a first link: %s", why)
        progress(f"retraining the model on {total:,} records: {why}")
        train_model(data_dir, table=new, memory_limit=memory_limit)
    elif why:
        log.info("retraining the model and rebuilding every person (ids and reviewers' decisions kept): %s", why)
        progress(f"retraining the model, then rebuilding every person (ids and decisions kept): {why}")
        try:
            train_model(data_dir, table=_everyone(data_dir, old_ids, new, records_existing),
                        memory_limit=memory_limit)
        except ModelError as exc:  # the model in use still links; a failed retraining never stops a link
            log.warning("retraining failed, linking with model %s: %s", models.current().version, exc)
        else:
            summary = relink(data_dir, store, upper, lower, spark, memory_limit, progress)
            summary.retrained = why
            summary.seconds["train"] = time.perf_counter() - t
            return summary
    model = models.current()
    run_id = _run_id("link", new_ids, model.version)
    timings["train"] = time.perf_counter() - t
    t = time.perf_counter()
    existing = index.candidates(new)
    progress(f"scoring {len(new):,} new records against the {len(existing):,} of {records_existing:,} "
             f"that blocking pairs them with (model {model.version})")
    # Names' term frequencies come with the model; one saved without them takes them from every record.
    scorer = scorer_for(model, new if model.tf else _everyone(data_dir, old_ids, new, records_existing), spark,
                        memory_limit, population=total)
    pairs_new = scorer.within(new, lower)
    pairs_between = scorer.between(existing, new, lower)
    timings["score"] = time.perf_counter() - t
    t = time.perf_counter()
    progress(f"forming persons from {len(pairs_new) + len(pairs_between):,} scored pairs")
    met = sorted((set(pairs_between["unique_id_l"]) | set(pairs_between["unique_id_r"])) - set(new["unique_id"]))
    # A crashed attempt at this very run does not count: its re-run plans from the state before it.
    assignment = store.persons_of(met, exclude_run=run_id)
    reviewed = Reviewed(no_matches=store.no_matches_of(new["unique_id"].tolist()))
    plan = plan_incremental(new, index.rows(assignment), pairs_new, pairs_between, assignment, upper, lower,
                            reviewed, make_id=seeded_person_ids(run_id))
    timings["cluster"] = time.perf_counter() - t
    t = time.perf_counter()
    progress("writing persons and links to the graph")
    store.write(new, plan, model.version, run_id, new_ids, "link")
    _index_batches(data_dir, index, {b: ranks[b] for b in new_ids})
    timings["store"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - began
    return RunSummary(run_id, "link", model.version, new_ids, len(new), total,
                      len(pairs_new) + len(pairs_between), plan.stats(), timings, refused)


def _everyone(data_dir: Path, old_ids: list[str], new: pd.DataFrame, records_existing: int) -> pd.DataFrame:
    """Every linked record and the new ones: what training reads (the population's cost, paid when a
    model is trained, never by an ordinary link)."""
    if not records_existing:
        return new
    return pd.concat([load_tables(data_dir, old_ids), new], ignore_index=True)


def _index_batches(data_dir: Path, index: RecordIndex, ranks: dict[str, str]) -> None:
    """Add batches the graph now holds as linked to the record index (after the graph's write: a
    crash between the two leaves batches the next run's `sync` adds)."""
    for batch_id, rank in ranks.items():
        index.add(batch_id, rank, standardised(data_dir, batch_id))


def relink(data_dir: Path, store: LinkStore, upper: float, lower: float, spark: Any = None,
           memory_limit: str = DUCKDB_MEMORY_LIMIT, progress: Callable[[str], None] = _silent) -> RunSummary:
    """Rebuild all persons from all batches with the current model, keeping reviewers' decisions and ids."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    progress("reading every batch")
    model = ModelStore(data_dir).current()
    refused: dict[str, str] = {}
    batches = linkable(data_dir, all_batch_ids(data_dir), refused)
    run_id = _run_id("relink", batches, model.version)
    table = load_tables(data_dir, batches)
    table = place_newborns(table, table)
    timings["standardise"] = time.perf_counter() - began
    t = time.perf_counter()
    progress(f"scoring {len(table):,} records against each other (model {model.version})")
    pairs = scorer_for(model, table, spark, memory_limit, population=len(table)).within(table, lower)
    timings["score"] = time.perf_counter() - t
    t = time.perf_counter()
    progress(f"forming persons from {len(pairs):,} scored pairs")
    plan = plan_rebuild(table, pairs, store.assignments(), upper, lower, store.reviewed(),
                        make_id=seeded_person_ids(run_id))
    timings["cluster"] = time.perf_counter() - t
    t = time.perf_counter()
    progress("writing persons and links to the graph")
    store.write(table, plan, model.version, run_id, batches, "relink")
    timings["store"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - began
    return RunSummary(run_id, "relink", model.version, batches, len(table), len(table), len(pairs),
                      plan.stats(), timings, refused)
