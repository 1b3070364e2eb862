"""Faults: kill -9 in the middle of ingestion and of linking, Neo4j stopped under the API, a full or
unwritable data directory, and a backup restored into a wiped system. Each ends with nothing lost,
nothing doubled and nothing half-written."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import SecretStr

from api.app import create_app
from api.audit import AuditLog
from api.backup import BackupError, backup, fingerprint, restore
from api.runtime import driver_for, managed_server
from api.security import Role, add_user
from api.services import run_linking
from api.settings import Settings
from graph import Neo4jTarget, apply_migrations, wipe_graph
from graph.operations import PersonOperations
from linkage.intake import synthetic_inputs
from linkage.intake.batches import IngestError, ingest
from linkage.pipeline import train_model
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130)
HOSO = [sys.executable, "-m", "api.cli"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults-synth")
    generate(SynthConfig(persons=1500, seed=41), root)
    return root


def env_for(data: Path, target: Neo4jTarget | None = None) -> dict[str, str]:
    env = {**os.environ, "HOSO_DATA_DIR": str(data)}
    if target is not None:
        env |= {"NEO4J_URI": target.uri, "NEO4J_PASSWORD": target.password}
    return env


def kill_when(proc: subprocess.Popen[bytes], ready: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (code {proc.returncode}) before it could be killed")
        time.sleep(0.02)
    raise AssertionError("the moment to kill never came")


def test_kill_during_ingestion_then_rerun(synth: Path, tmp_path: Path) -> None:
    files = sorted((synth / "hospital130").glob("*.xml"))
    data = tmp_path / "killed"
    proc = subprocess.Popen([*HOSO, "ingest", "hospital130", *map(str, files)], env=env_for(data))
    kill_when(proc, lambda: any((data / "batches").glob(".tmp-*/records.parquet")))
    assert not [p for p in (data / "batches").iterdir() if not p.name.startswith(".tmp-")], "no batch half-written"
    again = ingest(SourceKind.HOSPITAL130, files, data)
    clean = ingest(SourceKind.HOSPITAL130, files, tmp_path / "clean")
    assert again.batch_id == clean.batch_id and (again.accepted, again.quarantined) == (clean.accepted,
                                                                                        clean.quarantined)
    left = pd.read_parquet(data / "batches" / again.batch_id / "records.parquet")
    right = pd.read_parquet(tmp_path / "clean" / "batches" / clean.batch_id / "records.parquet")
    assert left.drop(columns=[]).equals(right)
    assert not list((data / "batches").glob(".tmp-*")), "the dead run's temporary folder is cleared"


def signature(driver: Driver) -> tuple[Any, ...]:
    partition = {frozenset(r["records"]) for r in driver.execute_query(
        "MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord) "
        "RETURN p.person_id AS id, collect(r.uid) AS records").records}
    counts = {f"{r['kind']}:{r['name']}": r["count"] for r in driver.execute_query(
        "CALL () { MATCH (n) UNWIND labels(n) AS label RETURN collect({kind: 'label', name: label}) AS items } "
        "CALL () { MATCH ()-[r]->() RETURN collect({kind: 'type', name: type(r)}) AS rels } "
        "UNWIND items + rels AS item WITH item WHERE NOT item.name IN ['LinkRun', 'LINKED', 'Migration'] "
        "RETURN item.kind AS kind, item.name AS name, count(*) AS count").records}
    links = {(r["state"], r["n"]) for r in driver.execute_query(
        "MATCH ()-[l:LINKED_TO]->() RETURN l.state AS state, count(*) AS n").records}
    return frozenset(partition), counts, frozenset(links)


def test_kill_during_linking_then_rerun_matches_an_uninterrupted_run(
        synth: Path, tmp_path: Path, graph: Driver, neo4j_target_: Neo4jTarget, settings: Settings) -> None:
    data = tmp_path / "data"
    for kind, files, _ in synthetic_inputs(synth, KINDS):
        ingest(kind, files, data)
    train_model(data)  # the model (and the standardised tables) both runs below start from
    proc = subprocess.Popen([*HOSO, "link"], env=env_for(data, neo4j_target_), stdout=subprocess.DEVNULL)
    # Killed once some links are written: the re-run must not build on its own half-written links.
    kill_when(proc, lambda: graph.execute_query(
        "MATCH ()-[l:LINKED_TO]->() RETURN count(l) > 0 AS started").records[0]["started"])
    half = graph.execute_query("MATCH (b:Batch) WHERE b.linked_at IS NOT NULL RETURN count(b) AS n").records[0]["n"]
    assert half == 0, "no batch is marked linked by a run that was killed"
    rerun = subprocess.run([*HOSO, "link"], env=env_for(data, neo4j_target_), capture_output=True, timeout=600,
                           check=False)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    after_kill, links_after_kill = signature(graph), links(graph)
    # The uninterrupted run: the same inputs on an empty graph.
    wipe_graph(graph, neo4j_target_.database)
    apply_migrations(graph, neo4j_target_.database)
    local = settings.model_copy(update={"data_dir": data, "neo4j_uri": neo4j_target_.uri,
                                        "neo4j_password": SecretStr(neo4j_target_.password)})
    run_linking(local, graph, neo4j_target_.database)
    uninterrupted = signature(graph)
    assert links_after_kill == links(graph), "the same links, to the same person ids"
    assert after_kill[0] == uninterrupted[0], "the same persons"
    assert after_kill[1] == uninterrupted[1], "the same nodes and relationships"
    assert after_kill[2] == uninterrupted[2], "the same link states"


def links(driver: Driver) -> set[tuple[str, str, str]]:
    return {(r["uid"], r["state"], r["person"]) for r in driver.execute_query(
        "MATCH (r:SourceRecord)-[l:LINKED_TO]->(p:Person) RETURN r.uid AS uid, l.state AS state, "
        "p.person_id AS person").records}


def test_full_or_unwritable_data_directory(synth: Path, tmp_path: Path) -> None:
    files = sorted((synth / "population").glob("*.csv"))
    locked = tmp_path / "locked"
    (locked / "batches").mkdir(parents=True)
    (locked / "batches").chmod(0o500)
    try:
        if os.access(locked / "batches", os.W_OK) and os.geteuid() == 0:
            # root ignores permissions: make the directory a file, which no one can write into
            (locked / "batches").chmod(0o700)
            (locked / "batches").rmdir()
            (locked / "batches").write_text("not a directory")
        with pytest.raises(IngestError, match=r"not writable|could not write"):
            ingest(SourceKind.POPULATION, files, locked)
    finally:
        if (locked / "batches").is_dir():
            (locked / "batches").chmod(0o700)

    full = tmp_path / "full"

    def small_disk() -> None:  # a file-size limit stands in for a full disk: writes fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = subprocess.run([*HOSO, "ingest", "population", *map(str, files)], env=env_for(full),
                            capture_output=True, text=True, preexec_fn=small_disk, timeout=300, check=False)
    assert result.returncode != 0
    assert "could not write batch" in result.stderr and "Traceback" not in result.stderr
    assert not list((full / "batches").iterdir()), "nothing half-written is left"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Settings]:
    """A second managed Neo4j in its own data directory, for tests that stop and replace the graph."""
    data = tmp_path_factory.mktemp("own-server")
    local = settings.model_copy(update={"data_dir": data, "neo4j_uri": None, "neo4j_password": None,
                                        "neo4j_heap": "512m", "neo4j_pagecache": "128m", "neo4j_bolt_port": None,
                                        "jobs_worker": False})
    managed_server(local).start()
    with driver_for(local) as (driver, database):
        apply_migrations(driver, database)
    yield local
    managed_server(local).stop()


def test_api_answers_503_while_neo4j_is_down_and_recovers(own_server: Settings) -> None:
    with driver_for(own_server) as (driver, _):
        add_user(driver, "faults-admin", "admin password", Role.ADMIN)
        add_user(driver, "faults-doctor", "doctor password", Role.CLINICIAN, facility="01001", province="01")
        add_user(driver, "faults-epi", "epidemiologist password", Role.EPIDEMIOLOGIST)
    # Accounts checked a while ago stay trusted for 2 minutes here: long enough for a request during the outage.
    with TestClient(create_app(own_server.model_copy(update={"auth_cache_seconds": 120}))) as client:
        def login(name: str, password: str) -> dict[str, str]:
            token = client.post("/auth/token", data={"username": name, "password": password})
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        headers, doctor = login("faults-admin", "admin password"), login("faults-doctor", "doctor password")
        assert client.get("/audit", headers=headers).status_code == 200
        assert client.get("/auth/me", headers=doctor).status_code == 200  # the doctor's account is checked
        epi = login("faults-epi", "epidemiologist password")  # signed in, its account not checked yet
        managed_server(own_server).stop()
        unchecked = client.get("/auth/me", headers=epi)  # an account that cannot be checked is not trusted
        assert unchecked.status_code == 503 and unchecked.json()["code"] == "graph_unavailable"
        down = client.get("/audit", headers=headers)
        assert down.status_code == 503 and down.headers["Retry-After"]
        assert down.json()["code"] == "graph_unavailable"
        assert client.get("/ready").status_code == 503
        # refused while the graph is down: the refusal is still audited (it waits in the spool)
        assert client.get("/audit", headers=doctor).status_code == 403
        managed_server(own_server).start()
        deadline = time.monotonic() + 60
        while (trail := client.get("/audit", params={"username": "faults-doctor"}, headers=headers)
               ).status_code != 200:
            assert time.monotonic() < deadline, "the API did not recover by itself"
            time.sleep(0.5)
        assert [e["status"] for e in trail.json()["data"]] == [403]


SPOOL_AND_DIE = """
import os, signal, sys
from api.audit import AuditLog
from api.settings import Settings
log = AuditLog(Settings(data_dir=sys.argv[1]), None, "neo4j")
for n in range(3):
    log.record({"username": "killed-api", "role": "admin", "method": "GET", "endpoint": "/audit",
                "status": 200, "person_hash": None, "client": str(n)})
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_audit_entries_of_a_killed_api_process_are_shipped_once(own_server: Settings) -> None:
    killed = subprocess.run([sys.executable, "-c", SPOOL_AND_DIE, str(own_server.data_path)], check=False)
    assert killed.returncode == -signal.SIGKILL
    spool = own_server.data_path / "audit"
    left = sorted(spool.glob("*.jsonl"))
    assert left and sum(len(p.read_bytes().splitlines()) for p in left) >= 3
    copies = {p.name: p.read_bytes() for p in left}
    with driver_for(own_server) as (driver, database):
        log = AuditLog(own_server, driver, database)
        assert log.flush() == 3
        # shipped again, as after a crash between the commit and the removal: nothing doubles
        for name, text in copies.items():
            (spool / f"{name}-again.shipping").write_bytes(text)
        assert log.flush() == 3
        log.stop()
        count = driver.execute_query("MATCH (a:AuditEntry {username: 'killed-api'}) RETURN count(a) AS n",
                                     database_=database).records[0]["n"]
    assert count == 3
    assert not list(spool.glob("*.shipping")) and not list(spool.glob("*.jsonl"))


