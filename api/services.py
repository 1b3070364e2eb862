"""Application services shared by the command line and the API: whole runs over several packages."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq
from neo4j import Driver
from neo4j.exceptions import ClientError

from analytics import refresh_projection
from api.runtime import managed_server
from api.settings import Settings
from graph import (
    GraphLinkStore,
    GraphLoader,
    ImportLinkStore,
    ImportRefused,
    apply_migrations,
    dirty_person_ids,
    initial_import_refusal,
    load_initial,
    refresh_persons,
    refuse_after_cut_short_import,
    warm_up_if_possible,
    write_initial,
)
from linkage import all_batch_ids, exclusive, link, relink, set_aside


def run_linking(settings: Settings, driver: Driver, database: str, kind: Literal["link", "relink"] = "link",
                spark: Any = None, progress: Callable[[str], None] | None = None,
                import_files: Path | None = None, with_totals: bool = True) -> dict[str, Any]:
    """Link (or rebuild), load the facts of every linked batch not loaded yet, refresh changed persons,
    then bring the analytics projection up to date (incrementally: the persons the run changed and those
    of the batches it loaded; unless the settings turn that off).

    Each step can be repeated: a run cut short is completed by the next one. Runs are serialised
    across processes (the command line and the API's job worker) by a lock in the data directory.
    `progress` is told each step as it begins; `seconds.total` is the whole run's.

    `import_files`: a first link into an empty graph that writes the import files of its graph into that
    folder, with the command that imports them, and leaves the graph alone (a server HoSo does not run).
    `with_totals`: also count the graph's active persons and open review items (`persons`, `review_items`;
    70 ms at 1M persons, which a job linking one citizen's report does without).
    """
    with exclusive(settings.data_path / "linking.lock"):
        if import_files is not None:
            return _write_import_files(settings, driver, database, import_files, spark, progress or (lambda _: None))
        return _run_linking(settings, driver, database, kind, spark, progress or (lambda _: None), with_totals)


def _write_import_files(settings: Settings, driver: Driver, database: str, folder: Path, spark: Any,
                        progress: Callable[[str], None]) -> dict[str, Any]:
    if (why := initial_import_refusal(driver, database)) is not None:
        raise ImportRefused(f"import files are for a first load into an empty graph, and {why}")
    if folder.exists() and any(folder.iterdir()):
        raise ImportRefused(f"{folder} is not empty: give a new folder for the import files")
    began = time.perf_counter()
    apply_migrations(driver, database)
    store = ImportLinkStore()
    summary = link(settings.data_path, store, settings.match_threshold_upper, settings.match_threshold_lower,
                   spark=spark, memory_limit=settings.duckdb_memory_limit, progress=progress)
    summary.seconds["link"] = summary.seconds.pop("total", 0.0)
    t = time.perf_counter()
    written = write_initial(driver, database, store, settings.data_path, folder, progress)
    summary.seconds["import_files"] = time.perf_counter() - t
    summary.seconds["total"] = time.perf_counter() - began
    for batch_id, reason in written["set_aside"].items():
        set_aside(settings.data_path, batch_id, reason)
    summary.set_aside |= written["set_aside"]
    return summary.as_json() | {"import_files": str(folder), "command": written["command"],
                                "imported": {"nodes": written["nodes"], "relationships": written["relationships"]},
                                "facts": written["facts"], "facts_later": written["unloaded"]}


def _run_linking(settings: Settings, driver: Driver, database: str, kind: Literal["link", "relink"],
                 spark: Any, progress: Callable[[str], None], with_totals: bool = True) -> dict[str, Any]:
    whole = time.perf_counter()
    apply_migrations(driver, database)
    loader = GraphLoader(driver, database, writers=settings.neo4j_writers)
    importing = kind == "link" and _import_first_load(settings, driver, database, progress)
    graph_store = GraphLinkStore(driver, database, writers=settings.neo4j_writers)
    store: GraphLinkStore | ImportLinkStore = ImportLinkStore() if importing else graph_store
    if not importing:
        loader.load_reference()
    run = link if kind == "link" else relink
    summary = run(settings.data_path, store, settings.match_threshold_upper, settings.match_threshold_lower,
                  spark=spark, memory_limit=settings.duckdb_memory_limit, progress=progress)
    summary.seconds["link"] = summary.seconds.pop("total", 0.0)
    facts: dict[str, int] = {}
    loaded_now: list[str] = []
    written: dict[str, int] = {}
    if isinstance(store, ImportLinkStore) and store.plan is not None:
        imported = load_initial(managed_server(settings), driver, database, store, settings.data_path, progress)
        summary.seconds |= {f"import_{k}": v for k, v in imported["seconds"].items()}
        summary.set_aside |= imported["set_aside"]
        for batch_id, reason in imported["set_aside"].items():
            set_aside(settings.data_path, batch_id, reason)
        facts = imported["facts"]
        loaded_now = [b for b in store.batches if b not in imported["set_aside"]]
        written = {"nodes": imported["nodes"], "relationships": imported["relationships"]}
    began = time.perf_counter()
    loaded = loader.loaded_batches()
    for batch_id in sorted((graph_store.linked_batches() & set(all_batch_ids(settings.data_path))) - loaded):
        progress(f"loading the visits, doses and diagnoses of batch {batch_id}")
        try:
            loaded_facts = loader.load_batch(settings.data_path, batch_id)
        except (ClientError, ValueError, TypeError) as exc:  # the batch's facts, not the server: set it aside
            reason = f"its facts cannot be loaded: {type(exc).__name__}: {exc}"
            set_aside(settings.data_path, batch_id, reason)
            summary.set_aside[batch_id] = reason
            continue
        loaded_now.append(batch_id)
        for key, count in loaded_facts.items():
            facts[key] = facts.get(key, 0) + count
    summary.seconds["load_facts"] = time.perf_counter() - began
    began = time.perf_counter()
    dirty = dirty_person_ids(driver, database)
    progress(f"golden records of {len(dirty):,} persons changed")
    refreshed = refresh_persons(driver, dirty, database)
    summary.seconds["golden"] = time.perf_counter() - began
    if settings.analytics_refresh:
        progress("bringing the analytics up to date")
        batches = sorted(set(loaded_now) | set(summary.batches))
        summary.seconds["analytics"] = refresh_projection(driver, database, settings.data_path, batches=batches,
                                                          count_rows=False).seconds
    if written:  # the import restarted the server: warm it up for the batches that follow
        began = time.perf_counter()
        progress("warming the restarted server up on the work of a link")
        warm_up_if_possible(driver, database)
        summary.seconds["warm_up"] = time.perf_counter() - began
    totals: dict[str, int] = {}
    if with_totals:
        counts = graph_store.counts()
        totals = {"persons": counts["persons"],
                  "review_items": counts["possible_matches"] + counts["possible_duplicates"]}
    summary.seconds["total"] = time.perf_counter() - whole
    imported_counts = {"imported": written} if written else {}
    return summary.as_json() | imported_counts | {"facts": facts, "persons_refreshed": refreshed} | totals


def _import_first_load(settings: Settings, driver: Driver, database: str, progress: Callable[[str], None]) -> bool:
    """Whether this link is a first load to write with `neo4j-admin database import`: the managed server's
    graph holds no person nor record, and the batches waiting hold at least `initial_import_records`."""
    if not settings.initial_import_records or not settings.managed_neo4j:
        return False
    if initial_import_refusal(driver, database) is not None:
        return False
    refuse_after_cut_short_import(settings.data_path)
    waiting = sum(pq.ParquetFile(path).metadata.num_rows for batch_id in all_batch_ids(settings.data_path)
                  if (path := settings.data_path / "batches" / batch_id / "records.parquet").exists())
    if waiting < settings.initial_import_records:
        return False
    progress(f"a first load of {waiting:,} records into an empty graph: written with neo4j-admin import")
    return True
