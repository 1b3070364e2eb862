"""Writing a whole database with `neo4j-admin database import full` instead of through Bolt.

`ImportFiles` collects CSV files in the layout the import tool reads: one header file per node label
and relationship type (`uid:ID(SourceRecord),name:string,birth_year:long,...`) and any number of body
files after it. Bodies are written with pyarrow from columns, so a million rows cost about a second:
strings are always quoted and a missing value is an empty field, which the tool reads as "no
property" (an empty string stays an empty string). Lists are joined with `ARRAY_DELIMITER`.

`carried_content` copies what an empty graph may already hold besides the reference data (accounts,
the audit trail, webhooks...) into the same files, with their labels and typed properties, so that an
import replaces the database without losing them. `import_database` stops the managed server, keeps a
dump of the database as it was, imports, and loads that dump back if the import fails.

    files = ImportFiles(folder)
    files.nodes("Person", "person_id", {"status": "string"}, [{"person_id": "P1", "status": "active"}])
    files.relationships("LINKED_TO", "SourceRecord", "Person", {"state": "string"},
                        [{"start": "pop|1", "end": "P1", "state": "MATCH"}])
    import_database(server, "neo4j", files)
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from neo4j import Driver
from neo4j.time import Date, DateTime, Duration, Time

from graph.errors import Neo4jServerError
from graph.queries import default_registry
from graph.server import ManagedNeo4j
from graph.values import plain

log = logging.getLogger(__name__)

ARRAY_DELIMITER = "|"
# How each property type of the import tool's header is held in the CSV body: text the tool parses.
_ARROW = {"string": pa.string(), "long": pa.int64(), "double": pa.float64(), "boolean": pa.bool_(),
          "date": pa.string(), "datetime": pa.string(), "localdatetime": pa.string(), "time": pa.string(),
          "localtime": pa.string(), "duration": pa.string()}
CARRIED = "Carried"  # the id space of the nodes an import carries over from the graph it replaces


class ImportRefused(ValueError):
    """A value the import files cannot hold as Bolt would have stored it (the message says which)."""


Rows = Iterable[Mapping[str, Any]] | Mapping[str, list[Any]]


@dataclass
class _Group:
    """One label's (or relationship type's) header and the bodies written for it, each with its tag."""

    name: str
    kind: str
    header: Path
    columns: dict[str, str]
    bodies: list[tuple[Path, str | None]] = field(default_factory=list)


def _take(values: Any, picked: np.ndarray) -> Any:
    """The values at positions `picked` of a column (a list, a numpy array or a pandas Series)."""
    if isinstance(values, list):
        return [values[i] for i in picked.tolist()]
    if hasattr(values, "iloc"):
        return values.iloc[picked]
    return values[picked]


def _holds_line_break(array: pa.StringArray) -> bool:
    """Whether some string of `array` holds a line break: the bytes of its characters searched at once
    (a comparison per string took 4 s of a million persons' files)."""
    _, offsets, data = array.buffers()
    if not len(array) or data is None:
        return False
    bounds = np.frombuffer(offsets, dtype=np.int32)[[array.offset, array.offset + len(array)]]
    raw = memoryview(data)[int(bounds[0]):int(bounds[1])].tobytes()
    return b"\n" in raw or b"\r" in raw


class ImportFiles:
    """CSV files for `neo4j-admin database import full`, written a part at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._groups: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Group] = {}
        self._rows: dict[tuple[str, str, str | None], int] = {}
        self.multiline = False

    def nodes(self, label: str, key: str | None, columns: Mapping[str, str], rows: Rows, tag: str | None = None,
              space: str | None = None) -> int:
        """Write nodes of `label` (labels joined by `:`), each identified by its property `key` in the id
        space `space` (the label by default; `key` empty: an id the node does not keep; None: no id, a node
        nothing points to). `columns` maps each other property to its type (`string`, `long`, `datetime`,
        `string[]`, or `number`: `long` or `double` as each value is, as Bolt would store it)."""
        head = {} if key is None else {f"{key}:ID({space or label})": "id"}
        return self._write("nodes", label, {**head, **columns}, rows, key, tag)

    def relationships(self, rel_type: str, start: str, end: str, columns: Mapping[str, str], rows: Rows,
                      tag: str | None = None) -> int:
        """Write relationships of `rel_type` from `row["start"]` (id space `start`) to `row["end"]`."""
        head = {f":START_ID({start})": "start", f":END_ID({end})": "end"}
        return self._write("relationships", rel_type, {**head, **columns}, rows, None, tag)

    def _write(self, kind: str, name: str, columns: dict[str, str], rows: Rows, key: str | None,
               tag: str | None) -> int:
        """Rows are dicts, or one dict of equally long columns."""
        if isinstance(rows, Mapping):
            data: dict[str, list[Any]] = dict(rows)
            count = len(next(iter(data.values()))) if data else 0
        else:
            listed = list(rows)
            count = len(listed)
            data = {}
            for column, kind_of in columns.items():
                source = {"id": key, "start": "start", "end": "end"}.get(kind_of, column)
                data[source or ""] = [row.get(source or "") for row in listed]
        if not count:
            return 0
        values_of = {c: data.get({"id": key, "start": "start", "end": "end"}.get(t, c) or "", [None] * count)
                     for c, t in columns.items()}
        numbers = [c for c, t in columns.items() if t == "number"]
        if numbers:  # one part per combination of long and double among the number columns
            self._parts_by_number_kind(kind, name, columns, numbers, values_of, count, tag)
            return count
        self._part(kind, name, columns, values_of, tag)
        return count

    def _parts_by_number_kind(self, kind: str, name: str, columns: dict[str, str], numbers: list[str],
                              values_of: dict[str, Any], count: int, tag: str | None) -> None:
        """Write rows whose number columns hold integers (longs) and floats (doubles): a column of one
        kind (missing values aside) is typed as such for every row; only rows of a column holding both
        are parted, one part per combination."""
        typed: dict[str, str] = {}
        mixed: dict[str, np.ndarray] = {}
        for column in numbers:
            values = values_of[column]
            floats = np.fromiter((isinstance(v, float) for v in values), bool, count)
            present = np.fromiter((v is not None for v in values), bool, count)
            if floats.all() or not (present & ~floats).any():
                typed[column] = "double"
            elif not floats.any():
                typed[column] = "long"
            else:
                mixed[column] = floats
        code = np.zeros(count, dtype=np.int64)
        for bit, floats in enumerate(mixed.values()):
            code |= floats.astype(np.int64) << bit
        combinations = {tuple("double" if c >> bit & 1 else "long" for bit in range(len(mixed))): c
                        for c in np.unique(code).tolist()}
        for combination in sorted(combinations):
            resolved = {c: typed.get(c) or dict(zip(mixed, combination, strict=True)).get(c, t)
                        for c, t in columns.items()}
            if len(combinations) == 1:  # every row alike: the columns as they are
                self._part(kind, name, resolved, values_of, tag)
                continue
            picked = np.flatnonzero(code == combinations[combination])
            self._part(kind, name, resolved, {c: _take(v, picked) for c, v in values_of.items()}, tag)

    def _part(self, kind: str, name: str, columns: dict[str, str], values_of: dict[str, Any],
              tag: str | None) -> None:
        signature = (kind, name, tuple(columns.items()))
        group = self._groups.get(signature)
        if group is None:
            header = self.folder / f"{kind}-{len(self._groups):03d}-header.csv"
            names = [c if t in ("id", "start", "end") else f"{c}:{t}" for c, t in columns.items()]
            header.write_text(",".join(names) + "\n", encoding="utf-8")
            group = self._groups[signature] = _Group(name, kind, header, dict(columns))
        arrays = {column: self._array(f"{name}.{column}", kind_of, values_of[column])
                  for column, kind_of in columns.items()}
        body = self.folder / f"{group.header.stem.removesuffix('-header')}-{len(group.bodies):05d}.csv"
        pacsv.write_csv(pa.table(arrays), body, pacsv.WriteOptions(include_header=False))
        group.bodies.append((body, tag))
        rows = len(next(iter(values_of.values())))
        self._rows[(kind, name, tag)] = self._rows.get((kind, name, tag), 0) + rows

    def _array(self, where: str, kind: str, values: list[Any]) -> pa.Array:
        if kind.endswith("[]"):
            joined: list[str | None] = []
            for value in values:
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    joined.append(None)
                    continue
                texts = [str(v) for v in value]
                if not texts:
                    raise ImportRefused(f"{where}: an empty list, which the import files cannot hold")
                if any(ARRAY_DELIMITER in t for t in texts):
                    raise ImportRefused(f"{where}: the list value {value!r} holds {ARRAY_DELIMITER!r}, the "
                                        "import files' list delimiter")
                joined.append(ARRAY_DELIMITER.join(texts))
            values, kind = joined, "string"
        try:
            array = pa.array(values, type=pa.string() if kind in ("id", "start", "end") else _ARROW[kind],
                             from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ImportRefused(f"{where}: a value is not a {kind}: {exc}") from None
        if pa.types.is_string(array.type) and not self.multiline and _holds_line_break(array):
            self.multiline = True
        return array

    def adopt(self, other: ImportFiles) -> None:
        """Take over the files `other` wrote (in its own folder, e.g. in another process)."""
        for signature, group in other._groups.items():
            if (mine := self._groups.get(signature)) is None:
                self._groups[signature] = group
            else:
                mine.bodies.extend(group.bodies)
        for key, rows in other._rows.items():
            self._rows[key] = self._rows.get(key, 0) + rows
        self.multiline = self.multiline or other.multiline

    def drop(self, tag: str) -> None:
        """Forget every body written with `tag` (a batch set aside half-way)."""
        for group in self._groups.values():
            for body, body_tag in [b for b in group.bodies if b[1] == tag]:
                body.unlink(missing_ok=True)
                group.bodies.remove((body, body_tag))
        self._rows = {k: v for k, v in self._rows.items() if k[2] != tag}

    def counts(self) -> dict[str, int]:
        """How many nodes and relationships the files hold."""
        out = {"nodes": 0, "relationships": 0}
        for (kind, _, _), rows in self._rows.items():
            out[kind] += rows
        return out

    def arguments(self) -> list[str]:
        """The `--nodes=...` and `--relationships=...` options of the import command."""
        out = []
        for group in self._groups.values():
            if group.bodies:
                files = ",".join(str(p) for p in [group.header, *(b for b, _ in group.bodies)])
                out.append(f"--{group.kind}={group.name}={files}")
        return out


def neo4j_type(value: Any) -> str | None:
    """The import tool's type of a value read through Bolt (None: a value the files do not carry)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, DateTime):
        return "datetime" if value.tzinfo is not None else "localdatetime"
    if isinstance(value, Date):
        return "date"
    if isinstance(value, Time):
        return "time" if value.tzinfo is not None else "localtime"
    if isinstance(value, Duration):
        return "duration"
    if isinstance(value, list) and value:
        inner = {neo4j_type(v) for v in value}
        if len(inner) == 1 and (only := inner.pop()) is not None and not only.endswith("[]"):
            return f"{only}[]"
    return None


def carried_content(driver: Driver, database: str, files: ImportFiles, dropped: set[str]) -> int:
    """Write every node of the graph that has none of the labels `dropped`, and every relationship between
    two such nodes, into `files` (id space `Carried`); returns how many nodes. Refuses a graph where such a
    node is tied to a dropped one, or holds a value the files cannot carry (an empty list, a point)."""
    queries = default_registry()
    tied = queries.read(driver, "system/ties_to_labels", database=database, labels=sorted(dropped))[0]["ties"]
    if tied:
        raise ImportRefused(f"{tied} relationships tie the graph's other nodes to {', '.join(sorted(dropped))}")
    carried = 0
    for group in _grouped(queries.read(driver, "system/nodes_without_labels", database=database,
                                       labels=sorted(dropped)), "labels"):
        labels, columns, rows = group
        files.nodes(labels, "", columns, rows, space=CARRIED)  # the id: the node's element id
        carried += len(rows)
    for rel_type, columns, rows in _grouped(queries.read(driver, "system/relationships_without_labels",
                                                         database=database, labels=sorted(dropped)), "type"):
        files.relationships(rel_type, CARRIED, CARRIED, columns, rows)
    return carried


def _grouped(records: list[Any], by: str) -> Iterable[tuple[str, dict[str, str], list[dict[str, Any]]]]:
    """Rows grouped by label set (or type) and the types of their properties (a group per signature)."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = {}
    for record in records:
        props = dict(record["props"])
        signature = []
        for name, value in sorted(props.items()):
            kind = neo4j_type(value)
            if kind is None:
                raise ImportRefused(f"property {name} of a {record[by]} holds {value!r}, which an import cannot carry")
            signature.append((name, kind))
        name = ":".join(sorted(record[by])) if by == "labels" else record[by]
        row = {k: plain(v) for k, v in props.items()} | {"start": record.get("start"), "end": record.get("end"),
                                                          "": record.get("id")}
        groups.setdefault((name, tuple(signature)), []).append(row)
    for (group_name, types), rows in groups.items():
        yield group_name, dict(types), rows


def import_options(files: ImportFiles) -> list[str]:
    """The import tool's options for `files`: replace the database, refuse any bad entry."""
    return ["--overwrite-destination=true", f"--array-delimiter={ARRAY_DELIMITER}",
            f"--multiline-fields={str(files.multiline).lower()}", "--skip-bad-relationships=false",
            "--skip-duplicate-nodes=false", f"--report-file={files.folder / 'import.report'}", *files.arguments()]


def import_database(server: ManagedNeo4j, database: str, files: ImportFiles,
                    progress: Callable[[str], None] = lambda _: None) -> float:
    """Replace `database` of the managed server by the import of `files`: the server is stopped, the
    database dumped (so that a failed import puts it back), imported, and the server started again.
    Returns the seconds the import tool took."""
    backup = files.folder / "before"
    progress("stopping Neo4j for the import")
    server.stop()
    try:
        try:
            server.dump(database, backup)
        except Neo4jServerError:
            shutil.rmtree(backup, ignore_errors=True)  # no import was tried: nothing to put back
            raise
        progress(f"importing {files.counts()['nodes']:,} nodes and {files.counts()['relationships']:,} "
                 "relationships with neo4j-admin")
        began = time.perf_counter()
        try:
            server.admin("database", "import", "full", database, *import_options(files))
        except Neo4jServerError:
            log.error("the import failed: putting the database back as it was")
            server.load(database, backup)  # should this fail too, the dump stays where it is
            shutil.rmtree(backup, ignore_errors=True)
            raise
        shutil.rmtree(backup, ignore_errors=True)
        return time.perf_counter() - began
    finally:
        server.start()
