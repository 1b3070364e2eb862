"""HoSo's person graph in Neo4j: the managed server, connections, queries, migrations, and the
person index, facts and operations stored in it.

Public surface:
- `ManagedNeo4j`, `managed_target`: fetch, start and stop the project's own Neo4j server, and reach it;
- `Neo4jTarget`, `open_driver`, `verify`, `ping`: reach a server;
- `QueryRegistry`, `default_registry`: the Cypher files and the one runner of their text;
- `apply_migrations`, `pending_migrations`, `wipe_graph`: the schema and its life cycle;
- `GraphLinkStore`, `graph_candidates`, `graph_population`: the linkage's persons and links, real-time
  candidates and the records they are drawn from;
- `GraphLoader`: reference data and batches' facts;
- `ImportLinkStore`, `load_initial`, `write_initial`, `initial_import_refusal`,
  `refuse_after_cut_short_import`, `ImportRefused`: a first load written by `neo4j-admin database
  import` (`graph.initial`), from import files `graph.bulk` writes;
- `person_profile`, `profile_and_viewer`, `refresh_persons`, `dirty_person_ids`: persons and golden records;
- `PersonOperations`, `review_events`: reviewers' merges, splits, links and their history;
- the errors, by kind: `GraphUnavailable`, `ConflictError`, `OperationError`, `PersonNotFound`, `GraphError`.
"""

from graph.bulk import ImportRefused
from graph.connection import Neo4jTarget, open_driver, verify
from graph.errors import (
    ConflictError,
    GraphError,
    GraphUnavailable,
    MigrationError,
    Neo4jNotRunning,
    Neo4jServerError,
    OperationError,
    QueryFileError,
    QueryParameterError,
)
from graph.feed import EVENT_TYPES, feed_after, last_event
from graph.identity import GraphLinkStore, graph_candidates, graph_population
from graph.initial import ImportLinkStore, load_initial, refuse_after_cut_short_import, write_initial
from graph.initial import refusal as initial_import_refusal
from graph.load import GraphLoader
from graph.migrations import apply_migrations, load_migrations, pending_migrations, wipe_graph
from graph.operations import PersonOperations, Snapshot, review_events
from graph.persons import PersonNotFound, dirty_person_ids, person_profile, profile_and_viewer, refresh_persons
from graph.queries import WRITERS, CypherQuery, QueryRegistry, default_registry
from graph.server import ManagedNeo4j, ServerState, ServerStatus, managed_target, ping
from graph.values import plain
from graph.warmup import SAMPLE as WARM_UP_SAMPLE
from graph.warmup import WarmUp, warm_up, warm_up_if_possible

__all__ = [
    "EVENT_TYPES",
    "WARM_UP_SAMPLE",
    "WRITERS",
    "ConflictError",
    "CypherQuery",
    "GraphError",
    "GraphLinkStore",
    "GraphLoader",
    "GraphUnavailable",
    "ImportLinkStore",
    "ImportRefused",
    "ManagedNeo4j",
    "MigrationError",
    "Neo4jNotRunning",
    "Neo4jServerError",
    "Neo4jTarget",
    "OperationError",
    "PersonNotFound",
    "PersonOperations",
    "QueryFileError",
    "QueryParameterError",
    "QueryRegistry",
    "ServerState",
    "ServerStatus",
    "Snapshot",
    "WarmUp",
    "apply_migrations",
    "default_registry",
    "dirty_person_ids",
    "feed_after",
    "graph_candidates",
    "graph_population",
    "initial_import_refusal",
    "last_event",
    "load_initial",
    "load_migrations",
    "managed_target",
    "open_driver",
    "pending_migrations",
    "person_profile",
    "ping",
    "plain",
    "profile_and_viewer",
    "refresh_persons",
    "refuse_after_cut_short_import",
    "review_events",
    "verify",
    "warm_up",
    "warm_up_if_possible",
    "wipe_graph",
    "write_initial",
]
