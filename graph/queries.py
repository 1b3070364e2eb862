"""The Cypher files of `graph/cypher/` and the one place that hands their text to the driver.

Each file holds one query and opens with comments: what it does (one or more lines), then its
parameters:

    // what the query does
    // params: $person_id, $limit        (or `// params: none`)

All files are read and checked when the registry is built: a file whose declared parameters differ
from the ones its text uses is refused then, not at first use. Schema files
(`schema/NNN_name.cypher`) hold several statements separated by `;` and are run by `graph.migrations`.

A write that changes persons declares `$feed_tx` and creates its change-feed events with
`pending: $feed_tx`; the registry supplies that parameter itself and, in the same transaction, numbers
the events (`feed/sequence`), so a change and its event commit together or not at all.

    registry = default_registry()
    records = registry.read(driver, "persons/get_profile", person_id="P1")
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, LiteralString, cast

from neo4j import READ_ACCESS, Driver, ManagedTransaction, Query, Record, Session, Transaction
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

from graph.errors import QueryFileError, QueryParameterError

CYPHER_DIR = Path(__file__).parent / "cypher"
SCHEMA_AREA = "schema"
_PARAM_LINE = re.compile(r"^//\s*params:\s*(?P<params>.*)$", re.IGNORECASE)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
READ_ATTEMPTS = 3
# Concurrent write transactions of a bulk load, one per core Neo4j has: the default of the setting
# HOSO_NEO4J_WRITERS, which the loaders are given.
WRITERS = 2
FEED_PARAM = "feed_tx"
FEED_SEQUENCE = "feed/sequence"


def _code_segments(text: str) -> Iterator[tuple[str, int]]:
    """Yield (char, index) for characters outside comments and string literals."""
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        yield ch, i
        i += 1


def used_parameters(text: str) -> frozenset[str]:
    """The `$names` a Cypher text uses, ignoring comments and string literals.

    >>> sorted(used_parameters("MATCH (p {id: $id}) // $not_this\\nRETURN '$nor_this', $limit"))
    ['id', 'limit']
    """
    names: set[str] = set()
    for ch, i in _code_segments(text):
        if ch != "$":
            continue
        if text.startswith("`", i + 1):
            end = text.find("`", i + 2)
            names.add(text[i + 2 : end])
            continue
        match = _IDENT.match(text, i + 1)
        if match:
            names.add(match.group(0))
    return frozenset(names)


def split_statements(text: str) -> list[str]:
    """Split a schema file on the `;` that end its statements (not those inside strings)."""
    cuts = [i for ch, i in _code_segments(text) if ch == ";"]
    parts, start = [], 0
    for cut in cuts:
        parts.append(text[start:cut])
        start = cut + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(text: str) -> str:
    return "".join(ch for ch, _ in _code_segments(text))


@dataclass(frozen=True)
class CypherQuery:
    """One query file: its name (`area/verb_noun`), what it does, its parameters and text."""

    name: str
    description: str
    params: frozenset[str]
    text: str
    path: Path


def parse_query_file(path: Path, root: Path = CYPHER_DIR) -> CypherQuery:
    """Read one `.cypher` file and check its header against its text."""
    name = path.relative_to(root).with_suffix("").as_posix()
    text = path.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines()]
    header_lines: list[str] = []
    for line in lines:
        if not line.startswith("//"):
            break
        header_lines.append(line)
    header = next((m for ln in header_lines if (m := _PARAM_LINE.match(ln))), None)
    description = " ".join(
        ln.lstrip("/").strip() for ln in header_lines if not _PARAM_LINE.match(ln)
    ).strip()
    if not description or header is None or not header_lines or _PARAM_LINE.match(header_lines[0]):
        raise QueryFileError(str(path), "must open with `// what it does` and `// params: ...`")
    declared_raw = header.group("params").strip()
    declared: set[str] = set()
    if declared_raw.lower() not in ("", "none"):
        for raw_item in declared_raw.split(","):
            item = raw_item.strip()
            if not item.startswith("$") or not _IDENT.fullmatch(item[1:]):
                raise QueryFileError(str(path), f"bad parameter {item!r} in the params line")
            declared.add(item[1:])
    used = used_parameters(text)
    if used != declared:
        missing = sorted(used - declared)
        unused = sorted(declared - used)
        raise QueryFileError(
            str(path), f"declared and used parameters differ (undeclared: {missing}, unused: {unused})"
        )
    if not _strip_comments(text).strip():
        raise QueryFileError(str(path), "holds no query")
    return CypherQuery(name=name, description=description, params=frozenset(declared), text=text, path=path)


class QueryRegistry:
    """Every query of a Cypher folder, checked at load time, and the runner that uses them."""

    def __init__(self, root: Path = CYPHER_DIR) -> None:
        self.root = root
        self.queries: dict[str, CypherQuery] = {}
        for path in sorted(root.rglob("*.cypher")):
            if path.relative_to(root).parts[0] == SCHEMA_AREA:
                continue
            query = parse_query_file(path, root)
            self.queries[query.name] = query

    def __contains__(self, name: str) -> bool:
        return name in self.queries

    def get(self, name: str) -> CypherQuery:
        """The query called `name`, or a KeyError naming the known areas."""
        try:
            return self.queries[name]
        except KeyError:
            raise KeyError(f"no Cypher query named {name!r} under {self.root}") from None

    @contextmanager
    def _naming(self, name: str) -> Iterator[None]:
        """Name the query's file on any error raised while it runs (as a note: the error keeps its type,
        so the driver still retries a transient one)."""
        try:
            yield
        except Exception as exc:
            exc.add_note(f"while running the Cypher query {name} ({self.get(name).path})")
            raise

    def _bind(self, name: str, params: Mapping[str, Any]) -> tuple[LiteralString, dict[str, Any]]:
        query = self.get(name)
        given = set(params) | ({FEED_PARAM} if FEED_PARAM in query.params else set())
        if given != query.params:
            raise QueryParameterError(
                f"query {name} takes {sorted(query.params)}, was given {sorted(given)}"
            )
        return cast(LiteralString, query.text), dict(params)

    def run(self, tx: ManagedTransaction | Transaction | Session, name: str, **params: Any) -> list[Record]:
        """Run `name` inside a transaction (or auto-commit session) and return all its records."""
        query, values = self._bind(name, params)
        if FEED_PARAM in self.get(name).params and FEED_PARAM not in values:
            values[FEED_PARAM] = feed_token(tx)
        with self._naming(name):
            return list(tx.run(query, values))

    def sequence_feed(self, tx: ManagedTransaction | Transaction) -> int:
        """Number the change-feed events this transaction created (the last statement of a transaction
        that changes persons: the sequence's lock is then held only until the commit, and the numbers
        follow the order of the commits). Returns how many."""
        token = getattr(tx, "_hoso_feed_tx", None)
        if token is None:
            return 0
        rows = self.run(tx, FEED_SEQUENCE, token=token)
        return int(rows[0]["sequenced"]) if rows else 0

    # No bookmark manager: HoSo runs one Neo4j server (Community has no cluster), where a committed
    # transaction is visible to the next one anyway, and the driver's default manager costs every
    # request a lock and a bookmark exchange.
    def read(self, driver: Driver, name: str, database: str | None = None, **params: Any) -> list[Record]:
        """Run a read query as one auto-commit transaction: one round trip (a managed transaction
        adds BEGIN and COMMIT, a third of the driver's work for a small read), retried on transient
        errors a few times."""
        query, values = self._bind(name, params)
        for attempt in range(READ_ATTEMPTS):
            try:
                with self._naming(name), driver.session(database=database, default_access_mode=READ_ACCESS,
                                                         bookmark_manager=None) as session:
                    return list(session.run(Query(cast(LiteralString, query)), values))
            except (TransientError, SessionExpired, ServiceUnavailable):
                if attempt == READ_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def stream(self, driver: Driver, name: str, database: str | None = None, chunk: int = 50_000,
               **params: Any) -> Iterator[list[tuple[Any, ...]]]:
        """Run a read query in one transaction and yield its rows as value tuples, `chunk` at a time,
        for exports too large to hold as records. Not retried: a consumer has already seen the rows."""
        query, values = self._bind(name, params)
        with self._naming(name), driver.session(database=database, default_access_mode=READ_ACCESS,
                                                 bookmark_manager=None, fetch_size=chunk) as session:
            result = session.run(Query(cast(LiteralString, query)), values)
            rows: list[tuple[Any, ...]] = []
            for record in result:
                rows.append(tuple(record.values()))
                if len(rows) >= chunk:
                    yield rows
                    rows = []
            if rows:
                yield rows

    def write(self, driver: Driver, name: str, database: str | None = None, **params: Any) -> list[Record]:
        """Run a write query in its own managed transaction (retried on transient errors); a query that
        writes change-feed events gets them numbered in that transaction."""
        if FEED_PARAM in self.get(name).params:
            def work(tx: ManagedTransaction) -> list[Record]:
                records = self.run(tx, name, **params)
                self.sequence_feed(tx)
                return records

            with driver.session(database=database, bookmark_manager=None) as session:
                return session.execute_write(work)
        query, values = self._bind(name, params)
        with self._naming(name):
            records, _, _ = driver.execute_query(query, values, database_=database, routing_="w",
                                                 bookmark_manager_=None)
        return list(records)

    def write_rows(self, driver: Driver, name: str, rows: Sequence[Any], database: str | None = None,
                   size: int = 5_000, writers: int = WRITERS, **params: Any) -> int:
        """Run a `UNWIND $rows` write query over `rows` in chunks of `size`, `writers` chunks at a time.

        Each chunk is its own transaction, retried on transient errors (a deadlock between two chunks
        touching the same node is one), so the rows must not depend on each other's order.
        """
        parts = [list(rows[i:i + size]) for i in range(0, len(rows), size)]
        if writers <= 1 or len(parts) <= 1:
            for part in parts:
                self.write(driver, name, database=database, rows=part, **params)
            return len(rows)
        with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="hoso-writer") as pool:
            for done in [pool.submit(self.write, driver, name, database, rows=part, **params) for part in parts]:
                done.result()
        return len(rows)


def feed_token(tx: ManagedTransaction | Transaction | Session) -> str:
    """The token that marks the change-feed events of one transaction until `sequence_feed` numbers them."""
    token = getattr(tx, "_hoso_feed_tx", None)
    if token is None:
        token = f"tx-{uuid.uuid4()}"
        setattr(tx, "_hoso_feed_tx", token)  # noqa: B010 (the driver's transaction has no slots)
    return str(token)


def run_schema_statement(session: Session, statement: str) -> None:
    """Run one statement of a schema migration in an auto-commit transaction."""
    session.run(Query(cast(LiteralString, statement))).consume()


@lru_cache
def default_registry() -> QueryRegistry:
    """The registry of the queries shipped in `graph/cypher/`, loaded once per process."""
    return QueryRegistry(CYPHER_DIR)
