"""The linked records with their blocking keys, so that a new batch meets only its candidates.

Incremental linking scores new records against the records blocking would pair them with. Those are
the records that share, with some new record, every column of one blocking rule (`BLOCKING_KEYS`:
Splink's `block_on` joins on equal, non-null values). `RecordIndex.candidates` finds them with one
semi-join per rule in a DuckDB file (`DATA/linkage/records.duckdb`), so scoring a batch against them
gives exactly the pairs that scoring it against every record would, at a cost that follows the batch.

The index is a cache. The standardised tables of the linked batches are the truth, and the index
holds them as `linkage.pipeline.load_tables` reads them: a record that came in several batches keeps
the version of the batch that comes last in the batches' order (its `rank`), and rows come in that
order, whatever order the batches were added in. `sync` adds the batches linked since the index was
last written: a crash between the graph's write and the index's is the ordinary case of a batch to
add. It rebuilds the index from the tables when the index holds a batch that is no longer linked (set
aside after linking, a restored backup), or was written by a HoSo whose columns differ, or is lost.

    index = RecordIndex(data_dir)
    index.sync(ranks, load=lambda b: standardised(data_dir, b))   # ranks: linked batch -> its rank
    existing = index.candidates(new)         # LINKAGE_COLUMNS rows, in the batches' order
    index.add(batch_id, rank, table)         # once the graph holds the batch's links
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.matching.model import BLOCKING_KEYS
from linkage.standardize import LINKAGE_COLUMNS

log = logging.getLogger(__name__)

_TYPES = {"birth_year": "BIGINT", "pid_ok": "BOOLEAN", "placeholder_name": "BOOLEAN"}
_NAME_AND_BIRTH = ("family_fold", "middle_fold", "given_fold", "birth_date")
# Written into the file: a change of the columns or of their meaning rebuilds the index.
_LAYOUT = json.dumps({"columns": LINKAGE_COLUMNS, "types": _TYPES, "version": 2})


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The one value `sql` returns (the result read to its end, as DuckDB wants before the next
    statement), or None when it returns no row."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


@contextmanager
def _borrowed(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A kept connection for one `with` block: left open after it, its transaction rolled back when
    the block fails (a connection of its own would have been closed, and the transaction with it)."""
    try:
        yield con
    except BaseException:
        with suppress(duckdb.Error):  # no transaction was open
            con.execute("ROLLBACK")
        raise


def _constant(value: Any) -> Any:
    """A probe's value as a query parameter: numpy's scalars as Python's, a whole float as an int (a
    birth year read through a column with missing values)."""
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _column_sql() -> str:
    return ", ".join(f"{c} {_TYPES.get(c, 'VARCHAR')}" for c in LINKAGE_COLUMNS)


