"""Reaching a Neo4j database: where it is (`Neo4jTarget`), opening a driver, checking it answers."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver, GraphDatabase

from graph.errors import Neo4jNotRunning
from graph.queries import default_registry


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
    with driver.session(database=database) as session:
        records = default_registry().run(session, "system/ping")
    if records[0]["ok"] != 1:
        raise Neo4jNotRunning("Neo4j answered RETURN 1 with something else")
