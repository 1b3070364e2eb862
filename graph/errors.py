"""The graph package's exceptions: each says what failed and what to do about it.

Their kinds, which the API answers with: `GraphUnavailable` (the server is not there: try again),
`ConflictError` (the person changed meanwhile: reload), `OperationError` (the operation does not
apply: a caller's mistake); every other `GraphError` is a fault of HoSo's own.
"""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error raised by `graph`."""


class GraphUnavailable(GraphError):
    """The graph database cannot be reached now; the same call may work later."""


class Neo4jServerError(GraphUnavailable):
    """The managed Neo4j server could not be fetched, started or reached."""


class Neo4jNotRunning(GraphUnavailable):
    """No Neo4j server is known: neither `NEO4J_URI` nor a started managed server."""


class ConflictError(GraphError):
    """The person changed since the caller looked at it: reload and decide again."""


class OperationError(GraphError):
    """The operation does not apply (unknown or retired person, record not on the person...)."""


class QueryFileError(GraphError):
    """A `.cypher` file is malformed: its header or its parameters are wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class QueryParameterError(GraphError):
    """A query was called with parameters other than those it declares."""


class MigrationError(GraphError):
    """A schema migration failed or was changed after it was applied."""
