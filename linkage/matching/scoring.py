"""Scoring pairs with a trained model on DuckDB (or Spark): batch, incremental and single records.

Term frequencies are computed over all records and supplied as `tf_*` columns, so the batch, the
incremental (`predict_between`) and the real-time path all weigh a common name the same way.
"""

from __future__ import annotations

import calendar
import copy
import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from splink import DuckDBAPI, Linker
from sqlglot import exp

from linkage.matching.compiled import CompiledModel, NotCompilable, match_probability
from linkage.matching.engines import DUCKDB_MEMORY_LIMIT, duckdb_connection
from linkage.matching.model import for_scoring
from linkage.matching.splink_internals import compare_records
from linkage.standardize import LINKAGE_COLUMNS

log = logging.getLogger(__name__)

TF_COLUMNS = ("family_fold", "middle_fold", "given_fold", "middle_key", "given_key", "birth_date")
# A middle name's frequency among the people of the bearer's sex and family name, a given name's among
# those of the sex, family and middle name (`linkage.matching.model._exact_within`).
_KEYED = {"middle_key": "middle_fold", "given_key": "given_fold"}
# Keyed frequencies are estimated from the people (records of one name, sex and birth year) sharing the
# names before: a group of a few is weighed like this many people of the whole sex.
SMOOTHING = 20.0
# A birth date's frequency within its year leans on the year's average day by this many people a day:
# a day's count drifts by chance (at 100,000 persons a day has a few dozen records), a heap of
# "1 January" for people whose day was never known does not.
DATE_SMOOTHING = 20.0
WEIGHT_COLUMNS = ("personal_id", "cmnd", "bhxh", "family_name", "middle_name", "given_name", "birth", "sex",
                  "phone", "address", "house", "household_code")
_ARROW_TYPES = {"birth_year": pa.int64(), "pid_ok": pa.bool_(), "placeholder_name": pa.bool_()}
_DUCK_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN", pa.float64(): "DOUBLE"}
PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight", "weights"]
# A batch of at most this many new records is blocked and scored in Python with the compiled model: for
# one record, Splink's linker (validating the settings, building the SQL) cost 0.6 s of a 1.2 s link.
SMALL_BATCH = 50


class ScoredPair(NamedTuple):
    """One pair scored in real time: the weights by comparison (tf adjustment included), rounded."""

    unique_id_l: str
    unique_id_r: str
    match_probability: float
    match_weight: float
    weights: dict[str, float]