def test_backup_and_restore_round_trip(own_server: Settings, synth: Path, tmp_path: Path) -> None:
    for kind, files, _ in synthetic_inputs(synth, KINDS):
        ingest(kind, files, own_server.data_path)
    with driver_for(own_server) as (driver, database):
        run_linking(own_server, driver, database)
        pair = driver.execute_query("MATCH (a:Person {status: 'active'}), (b:Person {status: 'active'}) "
                                    "WHERE a.person_id < b.person_id RETURN a.person_id AS a, b.person_id AS b "
                                    "LIMIT 1").records[0]
        PersonOperations(driver, database).not_duplicate(pair["a"], pair["b"], "reviewer:r1", "different people")
    before = fingerprint(own_server)
    manifest = backup(own_server, tmp_path / "backup")
    assert manifest["decisions"]["events"] >= 1 and (tmp_path / "backup" / "graph" / "neo4j.dump").exists()
    with pytest.raises(BackupError, match="not empty"):
        backup(own_server, tmp_path / "backup")
    with driver_for(own_server) as (driver, database):
        wipe_graph(driver, database)
    for folder in ("batches", "models"):
        for path in sorted((own_server.data_path / folder).rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
    assert fingerprint(own_server) != before
    restore(own_server, tmp_path / "backup")
    assert fingerprint(own_server) == before
    assert (own_server.data_path / "batches").exists() and any((own_server.data_path / "models").iterdir())
    (tmp_path / "backup" / "decisions.json").write_text("{}")
    with pytest.raises(BackupError, match="changed since the backup"):
        restore(own_server, tmp_path / "backup")
