"""Ingestion jobs through the API: upload, background ingest and link, progress, quarantine, restart."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import SecretStr

from api.app import create_app
from api.jobs import MAX_ATTEMPTS, JobState, JobStore
from api.security import Role, add_user
from api.settings import Settings
from graph import Neo4jTarget
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

BAD_ROW = '999,,not a date,Nam,"x",01,00001,"x",01,00001,H1,Chủ hộ\n'


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jobs-synth")
    generate(SynthConfig(persons=300, seed=7), root)
    population = sorted((root / "population").glob("*.csv"))[0]
    with open(population, "a", encoding="utf-8") as fh:
        fh.write(BAD_ROW)
    return root


def local_settings(settings: Settings, target: Neo4jTarget, data: Path, **extra: Any) -> Settings:
    return settings.model_copy(update={"data_dir": data, "neo4j_uri": target.uri, "jobs_poll_seconds": 0.2,
                                       "neo4j_password": SecretStr(target.password), **extra})


def login(client: TestClient, name: str, password: str) -> dict[str, str]:
    token = client.post("/auth/token", data={"username": name, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def wait_done(client: TestClient, headers: dict[str, str], job_id: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s")


@pytest.fixture(scope="module")
def users(graph: Driver) -> None:
    add_user(graph, "jobs-admin", "admin password", Role.ADMIN)
    add_user(graph, "jobs-reviewer", "reviewer password", Role.REVIEWER)


def test_upload_is_ingested_and_linked_in_the_background(  # type: ignore[no-untyped-def]
        synth: Path, graph: Driver, users, settings: Settings, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    population = sorted((synth / "population").glob("*.csv"))[0]
    xml = sorted((synth / "commune831").glob("*.xml"))[0]
    with TestClient(create_app(local_settings(settings, neo4j_target_, tmp_path))) as client:
        headers = login(client, "jobs-admin", "admin password")
        answer = client.post("/ingest/population", headers=headers,
                             files={"file": (population.name, population.read_bytes(), "text/csv")})
        assert answer.status_code == 202, answer.text
        job = wait_done(client, headers, answer.json()["job_id"])
        assert job["state"] == "done", job
        assert job["read"] == job["accepted"] + job["quarantined"] and job["quarantined"] == 1
        assert job["linked"] == job["accepted"] > 0
        assert job["quarantine_sample"][0]["reason"] and job["reasons"]
        report = client.get(f"/jobs/{job['job_id']}/quarantine", headers=headers).json()
        assert report["count"] == 1 and report["data"][0]["position"]

        second = client.post("/ingest/commune831", headers=headers,
                             files={"file": (xml.name, xml.read_bytes(), "application/xml")}).json()
        done = wait_done(client, headers, second["job_id"])
        assert done["state"] == "done" and done["accepted"] > 0
        assert done["linked"] + done["review"] == done["accepted"]
        listed = client.get("/jobs", headers=headers).json()
        assert [j["job_id"] for j in listed["data"][:2]] == [second["job_id"], job["job_id"]]
    persons = graph.execute_query(
        "MATCH (r:SourceRecord {batch_id: $b})-[:LINKED_TO {state: 'MATCH'}]->(p:Person) RETURN count(p) AS n",
        {"b": done["batch_id"]}).records[0]["n"]
    assert persons == done["linked"]


def test_a_job_survives_a_restart(  # type: ignore[no-untyped-def]
        synth: Path, graph: Driver, users, settings: Settings, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    immunization = sorted((synth / "immunization").glob("*.csv"))[0]
    stopped = local_settings(settings, neo4j_target_, tmp_path, jobs_worker=False)
    with TestClient(create_app(stopped)) as client:
        headers = login(client, "jobs-admin", "admin password")
        job_id = client.post("/ingest/immunization", headers=headers,
                             files={"file": (immunization.name, immunization.read_bytes(), "text/csv")}
                             ).json()["job_id"]
        assert client.get(f"/jobs/{job_id}", headers=headers).json()["state"] == "queued"
    # What a crash in the middle of ingestion leaves: a job marked as ingesting.
    store = JobStore(stopped.data_path)
    job = store.get(job_id)
    job.state, job.attempts = JobState.INGESTING, 1
    store.save(job)
    with TestClient(create_app(local_settings(settings, neo4j_target_, tmp_path))) as client:
        headers = login(client, "jobs-admin", "admin password")
        done = wait_done(client, headers, job_id)
    assert done["state"] == "done" and done["attempts"] == 2 and done["accepted"] > 0
    assert json.loads((tmp_path / "jobs" / job_id / "job.json").read_text())["state"] == "done"


def test_bad_uploads_are_refused_with_a_clear_reason(  # type: ignore[no-untyped-def]
        graph: Driver, users, settings: Settings, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    with TestClient(create_app(local_settings(settings, neo4j_target_, tmp_path, upload_max_mb=1,
                                              jobs_worker=False))) as client:
        headers = login(client, "jobs-admin", "admin password")

        def post(kind: str, body: bytes, ctype: str = "text/csv") -> Any:
            return client.post(f"/ingest/{kind}", headers=headers, files={"file": ("f", body, ctype)})

        empty = post("population", b"")
        assert empty.status_code == 400 and empty.json()["detail"] == "tệp rỗng"  # "the file is empty"
        big = post("population", b"x" * ((1 << 20) + 1))
        assert big.status_code == 413 and big.json()["code"] == "too_large"
        wrong = post("commune831", b"<a/>", "image/png")
        assert wrong.status_code == 415 and "application/xml" in wrong.json()["detail"]
        assert post("novel", b"a,b").status_code == 422
        assert post("csv", b"a,b").status_code == 400
        not_multipart = client.post("/ingest/population", headers=headers, json={"file": "x"})
        assert not_multipart.status_code == 422
        assert client.get("/jobs/job-20260101000000-00000000", headers=headers).status_code == 404
        assert client.get("/jobs/../../etc", headers=headers).status_code in (404, 422)
        reviewer = login(client, "jobs-reviewer", "reviewer password")
        refused = client.post("/ingest/population", headers=reviewer, files={"file": ("f", b"a", "text/csv")})
        assert refused.status_code == 403
        assert client.get("/jobs", headers=reviewer).status_code == 403
        assert not any((tmp_path / "jobs").glob("job-*")), "a refused upload leaves no job behind"


def test_no_job_jams_the_queue_and_admins_retry_or_cancel(  # type: ignore[no-untyped-def]
        synth: Path, graph: Driver, users, settings: Settings, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    stopped = local_settings(settings, neo4j_target_, tmp_path, jobs_worker=False)
    population = sorted((synth / "population").glob("*.csv"))[0]
    mapping = b'[source]\nsystem = "clinic"\nencoding = "no-such-encoding"\n[columns]\nfull_name = "ho_ten"\n'
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    patient = json.dumps({"resourceType": "Patient", "id": "p1", "name": [{"text": "Nguyen Van An"}],
                          "birthDate": "1990-01-02", "gender": "male"}).encode() + b"\n"
    with TestClient(create_app(stopped)) as client:
        headers = login(client, "jobs-admin", "admin password")

        def upload(kind: str, name: str, body: bytes, ctype: str, **extra: Any) -> str:
            answer = client.post(f"/ingest/{kind}", headers=headers, files={"file": (name, body, ctype), **extra})
            assert answer.status_code == 202, answer.text
            return str(answer.json()["job_id"])

        broken = upload("population", population.name, population.read_bytes(), "text/csv")
        store = JobStore(stopped.data_path)
        record = json.loads((store.path(broken) / "job.json").read_text())
        (store.path(broken) / "job.json").write_text(json.dumps(record | {"kind": "no-such-kind"}))
        bad_mapping = upload("csv", "clinic.csv", b"ho_ten\nNguyen Van An\n", "text/csv",
                             mapping=("m.toml", mapping, "application/toml"))
        nested = upload("fhir", "patients.ndjson", deep + patient, "application/x-ndjson")
        cancelled = upload("population", "again.csv", population.read_bytes(), "text/csv")
        assert client.post(f"/jobs/{cancelled}/cancel", headers=headers).json()["state"] == "cancelled"
    with TestClient(create_app(local_settings(settings, neo4j_target_, tmp_path))) as client:
        headers = login(client, "jobs-admin", "admin password")
        done = wait_done(client, headers, nested)
        assert done["state"] == "done" and (done["accepted"], done["quarantined"]) == (1, 1)
        assert "nested too deeply" in json.dumps(done["quarantine_sample"])
        failed = wait_done(client, headers, bad_mapping)
        assert failed["state"] == "failed" and "unknown encoding 'no-such-encoding'" in failed["error"]
        jammed = wait_done(client, headers, broken, seconds=60)
        assert jammed["state"] == "failed" and jammed["attempts"] == MAX_ATTEMPTS and "no-such-kind" in jammed["error"]
        assert client.get(f"/jobs/{cancelled}", headers=headers).json()["state"] == "cancelled"
        assert client.post(f"/jobs/{nested}/cancel", headers=headers).status_code == 409
        again = client.post(f"/jobs/{cancelled}/retry", headers=headers)
        assert again.status_code == 200 and again.json()["state"] == "queued"
        assert wait_done(client, headers, cancelled)["state"] == "done"
        assert client.post(f"/jobs/{cancelled}/retry", headers=headers).status_code == 409
        assert client.post("/jobs/job-20260101000000-00000000/retry", headers=headers).status_code == 404


def _raw(url: str, head: bytes) -> bytes:
    """Send a request's head alone (no body) over a socket and read the answer's status line."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(head)
        return raw.recv(4096).split(b"\r\n", 1)[0]