def term_frequencies(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Relative frequency of each value of the term-frequency columns: the family, middle and given
    names among all records, and the keyed names (`keyed_frequencies`)."""
    out = {col: {str(k): float(v) for k, v in table[col].value_counts(normalize=True, dropna=True).items()}
           for col in TF_COLUMNS if col not in _KEYED and col != "birth_date"}
    return out | keyed_frequencies(table) | {"birth_date": date_frequencies(table)}


def date_frequencies(table: pd.DataFrame, smoothing: float = DATE_SMOOTHING) -> dict[str, float]:
    """The frequency of each full birth date among the people with one ("1990-03-05"), and under each
    year ("1990") that of a day of that year no one bears (a date first seen in a later batch).

    Two records agreeing on a date that many bear (the 1st of January, written where the day was
    never known) are weaker evidence than two agreeing on a rare one: with the whole name's frequency,
    the date's sets the number of namesakes a pair must be told apart from. People are told apart by
    their names, sex and date; within its year a date leans on the year's average day by `smoothing`
    people::

        P(date) = P(year) (n(date) + s) / (n(year) + s days(year))
    """
    dated = table[table["birth_date"].notna()] if "birth_date" in table else table.iloc[:0]
    if dated.empty:
        return {}
    people = dated[["sex", "family_fold", "middle_fold", "given_fold", "birth_date"]].astype(object).drop_duplicates()
    dates = people["birth_date"].astype(str)
    years = dates.str[:4]
    per_date = dates.value_counts()
    per_year = years.value_counts()
    total = float(len(people))
    index = per_date.index.to_series()
    year_of = index.str[:4]
    days = pd.Series(np.where(pd.to_numeric(year_of).map(calendar.isleap), 366, 365), index=per_date.index)
    in_year = per_year.reindex(year_of).to_numpy(dtype=float)
    share = in_year / total * (per_date.to_numpy() + smoothing) / (in_year + smoothing * days.to_numpy())
    unseen_days = np.array([366 if calendar.isleap(int(y)) else 365 for y in per_year.index])
    unseen = per_year.to_numpy(dtype=float) / total * smoothing / (per_year.to_numpy() + smoothing * unseen_days)
    return {**dict(zip(per_year.index.astype(str), unseen.tolist(), strict=True)),
            **dict(zip(per_date.index.astype(str), share.tolist(), strict=True))}


def keyed_frequencies(table: pd.DataFrame, smoothing: float = SMOOTHING) -> dict[str, dict[str, float]]:
    """The frequency of a middle name among the people of its bearer's sex and family name ("female|
    nguyen|thi"), of a given name among those of the sex, family and middle name ("female|nguyen|thi|
    lan"); and, as the fallback of a key never seen, of each among the people of the sex ("female|lan";
    "|lan" among everyone).

    The frequencies are the chance that *another* person shares the name: people are told apart by
    their names, sex and birth year, and each key's own person is left out of its count (counting
    records, the only person of a rare family and middle name would make its given name look common
    there, and weigh nothing). A group of few people leans on the wider one, by `smoothing` people:
    the given name within the family name, then within the sex::

        P(given | sex, family) = (n(sex, family, given) - 1 + s P(given | sex)) / (n(sex, family) - 1 + s)
        P(given | sex, family, middle) = (n(... , middle, given) - 1 + s P(given | sex, family))
                                         / (n(sex, family, middle) - 1 + s)

    and the middle name within the sex and family name as the first line. The three agreeing names of
    two records then weigh what the whole name's frequency says, names being as independent as they
    are in the population. No frequency is below that of a name one record bears (the least the
    records can tell).
    """
    # Names as integer codes (-1 where missing), and as text only for the keys made at the end.
    columns = {"sex": table["sex"].where(table["sex"].isin(["male", "female"]), ""),
               "family": table["family_fold"].fillna(""), "middle": table["middle_fold"], "given": table["given_fold"]}
    codes, texts = {}, {}
    for column, values in columns.items():
        code, uniques = pd.factorize(values.astype(object))
        codes[column], texts[column] = code, np.append(np.asarray(uniques, dtype=object), "")  # -1: ""
    codes["year"] = pd.to_numeric(table["birth_year"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    people = pd.DataFrame(codes)
    out: dict[str, dict[str, float]] = {}
    for col, name in _KEYED.items():
        overall = {str(k): float(v) for k, v in table[name].value_counts(normalize=True, dropna=True).items()}
        within_sex = by_sex(overall, table[[name, "sex"]])
        field = name.split("_")[0]
        persons = people[people[field] >= 0].drop_duplicates()
        before = ["sex", "family"] if field == "middle" else ["sex", "family", "middle"]
        width = len(texts[field])
        pairs = persons[["sex", field]].drop_duplicates()
        lookup = np.zeros(len(texts["sex"]) * width)
        lookup[pairs["sex"].to_numpy() * width + pairs[field].to_numpy()] = [
            within_sex[f"{s}|{n}"] for s, n in zip(texts["sex"][pairs["sex"]], texts[field][pairs[field]], strict=True)]
        parent = lookup[persons["sex"].to_numpy() * width + persons[field].to_numpy()]
        if field == "given":  # within the family name first, then within the middle name too
            parent = _shrunk(persons, ["sex", "family"], field, parent, smoothing)
        # Never rarer than a name one record bears: a name no other person of a large group bears would
        # otherwise weigh without bound (two shrinkages towards a frequency of one in the sex).
        share = np.maximum(_shrunk(persons, before, field, parent, smoothing), min(within_sex.values(), default=0.0))
        keyed = persons[[*before, field]].assign(share=share)
        keyed = keyed.drop_duplicates([*before, field])
        parts = [texts[column][keyed[column].to_numpy()] for column in [*before, field]]
        keys = ["|".join(row) for row in zip(*parts, strict=True)]
        out[col] = {**within_sex, **dict(zip(keys, keyed["share"].tolist(), strict=True))}
    return out


def _shrunk(persons: pd.DataFrame, before: list[str], field: str, parent: Any, smoothing: float) -> Any:
    """For each person, the share of the *other* people of its group (`before`) who share its `field`,
    leaning on `parent` by `smoothing` people."""
    group = persons.groupby(before, sort=False)[field].transform("size").to_numpy(dtype=float)
    same = persons.groupby([*before, field], sort=False)[field].transform("size").to_numpy(dtype=float)
    return (same - 1.0 + smoothing * parent) / (group - 1.0 + smoothing)


def by_sex(overall: Mapping[str, float], names: pd.DataFrame | None) -> dict[str, float]:
    """The frequency of each name among the records of each sex (columns: the name, "sex"), and among
    all records under the unknown sex; with no table, the overall frequency for every sex (a model saved
    before the frequencies by sex weighs names as it did)."""
    out = {f"|{k}": v for k, v in overall.items()}
    if names is None:
        return {**out, **{f"{sex}|{k}": v for sex in ("male", "female") for k, v in overall.items()}}
    name = names.columns[0]
    known = names.dropna()
    counts = known.groupby(["sex", name]).size()
    totals = known.groupby("sex").size()
    sexes = counts.index.get_level_values(0)
    shares = counts.to_numpy() / totals.reindex(sexes).to_numpy()
    keys = sexes.astype(str) + "|" + counts.index.get_level_values(1).astype(str)
    out.update(zip(keys.tolist(), shares.tolist(), strict=True))
    return out


def fallback_key(value: str) -> str:
    """The key of a keyed name among the people of its sex ("female|nguyen|thi|lan" -> "female|lan")."""
    parts = value.split("|")
    return f"{parts[0]}|{parts[-1]}"


def _prediction_settings(model: dict[str, Any]) -> dict[str, Any]:
    settings = copy.deepcopy(model)
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = False
    return settings


def _pairs_as_json(predictions: pd.DataFrame) -> pd.DataFrame:
    """`_pairs` with the weights as JSON text, as the batch paths give them."""
    out = _pairs(predictions)
    out["weights"] = pd.Series([json.dumps(w, separators=(",", ":")) for w in out["weights"]], index=out.index,
                               dtype="object")
    return out


def _pairs_in_duckdb(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """`_pairs` computed by DuckDB on the predictions table: the weights of each pair as JSON text
    (comparison -> match weight, term-frequency adjustment included), without a Python object per pair."""
    present = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    parts = []
    for name in WEIGHT_COLUMNS:
        if f"mw_{name}" not in present:
            continue
        tf = f" + coalesce(mw_tf_adj_{name}, 0)" if f"mw_tf_adj_{name}" in present else ""
        parts.append(f"'{name}': round(coalesce(mw_{name}, 0){tf}, 3)")
    weights = f"to_json({{{', '.join(parts)}}})::VARCHAR" if parts else "'{}'"
    # Column names from WEIGHT_COLUMNS and a table name Splink made: no outside text in this SQL.
    sql = (f"SELECT unique_id_l, unique_id_r, match_probability, match_weight, {weights} AS weights "  # noqa: S608
           f"FROM {table} ORDER BY unique_id_l, unique_id_r")
    frame = con.execute(sql).df()
    frame["weights"] = frame["weights"].astype(object)
    return frame


def _pairs(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the match weight of each comparison (term-frequency adjustment included)."""
    if predictions.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    mw_cols = {c: f"mw_{c}" for c in WEIGHT_COLUMNS if f"mw_{c}" in predictions}
    tf_cols = {c: f"mw_tf_adj_{c}" for c in WEIGHT_COLUMNS if f"mw_tf_adj_{c}" in predictions}
    frame = predictions[[*mw_cols.values(), *tf_cols.values()]].astype(float).fillna(0.0)
    for name, col in tf_cols.items():
        frame[mw_cols[name]] = frame[mw_cols[name]] + frame[col]
    renamed = frame[list(mw_cols.values())].round(3).rename(columns={v: k for k, v in mw_cols.items()})
    weights = renamed.to_dict("records")
    out = predictions[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]].copy()
    out["weights"] = pd.Series(weights, index=out.index, dtype="object")
    # A parallel engine returns pairs in any order; decisions that break ties by order must not vary.
    return out.sort_values(["unique_id_l", "unique_id_r"], kind="stable").reset_index(drop=True)


