"""The graph package's exceptions: each says what failed and what to do about it."""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error raised by `graph`."""


class Neo4jServerError(GraphError):
    """The managed Neo4j server could not be fetched, started or reached."""


class Neo4jNotRunning(GraphError):
    """No Neo4j server is known: neither `NEO4J_URI` nor a started managed server."""


class QueryFileError(GraphError):
    """A `.cypher` file is malformed: its header or its parameters are wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class QueryParameterError(GraphError):
    """A query was called with parameters other than those it declares."""


class MigrationError(GraphError):
    """A schema migration failed or was changed after it was applied."""