def test_an_upload_is_refused_before_its_body_is_read(  # type: ignore[no-untyped-def]
        graph: Driver, users, settings: Settings, neo4j_target_: Neo4jTarget, tmp_path: Path, live_server) -> None:
    """A 600 MB body from nobody, or over the limit, is answered at once: not a byte of it is read."""
    local = local_settings(settings, neo4j_target_, tmp_path, upload_max_mb=1, jobs_worker=False)
    big = b"POST /ingest/population HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n" \
          b"Content-Length: 629145600\r\n%b\r\n"
    with live_server(local) as server:
        assert _raw(server.url, big % b"") == b"HTTP/1.1 401 Unauthorized"
        with TestClient(create_app(local)) as client:
            token = login(client, "jobs-admin", "admin password")["Authorization"].encode()
        assert _raw(server.url, big % (b"Authorization: " + token + b"\r\n")) .startswith(b"HTTP/1.1 413 ")
        chunked = b"POST /ingest/population HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" \
                  b"Content-Type: multipart/form-data; boundary=b\r\nAuthorization: " + token + b"\r\n\r\n"
        assert _raw(server.url, chunked) == b"HTTP/1.1 411 Length Required"
    assert not (tmp_path / "jobs").exists() or not any((tmp_path / "jobs").glob("job-*"))


