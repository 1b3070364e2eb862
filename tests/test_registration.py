"""A citizen in control: self-registration and password reset with a code sent to the phone on file, and
the log of who read their record, with flags the data protection officer closes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import LinkedWorld
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import ValidationError

from api.access import related_ids
from api.app import create_app
from api.audit import person_hash
from api.messages import Refusal
from api.routes.disclosures import route_kind
from api.security import Role, add_user
from api.settings import Settings
from api.sms import HttpSmsGateway, SmsError, need_sms
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld) -> Iterator[Any]:
    local = linked_world(tmp_path_factory.mktemp("registration"), SynthConfig(persons=300, seed=43), KINDS, graph,
                         jobs_worker=False, webhooks_worker=False, otp_per_id_hour=4)
    adults = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.personal_id IS NOT NULL AND p.phone IS NOT NULL "
        "AND p.birth_date IS NOT NULL AND p.birth_year < date().year - 20 AND p.province IS NOT NULL "
        "AND NOT EXISTS { MATCH (:User {person_id: p.person_id}) } "
        "RETURN p {.person_id, .personal_id, .phone, .province, birth_date: toString(p.birth_date)} AS p "
        "ORDER BY p.person_id LIMIT 3").records
    child = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.personal_id IS NOT NULL AND p.phone IS NOT NULL "
        "AND p.birth_date IS NOT NULL AND p.birth_year > date().year - 17 "
        "RETURN p {.person_id, .personal_id, .phone, birth_date: toString(p.birth_date)} AS p LIMIT 1").records
    add_user(graph, "dpo", "officer password", Role.ADMIN)
    with TestClient(create_app(local)) as client:
        def login(name: str, password: str) -> dict[str, str]:
            token = client.post("/auth/token", data={"username": name, "password": password})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        yield {"client": client, "login": login, "settings": local, "adults": [r["p"] for r in adults],
               "child": child[0]["p"] if child else None, "outbox": local.data_path / "sms" / "outbox.jsonl"}


def _messages(outbox: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []


def _proof(person: dict[str, Any], **change: str) -> dict[str, str]:
    return {"personal_id": person["personal_id"], "birth_date": person["birth_date"], "phone": person["phone"]} | change


def _code(outbox: Path, phone: str) -> str:
    found = re.search(r"\b(\d{6})\b", [m for m in _messages(outbox) if m["phone"] == phone][-1]["text"])
    assert found is not None
    return found.group(1)


def test_a_citizen_registers_with_the_code_sent_to_the_phone_on_file(portal: Any, graph: Driver) -> None:
    client, person, outbox = portal["client"], portal["adults"][0], portal["outbox"]
    started = client.post("/register", json=_proof(person))
    assert started.status_code == 202, started.text
    body = started.json()
    assert set(body) == {"challenge_id", "expires_in", "detail"} and body["expires_in"] == 300
    code = _code(outbox, person["phone"])
    stored = graph.execute_query("MATCH (c:Challenge {id: $id}) RETURN c.code_hash AS h", {"id": body["challenge_id"]})
    assert code not in json.dumps(stored.records[0].data())  # only its keyed hash is kept
    weak = client.post(f"/register/{body['challenge_id']}", json={"code": code, "username": "lan.nguyen",
                                                                  "password": "short"})
    assert weak.status_code == 400 and weak.json()["detail"].startswith("mật khẩu:")
    made = client.post(f"/register/{body['challenge_id']}", json={"code": code, "username": "lan.nguyen",
                                                                  "password": "my own password 1"})
    assert made.status_code == 201, made.text
    assert made.json() == {"username": "lan.nguyen", "person_id": person["person_id"]}
    headers = portal["login"]("lan.nguyen", "my own password 1")
    assert client.get("/auth/me", headers=headers).json()["role"] == "citizen"
    assert client.get(f"/persons/{person['person_id']}", headers=headers).status_code == 200
    again = client.post(f"/register/{body['challenge_id']}", json={"code": code, "username": "lan.other",
                                                                   "password": "my own password 1"})
    assert again.status_code == 400  # a code opens once


def test_a_wrong_proof_gets_the_same_answer_and_no_code(portal: Any) -> None:
    client, person, outbox = portal["client"], portal["adults"][1], portal["outbox"]
    before = len(_messages(outbox))
    answers = [client.post("/register", json=proof) for proof in (
        _proof(person, birth_date="1901-01-01"), _proof(person, phone="0999999999"),
        _proof(person, personal_id="001099000000"))]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({json.dumps({k: v for k, v in a.json().items() if k != "challenge_id"}) for a in answers}) == 1
    assert len(_messages(outbox)) == before
    for answer in answers:  # no code opens a challenge that proved nothing
        tried = client.post(f"/register/{answer.json()['challenge_id']}",
                            json={"code": "123456", "username": "someone.else", "password": "guess password 9"})
        assert tried.status_code == 400 and tried.json()["detail"].startswith("mã không đúng")


def test_codes_are_limited_per_id_and_tries_per_code(portal: Any, graph: Driver) -> None:
    client, person, outbox = portal["client"], portal["adults"][2], portal["outbox"]
    challenge = client.post("/register", json=_proof(person)).json()["challenge_id"]
    code = _code(outbox, person["phone"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert client.post(f"/register/{challenge}", json={"code": wrong, "username": "tries.out",
                                                           "password": "some password 12"}).status_code == 400
    spent = client.post(f"/register/{challenge}", json={"code": code, "username": "tries.out",
                                                        "password": "some password 12"})
    assert spent.status_code == 400  # five wrong tries used the code up
    expired = client.post("/register", json=_proof(person)).json()["challenge_id"]
    graph.execute_query("MATCH (c:Challenge {id: $id}) SET c.expires_at = datetime() - duration('PT1S')",
                        {"id": expired})
    late = client.post(f"/register/{expired}", json={"code": _code(outbox, person["phone"]), "username": "too.late",
                                                     "password": "some password 12"})
    assert late.status_code == 400
    for _ in range(2):  # the limit is 4 an hour in this world, wrong proofs of the id included
        client.post("/register", json=_proof(person, phone="0911111111"))
    limited = client.post("/register", json=_proof(person))
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_a_child_and_an_existing_account_get_no_code(portal: Any) -> None:
    client, outbox = portal["client"], portal["outbox"]
    if portal["child"] is not None:
        before = len(_messages(outbox))
        assert client.post("/register", json=_proof(portal["child"])).status_code == 202
        assert len(_messages(outbox)) == before  # a child's record is read by their parents
    registered = portal["adults"][0]
    challenge = client.post("/register", json=_proof(registered)).json()["challenge_id"]
    told = [m for m in _messages(outbox) if m["phone"] == registered["phone"]][-1]["text"]
    assert "đã có tài khoản" in told and not re.search(r"\d{6}", told)
    assert client.post(f"/register/{challenge}", json={"code": "000000", "username": "second.account",
                                                       "password": "my own password 2"}).status_code == 400


def test_a_citizen_resets_their_password_by_the_same_proof(portal: Any) -> None:
    client, person, outbox = portal["client"], portal["adults"][0], portal["outbox"]
    challenge = client.post("/password-reset", json=_proof(person)).json()["challenge_id"]
    done = client.post(f"/password-reset/{challenge}", json={"code": _code(outbox, person["phone"]),
                                                            "password": "a new password 7"})
    assert done.status_code == 200 and done.json()["username"] == "lan.nguyen"
    assert client.post("/auth/token", data={"username": "lan.nguyen", "password": "my own password 1"}
                       ).status_code == 401
    portal["login"]("lan.nguyen", "a new password 7")


def test_a_citizen_sees_who_read_their_record_and_flags_a_read(portal: Any, graph: Driver) -> None:
    client, person = portal["client"], portal["adults"][0]
    add_user(graph, "dr.minh", "clinician password", Role.CLINICIAN, facility="01001", province=person["province"])
    doctor = portal["login"]("dr.minh", "clinician password")
    citizen = portal["login"]("lan.nguyen", "a new password 7")
    shown = client.get(f"/persons/{person['person_id']}", headers=doctor)
    assert shown.status_code == 200
    named = {person["person_id"], *related_ids(shown.json())}  # a profile discloses the relatives it names
    assert client.get("/persons", params={"personal_id": person["personal_id"]}, headers=doctor).status_code == 200
    assert client.get(f"/persons/{person['person_id']}", headers=citizen).status_code == 200  # one's own: not listed
    log = client.get("/me/disclosures", headers=citizen)
    assert log.status_code == 200, log.text
    mine = [d for d in log.json()["data"] if d["username"] == "dr.minh"]
    assert {d["route"] for d in mine} == {"profile", "search"}
    assert {d["person_id"] for d in mine} >= {person["person_id"]}
    # The citizen sees the reads of their own record and of the minor children the profile named.
    assert all(d["role"] == "clinician" and d["facility"] == "01001" and d["person_id"] in named for d in mine)
    assert not any(d["username"] == "lan.nguyen" for d in log.json()["data"])
    read = next(d for d in mine if d["route"] == "profile" and d["person_id"] == person["person_id"])
    flagged = client.post(f"/me/disclosures/{read['entry_id']}/flag", json={"note": "Tôi không khám ở đó"},
                          headers=citizen)
    assert flagged.status_code == 201 and flagged.json()["status"] == "open"
    twice = client.post(f"/me/disclosures/{read['entry_id']}/flag", json={"note": "again"}, headers=citizen)
    assert twice.json()["flag_id"] == flagged.json()["flag_id"]
    officer = portal["login"]("dpo", "officer password")
    open_flags = client.get("/tasks/access-flags", headers=officer).json()["data"]
    task = next(f for f in open_flags if f["flag_id"] == flagged.json()["flag_id"])
    assert task["province"] == person["province"]  # for that province's officer
    assert task["username"] == "dr.minh" and task["note"] == "Tôi không khám ở đó"
    closed = client.post(f"/tasks/access-flags/{task['flag_id']}/finding", headers=officer,
                         json={"finding": "justified", "reason": "Bác sĩ tra cứu khi bệnh nhân đến khám"})
    assert closed.status_code == 200
    shown = next(d for d in client.get("/me/disclosures", headers=citizen).json()["data"]
                 if d["entry_id"] == read["entry_id"])
    assert shown["flag"] == "justified" and shown["finding"] == "Bác sĩ tra cứu khi bệnh nhân đến khám"
    # An entry about someone else cannot be flagged, and staff have no access log of their own.
    stranger = portal["adults"][1]["person_id"]
    client.app.state.audit.record({"username": "dr.minh", "role": "clinician", "facility": "01001",  # type: ignore[attr-defined]
                                   "method": "GET", "endpoint": "/persons/{person_id}", "status": 200,
                                   "person_hash": person_hash(stranger, portal["settings"]), "client": "test"})
    client.app.state.audit.flush()  # type: ignore[attr-defined]
    other = graph.execute_query("MATCH (a:AuditEntry {person_hash: $h}) RETURN a.id AS id LIMIT 1",
                                {"h": person_hash(stranger, portal["settings"])}).records[0]["id"]
    assert client.post(f"/me/disclosures/{other}/flag", json={}, headers=citizen).status_code == 404
    assert client.get("/me/disclosures", headers=doctor).status_code == 403


@pytest.mark.parametrize(("endpoint", "kind"), [
    ("/persons/{person_id}", "profile"), ("/persons", "search"), ("/match", "match"),
    ("/persons/{person_id}/export", "export"), ("/fhir/Patient/{person_id}", "fhir"),
    ("/fhir/Patient/{person_id}/$summary", "export"), ("/review/items/{item}", "review"),
    ("/stations/{commune}/immunization-due", "work_list"), ("/events", "change_feed"), ("/consent", "consent"),
    ("/consent-requests", "consent"), ("/emergency", "emergency"), (None, "other"),
])
def test_routes_in_words(endpoint: str | None, kind: str) -> None:
    assert route_kind(endpoint) == kind


def test_production_sends_codes_only_through_a_real_gateway() -> None:
    secret = "k" * 48
    assert Settings(environment="production", jwt_secret=secret).sms_mode == "none"
    assert Settings().sms_mode == "file"
    with pytest.raises(ValidationError, match="HOSO_SMS_GATEWAY=file"):
        Settings(environment="production", jwt_secret=secret, sms_gateway="file")
    with pytest.raises(ValidationError, match="HOSO_SMS_URL"):
        Settings(sms_gateway="http")
    with pytest.raises(Refusal) as refused:
        need_sms(Settings(environment="production", jwt_secret=secret))
    assert refused.value.status_code == 503


def test_the_http_gateway_posts_each_message_with_its_token() -> None:
    """`HttpSmsGateway` against a real HTTP server on this machine: the JSON and the bearer token arrive; an
    answer other than 2xx is an SmsError."""
    received: list[tuple[str, dict[str, Any]]] = []
    answer = {"status": 202}

    class Provider(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers["Authorization"], body))
            self.send_response(answer["status"])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gateway = HttpSmsGateway(f"http://127.0.0.1:{server.server_port}/sms", "provider-token", "HoSo")
        gateway.send("0912345678", "HoSo: mã 123456")
        assert received == [("Bearer provider-token", {"to": "0912345678", "text": "HoSo: mã 123456",
                                                       "sender": "HoSo"})]
        answer["status"] = 500
        with pytest.raises(SmsError, match="500"):
            gateway.send("0912345678", "again")
    finally:
        server.shutdown()
    with pytest.raises(SmsError, match="did not answer"):
        HttpSmsGateway(f"http://127.0.0.1:{server.server_port}/sms", "t", "HoSo", timeout=1).send("0912345678", "x")