def _plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as the compiled model reads them: missing values None, numbers Python's."""
    return [{str(k): v for k, v in row.items()} for row in frame.astype(object).where(frame.notna(), None)
            .to_dict("records")]


@lru_cache(maxsize=4)
def _compiled(settings: str) -> CompiledModel:
    """The compiled model of these settings (JSON, without the prior, which changes with the population
    at every link), once per process: compiling parses every level's condition (0.2 s), which a server
    linking one self-report after another would pay at each."""
    return CompiledModel(json.loads(settings))


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A frame as Arrow, for Spark: each column typed by its values (a missing value, NaN included, is
    null; a column with no value at all is text). Spark takes the columns as they are, where from pandas
    it made a Python row of every record first (120 MB for the 50,000 candidates of a batch at a
    million persons)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.cast(pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                                 for f in table.schema]))


@dataclass
class _Backend:
    """One scoring's Splink database API, its DuckDB connection (None on Spark), the suffix of the names
    its tables are registered under, and those names."""

    db_api: Any
    con: duckdb.DuckDBPyConnection | None
    suffix: str
    registered: list[str] = field(default_factory=list)


class Scorer:
    """Applies one trained model (its Splink settings and term frequencies) on DuckDB, or on Spark
    when given a session; DuckDB connections are bounded by `memory_limit`."""

    def __init__(self, model: dict[str, Any], tf: dict[str, dict[str, float]], spark: Any = None,
                 memory_limit: str = DUCKDB_MEMORY_LIMIT) -> None:
        self.model = model
        self.memory_limit = memory_limit
        self.settings = _prediction_settings(for_scoring(model, "spark" if spark is not None else "duckdb"))
        # A model saved before the names were keyed knows their frequencies within the sex (or overall):
        # every keyed name falls back to those.
        older = {"middle_key": "middle_sex", "given_key": "given_sex"}
        self.tf = {**tf, **{col: tf.get(older[col]) or by_sex(tf.get(name, {}), None)
                            for col, name in _KEYED.items() if col not in tf}}
        self.spark = spark
        self._rt_sql: str | None = None
        self._rt_prepared: set[int] = set()
        self._tf_floor = {col: min(f.values()) for col, f in self.tf.items() if f}
        self._rt_schema = pa.schema(
            [("hoso_side", pa.string())]
            + [(c, _ARROW_TYPES.get(c, pa.string())) for c in LINKAGE_COLUMNS]
            + [(f"tf_{c}", pa.float64()) for c in TF_COLUMNS])

    @cached_property
    def compiled(self) -> CompiledModel | None:
        """The model compiled for real-time scoring (built at first use: batch scoring never needs it);
        None when it does not compile, and `compare_sql` scores instead."""
        if self.spark is not None:
            return None
        prior = "probability_two_random_records_match"
        comparisons = {k: v for k, v in self.settings.items() if k != prior}
        try:
            return _compiled(json.dumps(comparisons, sort_keys=True)).with_prior(self.settings.get(prior))
        except NotCompilable as exc:
            log.warning("real-time scoring uses Splink's SQL: %s", exc)
            return None

    @contextmanager
    def _backend(self) -> Iterator[_Backend]:
        """Where one scoring runs: on DuckDB a connection of its own, closed after; on Spark the
        session's catalogue, which every scoring of the session shares (a run scores its batch within
        itself, then against the records linked), so its tables take names of their own, dropped after."""
        if self.spark is None:
            con = duckdb_connection(self.memory_limit)
            try:
                yield _Backend(DuckDBAPI(connection=con), con, "")
            finally:
                con.close()
            return
        from splink.backends.spark import SparkAPI  # noqa: PLC0415 - pyspark's import: only Spark runs pay it

        backend = _Backend(SparkAPI(spark_session=self.spark), None, f"_{uuid.uuid4().hex[:12]}")
        try:
            yield backend
        finally:
            for name in backend.registered:
                self.spark.catalog.dropTempView(name)

    def _frame(self, frame: pd.DataFrame) -> Any:
        if self.spark is not None:
            return self.spark.createDataFrame(_arrow_table(frame))
        return frame

    def _register(self, backend: _Backend, table: pd.DataFrame, name: str) -> Any:
        backend.registered.append(name + backend.suffix)
        return backend.db_api.register(self._frame(table), table_name=name + backend.suffix)

    def frequency(self, col: str, value: str) -> float | None:
        """The frequency of a value of a term-frequency column: as known; for a keyed name never seen,
        its frequency within the sex; for a birth date never seen, that of an unborne day of its year;
        else the least known frequency (a value never seen is rare)."""
        known = self.tf.get(col, {})
        found = known.get(value)
        if found is None and col in _KEYED:
            found = known.get(fallback_key(value))
        elif found is None and col == "birth_date":
            found = known.get(value[:4])
        return found if found is not None else self._tf_floor.get(col)

    def _register_tf(self, backend: _Backend, linker: Linker, *tables: pd.DataFrame) -> None:
        """The frequencies Splink joins on, of the values `tables` hold: those known, and those never
        seen as `frequency` gives them (as the real-time path does). Only the values scored: the
        model's lookups hold every name and date of the population (a batch's scoring handed Splink,
        and Spark's driver, the whole vocabulary of a million persons for a thousand records)."""
        for col in TF_COLUMNS:
            values = {str(v) for t in tables for v in t[col].dropna().unique().tolist()}
            found = {v: f for v in values if (f := self.frequency(col, v)) is not None}
            lookup = pd.DataFrame({col: pd.Series(list(found), dtype="object"),
                                   f"tf_{col}": pd.Series(list(found.values()), dtype="float64")})
            registered = self._register(backend, lookup, f"hoso_tf_{col}")
            linker.table_management.register_term_frequency_lookup(registered, col)

    @cached_property
    def blocking_columns(self) -> list[tuple[str, ...]] | None:
        """Each prediction blocking rule as the columns it requires equal (`l.x = r.x AND ...`); None
        when a rule says anything else, and Splink blocks."""
        rules = []
        for rule in self.settings.get("blocking_rules_to_generate_predictions", []):
            text = rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
            try:
                tree = sqlglot.parse_one(text, read="duckdb")
            except sqlglot.errors.ParseError:
                return None
            columns = []
            tree = tree.unnest()
            for node in tree.flatten() if isinstance(tree, exp.And) else [tree]:
                part = node.unnest()
                if not (isinstance(part, exp.EQ) and isinstance(part.this, exp.Column)
                        and isinstance(part.expression, exp.Column) and part.this.name == part.expression.name
                        and {part.this.table, part.expression.table} == {"l", "r"}):
                    return None
                columns.append(part.this.name)
            rules.append(tuple(columns))
        return rules or None

    def _small(self, *tables: pd.DataFrame) -> bool:
        """Whether `tables` (the new records last) are scored in Python: a batch of at most `SMALL_BATCH`
        new records, a model that compiles and rules that are plain equalities."""
        return (self.spark is None and 0 < len(tables[-1]) <= SMALL_BATCH and self.blocking_columns is not None
                and self.compiled is not None)

    def _scored_in_python(self, pairs: list[tuple[dict[str, Any], dict[str, Any]]], threshold: float) -> pd.DataFrame:
        """The pairs scored by the compiled model, as the batch paths give them: weights as JSON text,
        those under `threshold` left out, ordered by their ids."""
        rows = []
        for left, right in pairs:
            (scored,) = self.compare(left, [right])
            if scored.match_probability >= threshold:
                rows.append((scored.unique_id_l, scored.unique_id_r, scored.match_probability, scored.match_weight,
                             json.dumps(scored.weights, separators=(",", ":"))))
        frame = pd.DataFrame(rows, columns=PAIR_COLUMNS)
        frame["weights"] = frame["weights"].astype(object)
        return frame.sort_values(["unique_id_l", "unique_id_r"], kind="stable").reset_index(drop=True)

    def _blocked(self, left: list[dict[str, Any]], right: list[dict[str, Any]],
                 within: bool) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The pairs of a left and a right record (within one table: each pair once, the smaller id on
        the left, as Splink deduplicates) that some blocking rule proposes: its columns all equal, none
        missing."""
        rules = self.blocking_columns or []
        by_key: dict[tuple[int, tuple[Any, ...]], list[int]] = {}
        for n, record in enumerate(right):
            for r, columns in enumerate(rules):
                key = tuple(record.get(c) for c in columns)
                if None not in key:
                    by_key.setdefault((r, key), []).append(n)
        seen: set[tuple[str, str]] = set()
        out = []
        for record in left:
            for r, columns in enumerate(rules):
                key = tuple(record.get(c) for c in columns)
                if None in key:
                    continue
                for n in by_key.get((r, key), ()):
                    other = right[n]
                    a, b = (record, other)
                    if within:
                        if a["unique_id"] == b["unique_id"]:
                            continue
                        if str(a["unique_id"]) > str(b["unique_id"]):
                            a, b = b, a
                    ids = (str(a["unique_id"]), str(b["unique_id"]))
                    if ids not in seen:
                        seen.add(ids)
                        out.append((a, b))
        return out

    def within(self, table: pd.DataFrame, threshold: float) -> pd.DataFrame:
        """Score the pairs blocking proposes among the records of `table`; their weights come as JSON
        text (the form they are stored in)."""
        if len(table) < 2:
            return pd.DataFrame(columns=PAIR_COLUMNS)
        if self._small(table):
            records = _plain_records(table)
            return self._scored_in_python(self._blocked(records, records, within=True), threshold)
        with self._backend() as backend:
            records = self._register(backend, table, "hoso_records")
            linker = Linker(records, self.settings, log_level=logging.WARNING)
            self._register_tf(backend, linker, table)
            predictions = linker.inference.predict_within(records, threshold_match_probability=threshold,
                                                          warning_mode="never")
            return self._batch_pairs(predictions, backend.con)

    def between(self, existing: pd.DataFrame, new: pd.DataFrame, threshold: float) -> pd.DataFrame:
        """Score pairs of an existing record and a new one (never two existing ones)."""
        if existing.empty or new.empty:
            return pd.DataFrame(columns=PAIR_COLUMNS)
        if self._small(existing, new):
            return self._scored_in_python(self._blocked(_plain_records(existing), _plain_records(new), within=False),
                                          threshold)
        with self._backend() as backend:
            left = self._register(backend, existing, "hoso_existing")
            right = self._register(backend, new, "hoso_new")
            linker = Linker([left], self.settings, log_level=logging.WARNING)
            self._register_tf(backend, linker, existing, new)
            predictions = linker.inference.predict_between(left, right, threshold_match_probability=threshold,
                                                           warning_mode="never")
            return self._batch_pairs(predictions, backend.con)

    @staticmethod
    def _batch_pairs(predictions: Any, con: duckdb.DuckDBPyConnection | None) -> pd.DataFrame:
        if con is None:  # Spark
            return _pairs_as_json(predictions.as_pandas_dataframe())
        return _pairs_in_duckdb(con, predictions.physical_name)

    def compare(self, record: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]],
                weights: bool = True) -> list[ScoredPair]:
        """Score one record against candidate records (the real-time path) with the compiled model:
        the same numbers as `compare_sql`, in Python (a fraction of a millisecond for a few dozen
        candidates, against a few milliseconds for one DuckDB execution). Without `weights`, the
        pairs come without the weight of each comparison (ranking candidates needs only the total)."""
        compiled = self.compiled
        if compiled is None:
            raise NotCompilable("this model does not compile: score with compare_sql")
        left = self._with_tf(record)
        names = {comparison.name for comparison in compiled.comparisons}
        weight_names = [c for c in WEIGHT_COLUMNS if c in names]
        out = []
        for candidate in candidates:
            right = self._with_tf(candidate)
            if weights:
                probability, total, each = compiled.score(left, right)
                shown = {name: round(each[name], 3) for name in weight_names}
            else:
                total = compiled.match_weight(left, right)
                probability, shown = match_probability(total), {}
            out.append(ScoredPair(str(record["unique_id"]), str(candidate["unique_id"]), probability, total, shown))
        return out

    def explain(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[float, float, float,
                                                                              list[tuple[str, str, float]]]:
        """One pair as a reviewer reads it: (prior weight, match weight, probability, and for each
        comparison its name, the label of its level and its weight), with the compiled model."""
        compiled = self.compiled
        if compiled is None:
            raise NotCompilable("this model does not compile: its pairs cannot be explained level by level")
        a, b = self._with_tf(left), self._with_tf(right)
        steps = compiled.explain(a, b)
        total = compiled.prior_weight + sum(weight for _, _, weight in steps)
        return compiled.prior_weight, total, match_probability(total), steps

    def compare_sql(self, record: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]],
                    con: duckdb.DuckDBPyConnection) -> list[ScoredPair]:
        """Score one record against candidate records with Splink's SQL on `con`.

        Splink's `compare_records` generates the scoring SQL for this model once; each connection
        prepares it over a small table, so a call costs one insert and one execution of a cached plan.
        """
        if not candidates:
            return []
        rows = [self._rt_row("l", record), *(self._rt_row("r", c) for c in candidates)]
        self._prepare(con)
        batch = pa.Table.from_pylist(rows, schema=self._rt_schema)  # noqa: F841 (read by DuckDB by name)
        con.execute("DELETE FROM hoso_rt_all")
        con.execute("INSERT INTO hoso_rt_all SELECT * FROM batch")
        result = con.execute("EXECUTE hoso_rt_score")
        columns = [d[0] for d in result.description or []]
        pairs = _pairs(pd.DataFrame(result.fetchall(), columns=columns))
        return [ScoredPair(str(a), str(b), float(p), float(w), dict(ws))
                for a, b, p, w, ws in pairs[PAIR_COLUMNS].itertuples(index=False)]

    def _rt_row(self, side: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A row of the SQL path's table: every linkage column, then the term frequencies."""
        return {"hoso_side": side, **{col: record.get(col) for col in LINKAGE_COLUMNS},
                **self._term_frequencies(record)}

    def _with_tf(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `record` with its term frequencies (the compiled model's row)."""
        return {**record, **self._term_frequencies(record)}

    def _term_frequencies(self, record: Mapping[str, Any]) -> dict[str, float | None]:
        """The `tf_` column of each term-frequency column: its value's frequency (the least known
        frequency for a value never seen)."""
        out: dict[str, float | None] = {}
        for col in TF_COLUMNS:
            value = record.get(col)
            out[f"tf_{col}"] = None if value is None else self.frequency(col, value)
        return out

    def _prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        prepared: set[int] = self._rt_prepared
        if id(con) in prepared:
            return
        sql = self._realtime_sql()
        columns = ", ".join(f"{f.name} {_DUCK_TYPES[f.type]}" for f in self._rt_schema)
        con.execute(f"CREATE OR REPLACE TEMP TABLE hoso_rt_all ({columns})")
        con.execute("CREATE OR REPLACE TEMP VIEW hoso_rt_left AS SELECT * EXCLUDE (hoso_side) FROM hoso_rt_all "
                    "WHERE hoso_side = 'l'")
        con.execute("CREATE OR REPLACE TEMP VIEW hoso_rt_right AS SELECT * EXCLUDE (hoso_side) FROM hoso_rt_all "
                    "WHERE hoso_side = 'r'")
        # The query is a cross product of one record with a few dozen: nothing for the optimizer to
        # gain, and with it on DuckDB spends ~8 ms re-optimising the 15 kB statement at every
        # EXECUTE (measured: 10.3 ms per call with it, 2.9 ms without). These connections score
        # only this statement.
        con.execute("PRAGMA disable_optimizer")
        con.execute(f"PREPARE hoso_rt_score AS {sql}")
        prepared.add(id(con))

    def _realtime_sql(self) -> str:
        if self._rt_sql is None:
            probe = self._rt_row("l", {"unique_id": "a"})
            probe.pop("hoso_side")
            other = {**probe, "unique_id": "b"}
            con = duckdb.connect()
            try:
                frame = pa.Table.from_pylist([other], schema=self._rt_schema.remove(0))
                result = compare_records(probe, frame, self.settings, DuckDBAPI(connection=con))
                sql = result.sql_used_to_create
            finally:
                con.close()
            sql = re.sub(r"__splink__compare_records_left_\w+", "hoso_rt_left", sql)
            self._rt_sql = re.sub(r"__splink__compare_records_right_\w+", "hoso_rt_right", sql)
        return self._rt_sql