def test_the_worker_reads_the_jobs_still_to_do_not_every_job_there_was(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A portal queues a job per citizen's report: the worker's look for work reads the queued jobs only.
    A job made final leaves the queue, a retried one comes back, a store kept by an earlier HoSo (no
    queue) gets one from its jobs, and what a crash leaves behind (a name without a job, a final job
    still named) is cleared."""
    store = JobStore(tmp_path)
    done = []
    for n in range(30):
        job = store.create(SourceKind.CITIZEN, f"report-{n}.jsonl", iter([b"{}\n"]), "citizen", 1 << 20)
        job.state = JobState.DONE
        store.save(job)
        done.append(job)
    waiting = store.create(SourceKind.CITIZEN, "waiting.jsonl", iter([b"{}\n"]), "citizen", 1 << 20)
    read: list[str] = []
    get = JobStore.get
    monkeypatch.setattr(JobStore, "get", lambda self, job_id: read.append(job_id) or get(self, job_id))
    assert [j.job_id for j in store.unfinished()] == [waiting.job_id] and read == [waiting.job_id]
    assert len(store.recent(100)) == 31  # every job is still listed
    store.retry(store.cancel(waiting.job_id).job_id)  # cancelled: out of the queue; retried: back in it
    failed = done[3]
    failed.state = JobState.FAILED
    store.save(failed)
    store.retry(failed.job_id)
    assert [j.job_id for j in store.unfinished()] == sorted([failed.job_id, waiting.job_id])
    (store.queue / "job-20260101000000-deadbeef").touch()  # a creation that crashed before its job appeared
    finished_by_a_crash = get(store, waiting.job_id)
    finished_by_a_crash.state = JobState.DONE  # written final by a process that died before it took the name
    (store.path(waiting.job_id) / "job.json").write_text(json.dumps(finished_by_a_crash.as_json()))
    assert [j.job_id for j in store.unfinished()] == [failed.job_id]
    assert sorted(p.name for p in store.queue.iterdir()) == [failed.job_id]
    for marker in store.queue.iterdir():  # jobs queued by a HoSo that kept no queue
        marker.unlink()
    store.queue.rmdir()
    assert [j.job_id for j in JobStore(tmp_path).unfinished()] == [failed.job_id]
