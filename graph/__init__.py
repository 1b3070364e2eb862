"""HoSo's person graph in Neo4j: the managed server, connections, queries, migrations.

Public surface:
- `ManagedNeo4j`: fetch, start and stop the project's own Neo4j server;
- `Neo4jTarget`, `open_driver`, `managed_target`: reach a server;
- `QueryRegistry`, `default_registry`: the Cypher files and the one runner of their text;
- `apply_migrations`, `pending_migrations`, `wipe_graph`: the schema and its life cycle.
"""

from graph.connection import Neo4jTarget, managed_target, open_driver, verify
from graph.errors import (
    GraphError,
    MigrationError,
    Neo4jNotRunning,
    Neo4jServerError,
    QueryFileError,
    QueryParameterError,
)
from graph.migrations import apply_migrations, load_migrations, pending_migrations, wipe_graph
from graph.queries import CypherQuery, QueryRegistry, default_registry
from graph.server import ManagedNeo4j, ServerState, ServerStatus

__all__ = [
    "CypherQuery",
    "GraphError",
    "ManagedNeo4j",
    "MigrationError",
    "Neo4jNotRunning",
    "Neo4jServerError",
    "Neo4jTarget",
    "QueryFileError",
    "QueryParameterError",
    "QueryRegistry",
    "ServerState",
    "ServerStatus",
    "apply_migrations",
    "default_registry",
    "load_migrations",
    "managed_target",
    "open_driver",
    "pending_migrations",
    "verify",
    "wipe_graph",
]
