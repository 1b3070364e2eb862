"""Builds the clients HoSo's commands and the API use, from the settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from neo4j import Driver

from analytics import GraphReader, reader_for
from api.settings import Settings, get_settings
from graph import ManagedNeo4j, Neo4jTarget, managed_target, open_driver


def private_files(settings: Settings) -> None:
    """Make everything this process (and the servers it starts) writes readable by its user only: the
    data directory holds names, ids, diagnoses and the signing key. Folders 700, files 600; a data
    directory made before is closed the same way."""
    os.umask(0o077)
    if settings.data_path.is_dir():
        settings.data_path.chmod(0o700)


def managed_server(settings: Settings) -> ManagedNeo4j:
    """The Neo4j server HoSo runs itself, configured from the settings."""
    return ManagedNeo4j(
        home=settings.neo4j_home,
        cache_dir=settings.cache_dir,
        version=settings.neo4j_version,
        heap=settings.neo4j_heap,
        pagecache=settings.neo4j_pagecache,
        bolt_port=settings.neo4j_bolt_port,
    )


def neo4j_target(settings: Settings) -> Neo4jTarget:
    """The Neo4j to use: `NEO4J_URI` when set, else the managed server (which must be running)."""
    if settings.neo4j_uri is not None and settings.neo4j_password is not None:
        return Neo4jTarget(
            uri=settings.neo4j_uri,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
        )
    return managed_target(settings.neo4j_home, settings.neo4j_database)


@contextmanager
def driver_for(settings: Settings) -> Iterator[tuple[Driver, str]]:
    """A driver and the database name, closed on exit."""
    target = neo4j_target(settings)
    with open_driver(target.uri, target.user, target.password) as driver:
        yield driver, target.database


@contextmanager
def analytics_reader(settings: Settings | None = None) -> Iterator[GraphReader]:
    """A reader for the analyses (the notebooks' one), its driver closed on exit: the analytics
    projection when one is built, else the graph. The managed Neo4j is started if it is not running.

        with analytics_reader() as reader:
            population.age_pyramid(reader, scope, date.today())
    """
    settings = settings or get_settings()
    if settings.managed_neo4j:
        managed_server(settings).start()
    with driver_for(settings) as (driver, database):
        yield reader_for(driver, database, settings.data_path, settings.analytics_source)
