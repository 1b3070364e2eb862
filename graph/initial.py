"""The first load at import speed: a first `hoso link` into an empty graph writes import files and runs
`neo4j-admin database import` instead of writing through Bolt.

The graph it makes is the one the Bolt path makes from the same run, node for node and property for
property (a test checks it): the same rules, applied here in Python to the linking run's plan and the
batches' facts instead of by the Cypher files of `identity/`, `load/` and `persons/`:

- records with their identity fields and descriptive details; persons with their golden records;
  MATCH and POSSIBLE_MATCH links, possible duplicates; the run and its batches;
- administrative units, ICD-10 codes, facilities and vaccines; each record's encounters (with their
  facility and diagnoses), immunizations, conditions and observations;
- households and parents derived from the golden records; the change feed's events, numbered after
  the last number the graph had given.

What the graph held that is none of these (accounts, the audit trail, webhooks, tasks) is carried over
into the import. The schema is created after the import by the migrations, as for a new graph. A
record that came in more than one batch has its facts written through Bolt after the import, in the
batches' order, as the Bolt path writes them (later versions set over earlier ones).

`load_initial` runs it on the managed server (stopped around the import); `write_initial` only writes
the files and the command, for a server HoSo does not run (`hoso link --import-files`). The payloads'
facts are read in a second process while this one writes the persons, both with the garbage collector
paused (they make millions of rows and no cycle); at a million persons the files take about 3 minutes,
the import tool 2.5, the schema 1.2 (`docs/benchmarks.md`).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from neo4j import Driver

from graph.bulk import ImportFiles, ImportRefused, carried_content, import_database, import_options
from graph.identity import RECORD_PROPS
from graph.load import FACT_CHUNK, GraphLoader, admin_unit_rows, all_disease_rows, disease_row, iter_batch_facts
from graph.migrations import apply_migrations
from graph.persons import GOLDEN_KEYS
from graph.queries import default_registry
from graph.server import ManagedNeo4j
from linkage import LinkPlan, Reviewed, collector_paused, golden_record

log = logging.getLogger(__name__)

# Labels an import writes afresh: a graph holding any of these is not empty (the import is for a first load);
# `system/count_written_labels` counts them.
WRITTEN = ("SourceRecord", "Person", "Batch", "LinkRun", "Encounter", "Immunization", "Condition", "Observation",
           "Facility", "Vaccine", "Household", "PersonEvent")
# Labels an empty graph may hold that the import writes again: reference data, the migration log (the
# migrations run again on the imported graph to build its schema) and the feed's counter.
REWRITTEN = ("AdminUnit", "Disease", "DiseaseGroup", "HosoMigration", "FeedSequence")
S, L, B, F, DT = "string", "long", "boolean", "double", "datetime"
RECORD_TYPES = {name: S for name in RECORD_PROPS} | {"placeholder_name": B, "pid_ok": B, "birth_year": L}
DETAIL_TYPES = {"name_as_written": S, "address_text": S, "birth_weight_g": "number", "delivery": S,
                "premature": B, "ethnicity": S, "occupation": S, "blood_group": S, "reported_by_citizen": B,
                "source_system": S, "raw_ref": S, "household_relation": S, "phones": "string[]", "recorded_at": S}
GOLDEN_TYPES = {k: S for k in GOLDEN_KEYS} | {"birth_year": L, "record_count": L, "sources": "string[]"}
GOLDEN_FIELDS = ("uid", "source", "name", "birth_date", "birth_precision", "birth_year", "personal_id", "pid_ok",
                 "sex", "phone", "commune", "province", "address_text", "household_code", "household_relation",
                 "bhxh", "cmnd", "recorded_at")
PARENT_RELATIONS = ("Chủ hộ", "Vợ", "Chồng")
GOLDEN_DETAILS = ("address_text", "household_relation", "recorded_at")  # what golden reads from the payload


def refusal(driver: Driver, database: str) -> str | None:
    """Why the graph cannot take a first load by import (None: it can): it holds persons or their facts."""
    rows = default_registry().read(driver, "system/count_written_labels", database=database)
    held = {r["label"]: r["count"] for r in rows if r["count"]}
    if held:
        return "the graph is not empty (" + ", ".join(f"{n:,} {label}" for label, n in sorted(held.items())) + ")"
    return None


@dataclass
class ImportLinkStore:
    """The `LinkStore` of a first link into an empty graph: nothing linked yet, and the run's records and
    plan kept for `InitialLoad` instead of written through Bolt."""

    records: pd.DataFrame | None = None
    plan: LinkPlan | None = None
    model_version: str = ""
    run_id: str = ""
    batches: list[str] = field(default_factory=list)

    def linked_batches(self) -> set[str]:
        return set()

    def assignments(self, exclude_run: str | None = None) -> dict[str, str]:
        return {}

    def persons_of(self, uids: list[str], exclude_run: str | None = None) -> dict[str, str]:
        return {}

    def reviewed(self) -> Reviewed:
        return Reviewed()

    def no_matches_of(self, uids: list[str]) -> list[tuple[str, str]]:
        return []

    def write(self, records: pd.DataFrame, plan: LinkPlan, model_version: str, run_id: str,
              batches: list[str], kind: str) -> None:
        self.records, self.plan, self.model_version, self.run_id, self.batches = (
            records, plan, model_version, run_id, list(batches))


def _clean(values: Iterable[Any]) -> list[Any]:
    """Python values as Bolt would send them: NaN is no value, numpy scalars are Python's."""
    out: list[Any] = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out