def _python_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column of DuckDB's result as Python values, None for a missing one, each distinct value one
    object: a sex, a commune or a family name is the same string in every row that holds it (a fifth
    of the cells of a batch's candidates are distinct values). Taken from Arrow's dictionary of the
    column, so no row's value is ever made twice (a string per cell took 80 MB for 45,000 rows)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    values = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last one None, for a missing value
    values[:-1] = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return values[codes]


def _as_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as a frame of Python values (`_python_values`), column for column."""
    return pd.DataFrame({name: _python_values(table.column(name)) for name in table.column_names})


def as_linkage_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The index's rows (`_fetched`) as the pipeline's tables hold them: the linkage columns, Python
    values, None for a missing one."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in LINKAGE_COLUMNS})
    return frame[LINKAGE_COLUMNS].reset_index(drop=True)


# What the record index's connection may hold. Its lookups scan the blocking keys of every record held
# and fetch the rows found, streaming; what DuckDB keeps beyond that is a cache of the table's blocks,
# which would grow with the population up to the limit (145 MB of 2.1 million records at a million
# persons; at 2.5 GB, a nation's index would fill it). Capped, a batch's lookups took as long there
# (0.7–0.8 s for 1,000 records, 0.26 s for one) and a link's peak memory stops following the index.
RECORD_INDEX_MEMORY_LIMIT = "256MB"
# A probe of at most this many records finds its candidates in one scan with its keys as constants.
ONE_SCAN_RECORDS = 1
# Fetching the rows a lookup found reads every column of every block (the rows are spread over the
# whole table), so that step runs under a smaller limit: the blocks stream through instead of staying
# cached (every column of 2.1 million records is 145 MB), and the blocking keys' blocks the first step
# cached are let go. The limit grows with the rows fetched, up to the index's own. (The first step,
# the semi-joins, needs its hash tables: under that limit a batch of a few thousand records ran out.)
FETCH_MEMORY_FLOOR_MB = 64
FETCH_MEMORY_PER_ROW_KB = 2


def _megabytes(limit: str) -> int | None:
    """A DuckDB memory limit such as "256MB" or "2.5GB" in megabytes (None when it is written otherwise)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([MG])i?B\s*", limit, re.IGNORECASE)
    if match is None:
        return None
    return int(float(match.group(1)) * (1024 if match.group(2).upper() == "G" else 1))


class RecordIndex:
    """The standardised rows of the linked records, each with its batch's rank and its row in the batch."""

    def __init__(self, data_dir: Path, memory_limit: str = RECORD_INDEX_MEMORY_LIMIT) -> None:
        self.path = data_dir / "linkage" / "records.duckdb"
        self.memory_limit = memory_limit
        self._keeping = False
        self._kept: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def kept_open(self) -> Iterator[RecordIndex]:
        """One connection for every read and write in the block: a link makes about ten, and opening
        the file costs about 20 ms each (a third of scoring one record). Outside such a block each
        call opens and closes its own."""
        self._keeping = True
        try:
            yield self
        finally:
            self._keeping = False
            self._close_kept()

    def _close_kept(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()

    def _connect(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        if not self._keeping:
            return self._open()
        if self._kept is None:
            self._kept = self._open()
        return _borrowed(self._kept)

    def _open(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path), config={"memory_limit": self.memory_limit})
        con.execute(f"CREATE TABLE IF NOT EXISTS records (rank VARCHAR, row BIGINT, {_column_sql()})")
        con.execute("CREATE TABLE IF NOT EXISTS batches (batch_id VARCHAR, rank VARCHAR, records BIGINT)")
        con.execute("CREATE TABLE IF NOT EXISTS layout (layout VARCHAR)")
        return con

    def batches(self) -> list[str]:
        """The batches the index holds, in their order (empty when there is no index)."""
        if not self.path.exists():
            return []
        with self._connect() as con:
            return [row[0] for row in con.execute("SELECT batch_id FROM batches ORDER BY rank").fetchall()]

    def sync(self, ranks: dict[str, str], load: Callable[[str], pd.DataFrame]) -> None:
        """Make the index hold exactly the batches of `ranks` (each linked batch with its rank): add the
        ones it lacks, or rebuild it when it holds one that is not there or was written otherwise."""
        held = set(self.batches())
        with self._connect() as con:
            usable = _scalar(con, "SELECT layout FROM layout") == _LAYOUT
        if not usable or not held <= set(ranks):
            log.info("rebuilding the record index from %d linked batches", len(ranks))
            self.rebuild(ranks, load)
            return
        for batch_id in sorted(set(ranks) - held, key=ranks.__getitem__):
            self.add(batch_id, ranks[batch_id], load(batch_id))

    def rebuild(self, ranks: dict[str, str], load: Callable[[str], pd.DataFrame]) -> None:
        """Write the index anew from the batches' tables, into a new file that replaces the old one
        only when it is complete."""
        final = self.path
        building = final.with_name(final.name + ".building")
        building.unlink(missing_ok=True)
        keeping = self._keeping  # the file is replaced: a connection kept to it must not outlive it
        self._close_kept()
        self._keeping = False
        self.path = building
        try:
            with self._connect() as con:
                con.execute("INSERT INTO layout VALUES (?)", [_LAYOUT])
            for batch_id in sorted(ranks, key=ranks.__getitem__):
                self.add(batch_id, ranks[batch_id], load(batch_id))
        finally:
            self.path = final
            self._keeping = keeping
        os.replace(building, final)
        final.with_name(building.name + ".wal").unlink(missing_ok=True)

    def add(self, batch_id: str, rank: str, table: pd.DataFrame) -> None:
        """Add one linked batch's records. A record held already keeps the version of the batch of the
        higher rank (the newest: the one linking reads). Adding a batch held already does nothing."""
        with self._connect() as con:
            if _scalar(con, "SELECT count(*) FROM batches WHERE batch_id = ?", [batch_id]):
                return
            if not _scalar(con, "SELECT count(*) FROM layout"):
                con.execute("INSERT INTO layout VALUES (?)", [_LAYOUT])
            rows = table[LINKAGE_COLUMNS].reset_index(drop=True)
            rows = rows.assign(hoso_row=range(len(rows))).drop_duplicates("unique_id", keep="last")
            con.register("rows", rows)
            casts = ", ".join(f"CAST({c} AS {_TYPES.get(c, 'VARCHAR')})" for c in LINKAGE_COLUMNS)
            con.execute("BEGIN")
            con.execute("DELETE FROM records WHERE rank < ? AND unique_id IN (SELECT unique_id FROM rows)", [rank])
            # Column names and types from this module; the rows come as a registered table.
            # The records held found by a semi-join first: `NOT IN (SELECT unique_id FROM records)` hashed
            # every record held (0.1 s for one new record at 2.1 million).
            con.execute(f"INSERT INTO records SELECT ?, hoso_row, {casts} FROM rows "  # noqa: S608
                        "ANTI JOIN (SELECT unique_id FROM records SEMI JOIN rows USING (unique_id)) held "
                        "USING (unique_id)", [rank])
            con.execute("INSERT INTO batches VALUES (?, ?, ?)", [batch_id, rank, len(rows)])
            con.execute("COMMIT")

    def count(self) -> int:
        """How many records the index holds."""
        if not self.path.exists():
            return 0
        with self._connect() as con:
            return int(_scalar(con, "SELECT count(*) FROM records"))

    def source_counts(self) -> dict[str, int]:
        """How many records of each source kind the index holds."""
        if not self.path.exists():
            return {}
        with self._connect() as con:
            rows = con.execute("SELECT source, count(*) FROM records WHERE source IS NOT NULL "
                               "GROUP BY source").fetchall()
            return {r[0]: int(r[1]) for r in rows}

    def held(self, uids: Iterable[str]) -> set[str]:
        """Those of `uids` the index holds."""
        wanted = pd.DataFrame({"unique_id": list(uids)})
        if not self.path.exists() or wanted.empty:
            return set()
        with self._connect() as con:
            con.register("wanted", wanted)
            return {r[0] for r in con.execute(
                "SELECT unique_id FROM records SEMI JOIN wanted USING (unique_id)").fetchall()}

    def candidates(self, new: pd.DataFrame) -> pd.DataFrame:
        """The records held that share every column of some blocking rule with a record of `new`
        (non-null and equal), oldest first: all the records blocking can pair a new record with. Their
        columns stay Arrow's (pandas' `ArrowDtype`, missing values NA): scoring hands them to DuckDB or
        Spark as they are, and a Python object per value would be most of a batch's memory (70 MB for
        the 50,000 candidates of 1,000 records at a million persons)."""
        if not self.path.exists() or new.empty:
            return as_linkage_frame(pd.DataFrame())
        keys = sorted({c for rule in BLOCKING_KEYS for c in rule})
        probe = new[keys].astype(object).where(new[keys].notna(), None)
        # A rule none of the new records can meet (a column empty in all of them) is not asked.
        rules = [rule for rule in BLOCKING_KEYS if probe[list(rule)].notna().all(axis=1).any()]
        if not rules:
            return as_linkage_frame(pd.DataFrame())
        # The rules' columns come from the model's BLOCKING_KEYS: no outside text in this SQL.
        if len(probe) <= ONE_SCAN_RECORDS:
            # One record (a citizen's self-report): its keys as constants, every rule in one scan of the
            # table, where a semi-join per rule scanned it 14 times (0.03–0.08 against 0.14 s at 2.1 million
            # records). With more records the conditions multiply and the semi-joins win (5 records:
            # 0.25 against 0.20 s).
            values = probe.iloc[0]
            found = "SELECT rowid AS id FROM records WHERE " + " OR ".join(  # noqa: S608
                "(" + " AND ".join(f"{c} = ?" for c in rule) + ")" for rule in rules)
            params = [_constant(values[c]) for rule in rules for c in rule]
        else:
            found = " UNION ".join(
                "SELECT r.rowid AS id FROM records r SEMI JOIN probe p ON "  # noqa: S608
                + " AND ".join(f"r.{c} = p.{c}" for c in rule) for rule in rules)
            params = None
        with self._connect() as con:
            if params is None:
                con.register("probe", probe)
            return as_linkage_frame(self._fetched(con, found, python=False, params=params))

    def _fetched(self, con: duckdb.DuckDBPyConnection, found: str, python: bool = True,
                 params: list[Any] | None = None) -> pd.DataFrame:
        """The rows of the table whose row ids `found` (with `params`) selects (as `id`), oldest first, as
        Python values (`python`) or Arrow's. The row ids come from the columns the query reads; the rows
        are then fetched whole under a smaller memory limit."""
        ids = pd.DataFrame({"id": con.execute(found, params).fetchnumpy()["id"]})
        if ids.empty:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in ["rank", "row", *LINKAGE_COLUMNS]})
        con.register("hoso_found", ids)
        try:
            with self._fetching(con, len(ids)):
                # Through Arrow: its strings are bytes in one buffer, made Python objects once per value.
                table = con.sql("SELECT * FROM records WHERE rowid IN (SELECT id FROM hoso_found) "
                                "ORDER BY rank, row").to_arrow_table()
                return _as_frame(table) if python else table.to_pandas(types_mapper=pd.ArrowDtype)
        finally:
            con.unregister("hoso_found")

    @contextmanager
    def _fetching(self, con: duckdb.DuckDBPyConnection, rows: int) -> Iterator[None]:
        """The connection's memory limit lowered while `rows` rows are fetched (FETCH_MEMORY_FLOOR_MB and
        FETCH_MEMORY_PER_ROW_KB a row, never above the index's own limit)."""
        limit = max(FETCH_MEMORY_FLOOR_MB, rows * FETCH_MEMORY_PER_ROW_KB // 1024)
        own = _megabytes(self.memory_limit)
        if own is not None and limit >= own:
            yield
            return
        con.execute(f"SET memory_limit = '{limit}MB'")
        try:
            yield
        finally:
            con.execute(f"SET memory_limit = '{self.memory_limit}'")

    def newborn_reference(self, new: pd.DataFrame) -> pd.DataFrame:
        """The records held that `linkage.standardize.place_newborns` may read for the newborns of
        `new`: the mothers by personal id, the mothers' own records of the same certificates, and every
        record with a mother's name and birth date (to tell whether she lives in one place only)."""
        newborn = new[new["placeholder_name"].astype(bool)]
        if not self.path.exists() or newborn.empty:
            return as_linkage_frame(pd.DataFrame())
        pids = pd.DataFrame({"pid": newborn["mother_pid"].dropna().astype(str).unique()})
        mother_uids = newborn["unique_id"].astype(str).str.replace(r":con\d+$", ":me", regex=True)
        uids = pd.DataFrame({"unique_id": mother_uids.unique()})
        mothers_in_batch = new[new["unique_id"].isin(set(mother_uids))][list(_NAME_AND_BIRTH)]
        with self._connect() as con:
            con.register("pids", pids)
            con.register("uids", uids)
            held = self._fetched(con, "SELECT rowid AS id FROM records WHERE personal_id IN (SELECT pid FROM pids) "
                                      "OR unique_id IN (SELECT unique_id FROM uids)")
            # place_newborns groups with dropna=False: a missing middle name is a value of the key too.
            names = pd.concat([mothers_in_batch, held[held["unique_id"].isin(set(mother_uids))][list(_NAME_AND_BIRTH)]],
                              ignore_index=True).drop_duplicates()
            con.register("names", names)
            same = " AND ".join(f"r.{c} IS NOT DISTINCT FROM n.{c}" for c in _NAME_AND_BIRTH)
            namesakes = self._fetched(con, f"SELECT r.rowid AS id FROM records r SEMI JOIN names n ON {same}")  # noqa: S608
        both = pd.concat([held, namesakes], ignore_index=True).drop_duplicates("unique_id").sort_values(["rank", "row"])
        return as_linkage_frame(both)

    def rows(self, uids: Iterable[str]) -> pd.DataFrame:
        """The records held of `uids`, oldest first."""
        wanted = pd.DataFrame({"unique_id": list(uids)})
        if not self.path.exists() or wanted.empty:
            return as_linkage_frame(pd.DataFrame())
        with self._connect() as con:
            con.register("wanted", wanted)
            found = "SELECT rowid AS id FROM records SEMI JOIN wanted USING (unique_id)"
            return as_linkage_frame(self._fetched(con, found))
