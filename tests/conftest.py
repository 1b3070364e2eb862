"""Shared fixtures: the project's own Neo4j (started or found) and a clean graph per test module.

The suite uses its own data directory (`.data-test`), so it never touches a developer's graph. When
Neo4j cannot be started, the fixtures fail with the reason; they never skip.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["HOSO_DATA_DIR"] = str(ROOT / ".data-test")
os.environ.setdefault("HOSO_ENVIRONMENT", "test")

import uvicorn  # noqa: E402
from neo4j import Driver  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from api.app import create_app  # noqa: E402
from api.runtime import managed_server, neo4j_target  # noqa: E402
from api.services import run_linking  # noqa: E402
from api.settings import Settings, get_settings  # noqa: E402
from graph import Neo4jTarget, apply_migrations, open_driver, wipe_graph  # noqa: E402
from linkage.intake import synthetic_inputs  # noqa: E402
from linkage.intake.batches import ingest  # noqa: E402
from linkage.synth import SynthConfig, generate  # noqa: E402
from linkage.vocab import SourceKind  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def neo4j_target_(settings: Settings) -> Iterator[Neo4jTarget]:
    """The Neo4j of the suite: NEO4J_URI if given, else the managed server (started if needed)."""
    started_here = False
    if settings.managed_neo4j:
        server = managed_server(settings)
        started_here = not server.status().answering
        server.start()
    yield neo4j_target(settings)
    if started_here:
        managed_server(settings).stop()


@pytest.fixture(scope="session")
def driver(neo4j_target_: Neo4jTarget) -> Iterator[Driver]:
    with open_driver(neo4j_target_.uri, neo4j_target_.user, neo4j_target_.password) as drv:
        yield drv


@pytest.fixture(scope="module")
def graph(driver: Driver, neo4j_target_: Neo4jTarget) -> Driver:
    """A driver on an empty, migrated database, once per test module."""
    wipe_graph(driver, neo4j_target_.database)
    apply_migrations(driver, neo4j_target_.database)
    return driver


class LiveServer:
    """The API served by uvicorn over real HTTP on a free local port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)

    def __enter__(self) -> LiveServer:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API did not start within 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


MappedCsv = Callable[[str, str], tuple[Path, Path]]


@pytest.fixture()
def mapped_csv(tmp_path: Path) -> MappedCsv:
    """`csv, mapping = mapped_csv(toml_text, csv_text)`: a CSV export and its mapping file, written in the
    test's folder (each call replaces the previous pair)."""
    def write(mapping: str, rows: str) -> tuple[Path, Path]:
        (tmp_path / "pk.csv").write_text(rows, encoding="utf-8")
        (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
        return tmp_path / "pk.csv", tmp_path / "m.toml"
    return write


@pytest.fixture(scope="session")
def live_server() -> type[LiveServer]:
    """`with live_server(settings) as server:` serves the API at `server.url`."""
    return LiveServer


class LinkedWorld(Protocol):
    def __call__(self, root: Path, config: SynthConfig, kinds: Iterable[SourceKind], graph: Driver,
                 **overrides: Any) -> Settings: ...


@pytest.fixture(scope="session")
def linked_world(settings: Settings, neo4j_target_: Neo4jTarget) -> LinkedWorld:
    """`local = linked_world(root, SynthConfig(...), kinds, graph, jobs_worker=False)`: a synthetic population
    generated under `root / "synth"`, the sources `kinds` of it ingested into `root / "data"` and linked into
    `graph`; returns the settings of that world (its data directory, the suite's Neo4j, the overrides)."""
    def build(root: Path, config: SynthConfig, kinds: Iterable[SourceKind], graph: Driver,
              **overrides: Any) -> Settings:
        generate(config, root / "synth")
        for kind, files, _ in synthetic_inputs(root / "synth", list(kinds)):
            ingest(kind, files, root / "data")
        local = settings.model_copy(update={"data_dir": root / "data", "neo4j_uri": neo4j_target_.uri,
                                            "neo4j_password": SecretStr(neo4j_target_.password), **overrides})
        run_linking(local, graph, neo4j_target_.database)
        return local
    return build
