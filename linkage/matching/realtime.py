"""Real-time matching: one person's demographics in, candidate persons out.

Candidates come from an index lookup on the model's blocking keys (never a scan of all records);
they are scored with the trained model compiled to Python (`linkage.matching.compiled`: the same numbers as
Splink's SQL, without a DuckDB execution per request), or, for a model that does not compile, by
Splink's `compare_records` on a DuckDB connection kept open. Each person is represented by its
best-scoring record.

    matcher = RealtimeMatcher(model, candidates=graph_candidates)
    matcher.match({"name_as_written": "Nguyễn Văn An", "birth_date": date(1990, 3, 5)})
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from linkage.matching.scoring import TF_COLUMNS, Scorer
from linkage.matching.store import TrainedModel
from linkage.standardize import standardise_one

# (standardised query row) -> list of (standardised candidate record, person id)
CandidateSource = Callable[[dict[str, Any]], list[tuple[dict[str, Any], str]]]


@dataclass(frozen=True)
class Candidate:
    """A person that may be the one described, with why."""

    person_id: str
    probability: float
    match_weight: float
    weights: dict[str, float]
    record_uid: str


class RealtimeMatcher:
    """Scores one record against indexed candidates; safe to share between threads."""

    def __init__(self, model: TrainedModel, candidates: CandidateSource, connections: int | None = None,
                 population: int | None = None) -> None:
        """`population`: how many records the candidates are drawn from (`TrainedModel.among`)."""
        self.scorer = Scorer(model.among(population), model.tf or {c: {} for c in TF_COLUMNS})
        self.candidates = candidates
        self.version = model.version
        self.population = population
        # A few single-threaded DuckDB connections shared by all request threads: one per core does
        # the work; a connection per thread (a server runs dozens) would each start its own DuckDB
        # with its own thread pool and prepare the scoring SQL again, and starve the machine.
        self._pool: queue.LifoQueue[duckdb.DuckDBPyConnection] = queue.LifoQueue()
        self._size = connections or max(1, min(4, os.cpu_count() or 1))
        self._created = 0
        self._lock = threading.Lock()

    @contextmanager
    def _con(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._pool.empty() and self._created < self._size:
                con = duckdb.connect(config={"threads": 1})
                self._created += 1
                self._pool.put(con)
        con = self._pool.get()
        try:
            yield con
        finally:
            self._pool.put(con)

    def standardise(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The query's linkage row (the same functions as the batch path)."""
        row = standardise_one(fields)
        row["unique_id"] = "query|q"
        return row

    def match(self, fields: dict[str, Any], limit: int = 10, minimum: float = 0.01) -> list[Candidate]:
        """Candidate persons, most probable first."""
        query = self.standardise(fields)
        found = self.candidates(query)
        if not found:
            return []
        rows = []
        person_of: dict[str, str] = {}
        for record, person_id in found:
            rows.append({**record, "unique_id": record["uid"]})
            person_of[record["uid"]] = person_id
        compiled = self.scorer.compiled is not None
        if compiled:  # rank on the totals; the weight of each field only for the candidates returned
            pairs = self.scorer.compare(query, rows, weights=False)
        else:
            with self._con() as con:
                pairs = self.scorer.compare_sql(query, rows, con)
        best: dict[str, Candidate] = {}
        for left, right, p, w, weights in pairs:
            uid = right if left == "query|q" else left
            person = person_of.get(uid)
            if person is None or p < minimum:
                continue
            if person not in best or p > best[person].probability:
                best[person] = Candidate(person, p, w, weights, uid)
        chosen = sorted(best.values(), key=lambda c: -c.probability)[:limit]
        if compiled and chosen:
            row_of = {row["unique_id"]: row for row in rows}
            weighed = self.scorer.compare(query, [row_of[c.record_uid] for c in chosen])
            chosen = [replace(c, weights=pair.weights) for c, pair in zip(chosen, weighed, strict=True)]
        return chosen


__all__ = ["Candidate", "CandidateSource", "RealtimeMatcher"]
