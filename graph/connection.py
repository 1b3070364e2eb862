"""Opening a Neo4j driver: from `NEO4J_URI` when given, else from the managed server's state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver, GraphDatabase

from graph.errors import Neo4jNotRunning


@dataclass(frozen=True)
class Neo4jTarget:
    """Where a Neo4j database is and how to sign in."""

    uri: str
    user: str
    password: str
    database: str = "neo4j"


def open_driver(uri: str, user: str, password: str, connection_timeout: float = 10.0,
                retry_seconds: float = 30.0) -> Driver:
    """A driver for `uri`; the caller closes it (it is a context manager).

    `retry_seconds` bounds how long a transaction is retried on transient errors (deadlocks, a
    server going away): long for batch work, short for a request someone waits on.
    """
    return GraphDatabase.driver(
        uri,
        auth=(user, password),
        connection_timeout=connection_timeout,
        max_transaction_retry_time=retry_seconds,
        max_connection_pool_size=64,
        notifications_min_severity="OFF",
    )


def verify(driver: Driver, database: str | None = None) -> None:
    """Raise unless the server answers a real `RETURN 1`."""
    from graph.queries import default_registry

    with driver.session(database=database) as session:
        records = default_registry().run(session, "system/ping")
    if records[0]["ok"] != 1:
        raise Neo4jNotRunning("Neo4j answered RETURN 1 with something else")


def managed_target(neo4j_home: Path, database: str = "neo4j") -> Neo4jTarget:
    """The target of the server HoSo manages under `neo4j_home`, if it was started."""
    from graph.server import ManagedNeo4j, _pid_alive

    state = ManagedNeo4j(home=neo4j_home, cache_dir=neo4j_home).read_state()
    if state is None or not _pid_alive(state.pid):
        raise Neo4jNotRunning(
            "Neo4j is not running: start it with `hoso neo4j start`, or set NEO4J_URI and NEO4J_PASSWORD"
        )
    return Neo4jTarget(uri=state.uri, user=state.user, password=state.password, database=database)
