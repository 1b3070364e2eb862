"""The managed Neo4j server: configuration, secrets, readiness and one-line failures."""

from __future__ import annotations

import re
import socket
import stat
from pathlib import Path

import pytest
from neo4j import Driver

from api.runtime import managed_server
from api.settings import Settings
from graph import ManagedNeo4j, Neo4jServerError, Neo4jTarget
from graph.server import port_is_free


def test_running_server_answers_and_is_found(settings: Settings, neo4j_target_: Neo4jTarget) -> None:
    if not settings.managed_neo4j:
        pytest.fail("this test checks the managed server: unset NEO4J_URI")
    status = managed_server(settings).status()
    assert status.answering and status.process_alive
    assert status.uri == neo4j_target_.uri
    assert status.uri is not None and status.uri.startswith("bolt://127.0.0.1:")


def test_password_is_generated_and_private(settings: Settings, neo4j_target_: Neo4jTarget) -> None:
    server = managed_server(settings)
    mode = stat.S_IMODE(server.password_file.stat().st_mode)
    assert mode == 0o600
    password = server.password_file.read_text().strip()
    assert len(password) >= 24
    assert password == neo4j_target_.password
    assert password not in server.state_file.read_text()


def test_conf_keeps_bolt_local_and_http_off(settings: Settings, neo4j_target_: Neo4jTarget) -> None:
    conf = (managed_server(settings).conf_dir / "neo4j.conf").read_text()
    port = neo4j_target_.uri.rsplit(":", 1)[1]
    assert f"server.bolt.listen_address=127.0.0.1:{port}" in conf
    assert "server.http.enabled=false" in conf
    assert "server.https.enabled=false" in conf
    assert f"server.directories.data={settings.neo4j_home / 'data'}" in conf


def test_a_query_is_planned_once_whatever_the_length_of_its_lists(
        settings: Settings, driver: Driver, neo4j_target_: Neo4jTarget) -> None:
    # Cypher would otherwise plan `UNWIND $rows` anew for each order of magnitude of the list (1, 2-10,
    # 11-100, ...): a batch after a start paid 0.1-0.4 s for each size the warm-up had not run.
    if not settings.managed_neo4j:
        pytest.fail("this test checks the managed server's configuration: unset NEO4J_URI")
    query = "UNWIND $rows AS row WITH row WHERE row.n >= 0 RETURN count(row) AS n // planned once"

    def cleared() -> int:
        records, _, _ = driver.execute_query("CALL db.clearQueryCaches()", database_=neo4j_target_.database)
        message = str(records[0][0])
        return int(found.group(1)) if (found := re.search(r"(\d+) quer", message)) else 0

    cleared()
    for size in (1, 5, 50, 500, 5_000):
        records, _, _ = driver.execute_query(query, rows=[{"n": n} for n in range(size)],
                                             database_=neo4j_target_.database)
        assert records[0]["n"] == size
    assert cleared() == 1


def test_second_start_finds_the_running_server(settings: Settings, neo4j_target_: Neo4jTarget) -> None:
    state = managed_server(settings).start()
    assert state.uri == neo4j_target_.uri


def test_unwritable_data_directory_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    server = ManagedNeo4j(home=blocker / "neo4j", cache_dir=tmp_path / "cache")
    with pytest.raises(Neo4jServerError, match=r"data directory .* is not writable"):
        server.start(timeout=5)


def test_taken_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free(port)
        server = ManagedNeo4j(home=tmp_path / "neo4j", cache_dir=tmp_path / "cache", bolt_port=port)
        with pytest.raises(Neo4jServerError, match=f"port {port} on 127.0.0.1 is taken"):
            server._choose_port(None)


def test_missing_java_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    server = ManagedNeo4j(home=tmp_path / "neo4j", cache_dir=tmp_path / "cache")
    with pytest.raises(Neo4jServerError, match="no Java found on PATH"):
        server.start(timeout=5)


def test_unreachable_maven_is_one_clear_error(tmp_path: Path) -> None:
    server = ManagedNeo4j(home=tmp_path / "neo4j", cache_dir=tmp_path / "cache", version="0.0.0-none")
    with pytest.raises(Neo4jServerError, match=r"could not fetch Neo4j 0\.0\.0-none with Maven"):
        server.ensure_distribution()
    assert not server.lib_dir.exists()


def test_the_store_is_read_into_the_file_cache_when_it_fits(settings: Settings, neo4j_target_: Neo4jTarget) -> None:
    """After a start HoSo reads its store once, in order, so that a cold machine's first batch does not
    wait on a random read per page; a store larger than its share of the memory is left alone."""
    server = managed_server(settings)
    store = server.home / "data" / "databases" / settings.neo4j_database
    read = server.read_ahead(settings.neo4j_database)
    assert read is not None
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    assert read[0] > 0 and abs(read[0] - size) <= 0.1 * size  # the server writes on meanwhile
    assert server.read_ahead(settings.neo4j_database, share=0.0) is None
    assert server.read_ahead("no-such-database") is None