def _taken(column: pd.Series, at: np.ndarray) -> list[Any]:
    """The values of `column` at positions `at` (-1: none), as Python values, None for a missing one."""
    values = np.empty(len(column) + 1, dtype=object)  # the last one None, where `at` is -1
    values[:-1] = column.to_numpy(dtype=object)
    values[:-1][pd.isna(values[:-1])] = None
    return values[at].tolist()


class InitialLoad:
    """Import files for the graph a first link makes, from its `ImportLinkStore` and the batches."""

    def __init__(self, store: ImportLinkStore, data_dir: Path, folder: Path,
                 progress: Callable[[str], None] = lambda _: None, bolt_after: bool = True) -> None:
        """`bolt_after`: the facts of records that came in several batches are written through Bolt right
        after the import (`load_initial`); else every batch holding such a record is left unloaded, for
        the next `hoso link` to load whole through Bolt (an import someone else runs)."""
        if store.records is None or store.plan is None:
            raise ValueError("the link run wrote no plan")
        self.store, self.data_dir, self.progress, self.bolt_after = store, data_dir, progress, bolt_after
        self.files = ImportFiles(folder)
        self.now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self.records: pd.DataFrame = store.records
        self.plan: LinkPlan = store.plan
        self.units: set[str] = set()
        self.set_aside: dict[str, str] = {}
        self.later: dict[str, set[str]] = {}  # batch -> uids whose facts go through Bolt after the import
        self.facts: dict[str, int] = {}
        self.loaded: dict[str, dict[str, int]] = {}
        self.seconds: dict[str, float] = {}  # where writing the files went: the persons, then waiting for the facts
        self._final: dict[tuple[str, str], Any] | None = None  # each (record, person)'s link as Bolt leaves it
        self._matches: dict[str, str] | None = None

    # -- the whole graph -------------------------------------------------------------------------------
    @collector_paused
    def write(self, feed_last: int) -> dict[str, int]:
        """Write every import file; returns the nodes and relationships they hold. The facts are read in a
        second process while this one writes the persons (their golden records read the three details
        they need from the batches through DuckDB)."""
        self.progress(f"writing the import files: {len(self.records):,} records with their visits, doses and "
                      "diagnoses (in a second process), persons and links")
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            pending = pool.submit(run_fact_pass, self.data_dir, self.store.batches, self.files.folder / "facts",
                                  set(self.records["unique_id"]), self.bolt_after)
            began = time.perf_counter()
            self._reference()
            golden = self._persons(golden_details(self.data_dir, self.store.batches))
            self._links()
            self._households_and_parents(golden)
            self._events(feed_last)
            self.seconds["persons"] = time.perf_counter() - began
            facts = pending.result()
            self.seconds["waiting_for_facts"] = time.perf_counter() - began - self.seconds["persons"]
        self.files.adopt(facts.files)
        self.set_aside, self.later, self.facts, self.loaded = facts.set_aside, facts.later, facts.facts, facts.loaded
        self._diseases(facts.diseases)
        self._facility_nodes(facts.facilities)
        self.files.nodes("Vaccine", "code", {"name": S}, [{"code": c, "name": n} for c, n in facts.vaccines.items()])
        self._records(pd.read_parquet(facts.files.folder / "details.parquet").set_index("uid"))
        self._run_and_batches()
        return self.files.counts()

    def _reference(self) -> None:
        units, successions = admin_unit_rows()
        self.units = {u["uid"] for u in units}
        self.files.nodes("AdminUnit", "uid", {"code": S, "level": S, "code_list": S, "name": S, "lat": F, "lon": F,
                                              "province_code": S}, units)
        self.files.relationships("PART_OF", "AdminUnit", "AdminUnit", {},
                                 [{"start": u["uid"], "end": u["parent_uid"]} for u in units if u["parent_uid"]])
        self.files.relationships("SUCCEEDED_BY", "AdminUnit", "AdminUnit", {"is_default": B, "since": "date"},
                                 [{"start": s["old_uid"], "end": s["new_uid"], "is_default": s["is_default"],
                                   "since": "2025-07-01"} for s in successions])

    def _diseases(self, codes: set[str]) -> None:
        rows = {r["icd10"]: r for r in all_disease_rows()}
        rows |= {code: row for code in sorted(codes - set(rows)) if (row := disease_row(code)) is not None}
        self.files.nodes("Disease", "icd10", {"name": S, "name_vi": S}, rows.values())
        groups: dict[str, dict[str, Any]] = {}
        for r in rows.values():  # as `load/diseases` sets them: a chapter's Vietnamese name, a block's none
            groups.setdefault(r["block"], {"code": r["block"], "name": r["block_name"], "level": "block"})
            groups[r["chapter"]] = {"code": r["chapter"], "name": r["chapter_name"],
                                    "name_vi": r["chapter_name_vi"], "level": "chapter"}
        self.files.nodes("DiseaseGroup", "code", {"name": S, "name_vi": S, "level": S}, groups.values())
        self.files.relationships("IN_GROUP", "Disease", "DiseaseGroup", {},
                                 [{"start": r["icd10"], "end": r["block"]} for r in rows.values()])
        self.files.relationships("IN_GROUP", "DiseaseGroup", "DiseaseGroup", {},
                                 [{"start": b, "end": c} for b, c in sorted({(r["block"], r["chapter"])
                                                                             for r in rows.values()})])

    def _facility_nodes(self, facilities: dict[str, dict[str, Any]]) -> None:
        rows = [{"code": code, "name": f["name"] or f["fallback_name"], "level": f["level"]}
                for code, f in facilities.items()]
        self.files.nodes("Facility", "code", {"name": S, "level": S}, rows)
        self.files.relationships("LOCATED_IN", "Facility", "AdminUnit", {},
                                 [{"start": code, "end": f["unit_uid"]} for code, f in facilities.items()
                                  if f["unit_uid"] in self.units])

    # -- records, persons, links -----------------------------------------------------------------------
    def _records(self, details: pd.DataFrame) -> None:
        table = self.records
        uids = table["unique_id"]
        columns: dict[str, Any] = {"uid": uids}
        columns |= {name: table[name] for name in RECORD_PROPS}
        aligned = details.reindex(uids)
        for name, kind in DETAIL_TYPES.items():
            if name in aligned.columns:
                columns[name] = aligned[name] if kind != "number" else _clean(aligned[name])
        self.files.nodes("SourceRecord", "uid", RECORD_TYPES | DETAIL_TYPES, columns)

    def _persons(self, details: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """Every person of the plan; a person with a link gets its golden record, as `refresh_persons`
        gives it to the persons a run marked."""
        plan = self.plan
        matched: dict[str, list[str]] = defaultdict(list)
        linked: set[str] = set()
        for link in plan.links:
            linked.add(link.person_id)
        for uid, person in self._match_of().items():
            matched[person].append(uid)
        needed = sorted({uid for uids in matched.values() for uid in uids})
        # The fields of each record needed, as Python values (None for none), taken by position: one
        # lookup of the uids in the records and one in the details, whatever the number of fields.
        at_record = pd.Index(self.records["unique_id"]).get_indexer(pd.Index(needed))
        at_detail = details.index.get_indexer(pd.Index(needed))
        fields = {name: _taken(self.records[name], at_record) for name in GOLDEN_FIELDS
                  if name in self.records.columns and name not in GOLDEN_DETAILS}
        fields |= {name: _taken(details[name], at_detail) if name in details.columns else [None] * len(needed)
                   for name in GOLDEN_DETAILS}
        names = ["uid", *fields]
        by_uid: dict[str, dict[str, Any]] = {
            row[0]: dict(zip(names, row, strict=True)) for row in zip(needed, *fields.values(), strict=True)}
        persons = sorted({link.person_id for link in plan.links} | set(plan.new_persons))
        # Each person's golden record (None: a person without a link), then the Person file's columns
        # from them, a column at a time.
        records = [golden_record([by_uid[uid] for uid in matched.get(person, [])]) if person in linked else None
                   for person in persons]
        golden = {person: record for person, record in zip(persons, records, strict=True) if record is not None}
        columns: dict[str, list[Any]] = {
            "person_id": persons, "created_at": [self.now] * len(persons), "status": ["active"] * len(persons),
            "golden_updated_at": [None if record is None else self.now for record in records]}
        columns |= {k: [None if record is None else record.get(k) for record in records] for k in GOLDEN_KEYS}
        self.files.nodes("Person", "person_id", {"created_at": DT, "status": S, "golden_updated_at": DT} | GOLDEN_TYPES,
                         columns)
        self.persons = persons
        return golden

    def _match_of(self) -> dict[str, str]:
        """Each record's MATCH person as `identity/set_links` leaves it: one MATCH per record (the last
        written), and a POSSIBLE_MATCH to the same person turning that link into a review item."""
        if self._matches is None:
            self._matches = {uid: person for (uid, person), link in self._final_links().items()
                             if link.state == "MATCH"}
        return self._matches

    def _final_links(self) -> dict[tuple[str, str], Any]:
        if self._final is not None:
            return self._final
        final: dict[tuple[str, str], Any] = {}
        match_of: dict[str, str] = {}
        for link in [lk for lk in self.plan.links if lk.state == "MATCH"]:
            if (old := match_of.get(link.uid)) is not None and old != link.person_id:
                final.pop((link.uid, old), None)
            match_of[link.uid] = link.person_id
            final[(link.uid, link.person_id)] = link
        for link in [lk for lk in self.plan.links if lk.state != "MATCH"]:
            final[(link.uid, link.person_id)] = link
        self._final = final
        return final

    def _links(self) -> None:
        """The LINKED_TO relationships, as columns (a first link has one or more per record)."""
        links = list(self._final_links().values())
        count = len(links)
        uids, persons, states, probabilities, match_weights, why, partners = (
            (list(column) for column in zip(*links, strict=True)) if links else ([] for _ in range(7)))
        review = [state == "POSSIBLE_MATCH" for state in states]
        self.files.relationships("LINKED_TO", "SourceRecord", "Person",
                                 {"state": S, "origin": S, "probability": "number", "match_weight": "number",
                                  "weights": S, "pair_uid": S, "model_version": S, "run_id": S, "updated_at": DT,
                                  "version": L, "item_id": S, "item_since": DT},
                                 {"start": uids, "end": persons, "state": states, "origin": ["AUTO"] * count,
                                  "probability": probabilities, "match_weight": match_weights, "weights": why,
                                  "pair_uid": partners, "model_version": [self.store.model_version] * count,
                                  "run_id": [self.store.run_id] * count, "updated_at": [self.now] * count,
                                  "version": [1] * count,
                                  "item_id": [_item_id("pm") if r else None for r in review],
                                  "item_since": [self.now if r else None for r in review]})
        pairs: dict[frozenset[str], dict[str, Any]] = {}
        for a, b, probability, weights in self.plan.duplicates:
            if a == b:
                continue
            pair = pairs.setdefault(frozenset((a, b)), {"start": a, "end": b, "created_at": self.now,
                                                         "status": "open", "version": 1,
                                                         "item_id": _item_id("pd"), "item_since": self.now})
            pair |= {"probability": probability, "weights": weights, "run_id": self.store.run_id}
        self.files.relationships("POSSIBLE_DUPLICATE", "Person", "Person",
                                 {"created_at": DT, "status": S, "version": L, "probability": "number",
                                  "weights": S, "run_id": S, "item_id": S, "item_since": DT}, pairs.values())

    def _households_and_parents(self, golden: dict[str, dict[str, Any]]) -> None:
        """`persons/derive_households` and `persons/derive_parents` over every person with a golden record."""
        members: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        located: set[tuple[str, str]] = set()
        for person, g in golden.items():
            if (code := g.get("household_code")) is None:
                continue
            members[code].append((person, g.get("household_relation")))
            if (unit := f"post2025:commune:{g.get('commune')}") in self.units:
                located.add((code, unit))
        self.files.nodes("Household", "code", {}, [{"code": code} for code in members])
        self.files.relationships("MEMBER_OF", "Person", "Household", {"relation": S},
                                 [{"start": p, "end": code, "relation": rel}
                                  for code, people in members.items() for p, rel in people])
        self.files.relationships("LOCATED_IN", "Household", "AdminUnit", {},
                                 [{"start": code, "end": unit} for code, unit in sorted(located)])
        by_pid: dict[str, list[str]] = defaultdict(list)
        for person, g in golden.items():
            if g.get("personal_id") is not None:
                by_pid[g["personal_id"]].append(person)
        parents: dict[tuple[str, str], str] = {}
        mothers = dict(zip(self.records["unique_id"], _clean(self.records["mother_pid"]), strict=True))
        for uid, child in self._match_of().items():
            if child in golden and (pid := mothers.get(uid)) is not None:
                for mother in by_pid.get(pid, []):
                    if mother != child:
                        parents[(mother, child)] = "birth_certificate"
        for people in members.values():
            heads = [p for p, rel in people if rel in PARENT_RELATIONS]
            for child, rel in people:
                if rel == "Con":
                    for parent in heads:
                        if parent != child:
                            parents.setdefault((parent, child), "household")
        self.files.relationships("PARENT_OF", "Person", "Person", {"source": S},
                                 [{"start": a, "end": b, "source": s} for (a, b), s in parents.items()])

    def _events(self, feed_last: int) -> None:
        """The change feed as the Bolt path numbers it: each person created, then each record linked (as
        columns: a first link has an event per person and per record)."""
        province = dict(zip(self.records["unique_id"], _clean(self.records["province"]), strict=True))
        linked = list(dict.fromkeys((link.uid, link.person_id) for link in self.plan.links if link.state == "MATCH"))
        created, count = len(self.persons), len(self.persons) + len(linked)
        columns: dict[str, list[Any]] = {
            "seq": list(range(feed_last + 1, feed_last + 1 + count)), "at": [self.now] * count,
            "type": ["person_created"] * created + ["record_linked"] * len(linked),
            "person_id": [*self.persons, *(person for _, person in linked)],
            "uid": [None] * created + [uid for uid, _ in linked], "other_person_id": [None] * count,
            "province": [None] * created + [province.get(uid) for uid, _ in linked]}
        self.files.nodes("PersonEvent", None, {"seq": L, "at": DT, "type": S, "person_id": S, "uid": S,
                                               "other_person_id": S, "province": S}, columns)
        self.files.nodes("FeedSequence", None, {"name": S, "value": L},
                         [{"name": "person_events", "value": feed_last + count}] if count or feed_last else [])

    def _run_and_batches(self) -> None:
        store = self.store
        stats = json.dumps(self.plan.stats())
        self.files.nodes("LinkRun", "run_id", {"kind": S, "model_version": S, "batches": "string[]", "stats": S,
                                               "at": DT},
                         [{"run_id": store.run_id, "kind": "link", "model_version": store.model_version,
                           "batches": store.batches or None, "stats": stats, "at": self.now}])
        self.files.nodes("Batch", "batch_id", {"linked_at": DT, "facts_loaded_at": DT, "fact_counts": S},
                         [{"batch_id": b, "linked_at": self.now,
                           "facts_loaded_at": self.now if b in self.loaded else None,
                           "fact_counts": json.dumps(self.loaded[b]) if b in self.loaded else None}
                          for b in store.batches])
        self.files.relationships("LINKED", "LinkRun", "Batch", {},
                                 [{"start": store.run_id, "end": b} for b in store.batches])


class FactPass:
    """The facts of the batches into import files of their own, and each record's details into
    `details.parquet` beside them: the part of a first load that reads every payload, run in a second
    process beside the rest (`run_fact_pass`)."""

    def __init__(self, data_dir: Path, batches: list[str], folder: Path, uids: set[str],
                 bolt_after: bool = True) -> None:
        self.data_dir, self.batches, self.uids, self.bolt_after = data_dir, sorted(batches), uids, bolt_after
        self.files = ImportFiles(folder)
        self.set_aside: dict[str, str] = {}
        self.later: dict[str, set[str]] = {}  # batch -> uids whose facts go through Bolt after the import
        self.facts: dict[str, int] = {}
        self.loaded: dict[str, dict[str, int]] = {}
        self.facilities: dict[str, dict[str, Any]] = {}
        self.vaccines: dict[str, str | None] = {}
        self.diseases: set[str] = set()

    def run(self) -> None:
        """Each batch's encounters, immunizations, conditions and observations, in the batches' order as
        `GraphLoader` loads them, and each record's details (later batches set over earlier ones)."""
        uids, batches = self.uids, self.batches
        seen: dict[str, int] = defaultdict(int)
        batch_uids: dict[str, set[str]] = {}
        for batch_id in batches:
            table = pq.read_table(self._path(batch_id), columns=["source", "record_id"])
            batch_uids[batch_id] = {f"{source}|{record_id}" for source, record_id
                                    in zip(*(c.to_pylist() for c in table.columns), strict=True)}
            for uid in batch_uids[batch_id]:
                seen[uid] += 1
        repeated = {uid for uid, n in seen.items() if n > 1}
        once = uids - repeated  # the records whose facts go in the files (a copy of 2 million uids: made once)
        facilities: dict[str, dict[str, Any]] = {}
        vaccines: dict[str, str | None] = {}
        diseases: set[str] = set()
        detail_parts: list[pd.DataFrame] = []
        loaded: dict[str, dict[str, int]] = {}
        for batch_id in batches:
            counts = {"encounters": 0, "immunizations": 0, "conditions": 0, "observations": 0, "records": 0}
            parts: list[pd.DataFrame] = []
            deferred = not self.bolt_after and bool(batch_uids[batch_id] & repeated & uids)
            try:
                for facts in iter_batch_facts(self._path(batch_id), chunk=FACT_CHUNK):
                    parts.append(pd.DataFrame([{"uid": r["uid"], **r["props"]} for r in facts["records"]
                                               if r["uid"] in uids]))
                    if deferred:  # its facts all come through Bolt, after the import
                        continue
                    for row in facts["facilities"]:
                        facilities.setdefault(row["code"], row)
                    for row in facts["vaccines"]:
                        if vaccines.get(row["code"]) is None:
                            vaccines[row["code"]] = row["name"]
                    diseases.update(row["icd10"] for row in facts["diseases"])
                    for kind in ("encounters", "immunizations", "conditions", "observations"):
                        counts[kind] += len(facts[kind])
                    counts["records"] += len(facts["records"])
                    self._fact_rows(facts, batch_id, once, facilities)
            except (ValueError, TypeError) as exc:  # as the Bolt path: the batch's facts, set aside
                self.files.drop(batch_id)
                self.set_aside[batch_id] = f"its facts cannot be loaded: {type(exc).__name__}: {exc}"
                continue
            detail_parts.extend(parts)
            if deferred:
                continue
            loaded[batch_id] = counts
            if later := batch_uids[batch_id] & repeated & uids:
                self.later[batch_id] = later
        self.loaded, self.facilities, self.vaccines, self.diseases = loaded, facilities, vaccines, diseases
        for counts in loaded.values():
            for kind, n in counts.items():
                self.facts[kind] = self.facts.get(kind, 0) + n
        details = pd.concat(detail_parts, ignore_index=True) if detail_parts else pd.DataFrame({"uid": []})
        # A record in several batches: its details as `SET r += props` leaves them, the last batch's over the first's.
        details = details.groupby("uid", sort=False).last() if details["uid"].duplicated().any() \
            else details.set_index("uid")
        details.reset_index().to_parquet(self.files.folder / "details.parquet")

    def _path(self, batch_id: str) -> Path:
        return self.data_dir / "batches" / batch_id / "records.parquet"

    def _fact_rows(self, facts: dict[str, list[dict[str, Any]]], batch_id: str, uids: set[str],
                   facilities: dict[str, dict[str, Any]]) -> None:
        files, tag = self.files, batch_id
        known_diseases = reference_codes() | {r["icd10"] for r in facts["diseases"]}
        encounters = {e["key"]: e for e in facts["encounters"] if e["uid"] in uids}
        files.nodes("Encounter", "key", {"encounter_id": S, "admitted_at": DT, "discharged_at": DT, "outcome": S,
                                          "visit_type": S, "reason": S}, encounters.values(), tag)
        files.relationships("HAD_ENCOUNTER", "SourceRecord", "Encounter", {},
                            [{"start": e["uid"], "end": k} for k, e in encounters.items()], tag)
        files.relationships("AT", "Encounter", "Facility", {},
                            [{"start": k, "end": e["facility"]} for k, e in encounters.items()
                             if e["facility"] in facilities], tag)
        diagnosed: dict[tuple[str, str], str] = {}
        for key, e in encounters.items():
            for dx in e["diagnoses"]:
                if dx["code"] in known_diseases:
                    diagnosed[(key, dx["code"])] = dx["role"]
        files.relationships("DIAGNOSED", "Encounter", "Disease", {"role": S},
                            [{"start": k, "end": c, "role": r} for (k, c), r in diagnosed.items()], tag)
        doses = {i["key"]: i for i in facts["immunizations"] if i["uid"] in uids}
        files.nodes("Immunization", "key", {"date": "date", "dose": "number", "reaction": S, "next_due": "date",
                                             "pregnancy_month": "number"}, doses.values(), tag)
        files.relationships("RECEIVED", "SourceRecord", "Immunization", {},
                            [{"start": i["uid"], "end": k} for k, i in doses.items()], tag)
        files.relationships("OF_VACCINE", "Immunization", "Vaccine", {},
                            [{"start": k, "end": i["vaccine"]} for k, i in doses.items()], tag)
        files.relationships("AT", "Immunization", "Facility", {},
                            [{"start": k, "end": i["facility"]} for k, i in doses.items()
                             if i["facility"] in facilities], tag)
        conditions = {c["key"]: c for c in facts["conditions"] if c["uid"] in uids}
        files.nodes("Condition", "key", {"category": S, "code": S, "text": S, "relative": S, "recorded_on": "date"},
                    conditions.values(), tag)
        files.relationships("REPORTED", "SourceRecord", "Condition", {},
                            [{"start": c["uid"], "end": k} for k, c in conditions.items()], tag)
        files.relationships("IS_DISEASE", "Condition", "Disease", {},
                            [{"start": k, "end": c["icd10"]} for k, c in conditions.items()
                             if c["icd10"] in known_diseases], tag)
        observations = {o["key"]: o for o in facts["observations"] if o["uid"] in uids}
        files.nodes("Observation", "key", {"code": S, "value": "number", "unit": S, "observed_at": DT, "device": S},
                    observations.values(), tag)
        files.relationships("OBSERVED", "SourceRecord", "Observation", {},
                            [{"start": o["uid"], "end": k} for k, o in observations.items()], tag)
        files.relationships("DURING", "Observation", "Encounter", {},
                            [{"start": k, "end": o["encounter_key"]} for k, o in observations.items()
                             if o["encounter_key"] in encounters], tag)



# The payload's parts golden records read, parsed once per record into a struct (`json_transform`);
# a JSON path per part parsed each payload eight times (25 s of 2.1 million records).
_PARTS = json.dumps({"addresses": [{"use": "VARCHAR", "text": "VARCHAR"}], "household_relation": "VARCHAR",
                     "recorded_at": "VARCHAR", "encounters": [{"admitted_at": "VARCHAR"}],
                     "immunizations": [{"date": "VARCHAR"}], "observations": [{"observed_at": "VARCHAR"}]})
_ADDRESSES = "coalesce(p.addresses, [])"
_CURRENT = f"list_filter({_ADDRESSES}, lambda a: a.use = 'current')"
_MOMENTS = ("list_concat([p.recorded_at], "
            "coalesce(list_transform(p.encounters, lambda e: e.admitted_at), []), "
            "coalesce(list_transform(p.immunizations, lambda i: i.date), []), "
            "coalesce(list_transform(p.observations, lambda o: o.observed_at), []))")
_GOLDEN_DETAILS_SQL = f"""
    WITH parsed AS (
        SELECT source || '|' || record_id AS uid, list_position($paths, filename) AS batch, file_row_number AS row,
               CASE WHEN len({_CURRENT}) > 0 THEN {_CURRENT}[1].text ELSE {_ADDRESSES}[1].text END AS address_text,
               p.household_relation AS household_relation,
               list_max(list_transform(list_filter({_MOMENTS}, lambda m: m IS NOT NULL AND m <> ''), lambda m: m[1:19]))
                   AS recorded_at
        FROM (SELECT *, json_transform(payload, '{_PARTS}') AS p
              FROM read_parquet($paths, filename = true, file_row_number = true)))
    SELECT uid, {", ".join(f"arg_max({name}, batch * 1e12 + row) FILTER (WHERE {name} IS NOT NULL) AS {name}"
                           for name in ("address_text", "household_relation", "recorded_at"))}
    FROM parsed GROUP BY uid"""  # noqa: S608 - built from constants; the paths are a parameter


def golden_details(data_dir: Path, batches: list[str]) -> pd.DataFrame:
    """The three details a golden record reads that are not identity fields (address text, household
    relation, when the record was last true), for every record of `batches`, read by DuckDB from the
    payloads as `iter_batch_facts` reads them: the current address (else the first), and the latest of the
    record's moments (its own, its visits', doses' and observations'), to the second. A record in several
    batches keeps the last batch's value of each, as `SET r += props` leaves them."""
    paths = [str(data_dir / "batches" / batch_id / "records.parquet") for batch_id in sorted(batches)]
    if not paths:
        return pd.DataFrame({name: [] for name in GOLDEN_DETAILS}, index=pd.Index([], name="uid"))
    with duckdb.connect() as con:
        table = con.execute(_GOLDEN_DETAILS_SQL, {"paths": paths}).df()
    return table.set_index("uid")


@collector_paused
def run_fact_pass(data_dir: Path, batches: list[str], folder: Path, uids: set[str], bolt_after: bool = True,
                  ) -> FactPass:
    """`FactPass(...).run()`, returned whole (it pickles: paths, counts and small dictionaries)."""
    facts = FactPass(data_dir, batches, folder, uids, bolt_after)
    facts.run()
    return facts


@lru_cache(maxsize=1)
def reference_codes() -> frozenset[str]:
    """The ICD-10 codes of the reference data (what `load/diseases` writes before any batch)."""
    return frozenset(row["icd10"] for row in all_disease_rows())


def _item_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def write_initial(driver: Driver, database: str, store: ImportLinkStore, data_dir: Path, folder: Path,
                  progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The import files of a first link's graph in `folder`, for someone else to import (a server HoSo does
    not run): `folder/import.args` holds the import tool's options, to run as `neo4j-admin database import
    full @folder/import.args` with the server stopped. Batches holding a record that came in several
    batches are left unloaded: the next `hoso link` loads their facts through Bolt."""
    if folder.exists() and any(folder.iterdir()):
        raise ImportRefused(f"{folder} is not empty: give a new folder for the import files")
    load = InitialLoad(store, data_dir, folder, progress, bolt_after=False)
    rows = default_registry().read(driver, "system/feed_last_value", database=database)
    counts = load.write(int(rows[0]["value"]) if rows else 0)
    carried = carried_content(driver, database, load.files, set(WRITTEN) | set(REWRITTEN))
    arguments = load.files.folder / "import.args"
    arguments.write_text("\n".join([database, *import_options(load.files)]) + "\n", encoding="utf-8")
    return {"nodes": counts["nodes"] + carried, "relationships": counts["relationships"], "carried": carried,
            "facts": load.facts, "set_aside": load.set_aside, "unloaded": sorted(set(store.batches) - set(load.loaded)),
            "command": f"neo4j-admin database import full @{arguments}"}


def refuse_after_cut_short_import(data_dir: Path) -> None:
    """Refuse to go on while the dump of the database taken before an import that never finished is there."""
    if (before := data_dir / "import" / "before").exists():
        raise ImportRefused(f"an import was cut short: the database as it was before is dumped in {before}; "
                            "load it back with neo4j-admin database load, or remove that folder, then link again")


def load_initial(server: ManagedNeo4j, driver: Driver, database: str, store: ImportLinkStore, data_dir: Path,
                 progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Write the import files of a first link's graph, import them in place of the (empty) database,
    rebuild the schema, then write through Bolt the facts of records that came in several batches."""
    folder = data_dir / "import"
    refuse_after_cut_short_import(data_dir)
    shutil.rmtree(folder, ignore_errors=True)
    began = time.perf_counter()
    load = InitialLoad(store, data_dir, folder, progress)
    rows = default_registry().read(driver, "system/feed_last_value", database=database)
    counts = load.write(int(rows[0]["value"]) if rows else 0)
    carried = carried_content(driver, database, load.files, set(WRITTEN) | set(REWRITTEN))
    written = time.perf_counter() - began
    imported = import_database(server, database, load.files, progress)
    began = time.perf_counter()
    progress("building the schema of the imported graph")
    apply_migrations(driver, database, await_seconds=3600)
    loader = GraphLoader(driver, database)
    for batch_id, uids in sorted(load.later.items()):
        progress(f"writing the facts of {len(uids):,} records of batch {batch_id} that came in several batches")
        loader.load_batch(data_dir, batch_id, only=uids)
    schema = time.perf_counter() - began
    shutil.rmtree(folder, ignore_errors=True)
    return {"nodes": counts["nodes"] + carried, "relationships": counts["relationships"], "carried": carried,
            "facts": load.facts, "set_aside": load.set_aside, "seconds": {
                "files": round(written, 2), "files_persons": round(load.seconds["persons"], 2),
                "files_waiting_for_facts": round(load.seconds["waiting_for_facts"], 2),
                "import": round(imported, 2), "schema": round(schema, 2)}}
