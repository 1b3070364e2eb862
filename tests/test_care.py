"""Care across provinces: consent at the point of care (a code from the portal or sent to the phone on file)
opens the record to one clinician for a day; break-the-glass opens the emergency summary only, and shows in
the citizen's log and the data protection officer's list at once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LinkedWorld
from fastapi.testclient import TestClient
from neo4j import Driver

from api.access import closed_view
from api.app import create_app
from api.security import Role, add_user
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130, SourceKind.IMMUNIZATION)
REASON = "unconscious after a road accident, allergies needed before surgery"


@pytest.fixture(scope="module")
def care(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld) -> Iterator[Any]:
    local = linked_world(tmp_path_factory.mktemp("care"), SynthConfig(persons=300, seed=53), KINDS, graph,
                         jobs_worker=False, webhooks_worker=False)
    person = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.personal_id IS NOT NULL AND p.phone IS NOT NULL "
        "AND p.province IS NOT NULL AND p.birth_year < date().year - 20 "
        "AND EXISTS { (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->(:Encounter)-[:AT]->() } "
        "WITH p ORDER BY p.person_id "
        "RETURN p {.person_id, .personal_id, .phone, .province} AS p LIMIT 1").records[0]["p"]
    far = "01" if person["province"] != "01" else "79"
    add_user(graph, "care-citizen", "citizen password", Role.CITIZEN, person_id=person["person_id"])
    for name in ("dr.far", "dr.sms", "dr.glass"):
        add_user(graph, name, "clinician password", Role.CLINICIAN, facility="01001", province=far)
    add_user(graph, "care-dpo", "officer password", Role.ADMIN)
    add_user(graph, "care-dpo-home", "officer password", Role.ADMIN, province=person["province"])
    add_user(graph, "care-dpo-far", "officer password", Role.ADMIN, province=far)
    add_user(graph, "dr.home", "clinician password", Role.CLINICIAN, facility="ZZ999", province=person["province"])
    add_user(graph, "care-relative", "relative password", Role.CITIZEN, person_id=graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.person_id <> $id AND p.birth_year < date().year - 20 "
        "AND NOT EXISTS { MATCH (p)-[:PARENT_OF]-(:Person {person_id: $id}) } "
        "AND NOT EXISTS { MATCH (p)-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF]-(:Person {person_id: $id}) } "
        "RETURN p.person_id AS id LIMIT 1", {"id": person["person_id"]}).records[0]["id"])
    with TestClient(create_app(local)) as client:
        def login(name: str) -> dict[str, str]:
            password = {"care-citizen": "citizen password", "care-relative": "relative password"}.get(
                name, "officer password" if name.startswith("care-dpo") else "clinician password")
            token = client.post("/auth/token", data={"username": name, "password": password})
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        yield {"client": client, "login": login, "person": person, "outbox": local.data_path / "sms" / "outbox.jsonl"}


def _texts(care: Any) -> list[dict[str, str]]:
    outbox = care["outbox"]
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []


def test_a_consent_code_from_the_portal_opens_the_record_to_one_clinician(care: Any) -> None:
    client, person = care["client"], care["person"]
    far, other = care["login"]("dr.far"), care["login"]("dr.sms")
    assert client.get(f"/persons/{person['person_id']}", headers=far).status_code == 403
    made = client.post("/me/consent-codes", json={}, headers=care["login"]("care-citizen"))
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code) and made.json()["grant_hours"] == 24
    granted = client.post("/consent", json={"code": code.lower().replace("-", " ")}, headers=far)
    assert granted.status_code == 201, granted.text
    assert granted.json()["person_id"] == person["person_id"]
    assert client.get(f"/persons/{person['person_id']}", headers=far).status_code == 200
    assert client.get(f"/fhir/Patient/{person['person_id']}", headers=far).status_code == 200
    assert client.post("/consent", json={"code": code}, headers=other).status_code == 400  # it opened once
    assert client.get(f"/persons/{person['person_id']}", headers=other).status_code == 403


def test_a_code_sent_to_the_phone_on_file_opens_the_record(care: Any) -> None:
    client, person = care["client"], care["person"]
    doctor = care["login"]("dr.sms")
    before = len(_texts(care))
    unknown = client.post("/consent-requests", json={"personal_id": "001099000001"}, headers=doctor)
    asked = client.post("/consent-requests", json={"personal_id": person["personal_id"]}, headers=doctor)
    assert unknown.status_code == asked.status_code == 202 and unknown.json() == asked.json()
    texts = _texts(care)[before:]
    assert len(texts) == 1 and "dr.sms" in texts[0]["text"]
    code = re.search(r"\b(\d{6})\b", texts[0]["text"]).group(1)  # type: ignore[union-attr]
    assert client.post("/consent", json={"code": code}, headers=doctor).status_code == 400  # needs the id too
    granted = client.post("/consent", params={"personal_id": person["personal_id"]}, json={"code": code},
                          headers=doctor)
    assert granted.status_code == 201, granted.text
    assert client.get(f"/persons/{person['person_id']}", headers=doctor).status_code == 200


def test_a_grant_ends_with_time_or_when_the_citizen_ends_it(care: Any, graph: Driver) -> None:
    client, person = care["client"], care["person"]
    graph.execute_query("MATCH (g:AccessGrant {username: 'dr.far'}) SET g.expires_at = datetime() - duration('PT1S')")
    assert client.get(f"/persons/{person['person_id']}", headers=care["login"]("dr.far")).status_code == 403
    citizen = care["login"]("care-citizen")
    grants = client.get("/me/delegations", headers=citizen).json()["data"]
    by_sms = next(g for g in grants if g["username"] == "dr.sms")
    assert by_sms["kind"] == "consent" and "dr.far" not in [g["username"] for g in grants]  # expired: gone
    assert client.delete(f"/me/delegations/{by_sms['grant_id']}", headers=citizen).status_code == 204
    assert client.get(f"/persons/{person['person_id']}", headers=care["login"]("dr.sms")).status_code == 403


def test_break_the_glass_opens_the_emergency_summary_only_and_is_seen(care: Any) -> None:
    client, person = care["client"], care["person"]
    doctor = care["login"]("dr.glass")
    short = client.post("/emergency", json={"personal_id": person["personal_id"], "reason": "need it"},
                        headers=doctor)
    assert short.status_code == 422
    summary = client.post("/emergency", json={"personal_id": person["personal_id"], "reason": REASON},
                          headers=doctor)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["person_id"] == person["person_id"] and body["name"]
    assert all(isinstance(body[k], list) for k in ("allergies", "chronic_conditions", "immunizations"))
    assert body["blood_type"] is None and body["current_medication"] is None
    assert "visits" not in body and "records" not in body  # the summary, never the whole record
    assert client.get(f"/persons/{person['person_id']}", headers=doctor).status_code == 403
    log = client.get("/me/disclosures", headers=care["login"]("care-citizen")).json()["data"]
    seen = [d for d in log if d["username"] == "dr.glass"]
    assert [d["route"] for d in seen] == ["emergency"]
    assert {d["username"] for d in log if d["route"] == "profile"} >= {"dr.far", "dr.sms"}  # reads under consent
    flags = client.get("/tasks/access-flags", headers=care["login"]("care-dpo")).json()["data"]
    glass = next(f for f in flags if f["flag_id"] == body["flag_id"])
    assert glass["kind"] == "break_glass" and glass["username"] == "dr.glass" and glass["note"] == REASON
    # The officer of the person's province sees it; the officer of another province neither sees nor closes it.
    home_flags = client.get("/tasks/access-flags", headers=care["login"]("care-dpo-home")).json()["data"]
    assert body["flag_id"] in [f["flag_id"] for f in home_flags]
    far = care["login"]("care-dpo-far")
    assert body["flag_id"] not in [f["flag_id"] for f in client.get("/tasks/access-flags", headers=far).json()["data"]]
    assert client.post(f"/tasks/access-flags/{body['flag_id']}/finding", headers=far,
                       json={"finding": "breach", "reason": "not my province"}).status_code == 404
    nobody = client.post("/emergency", json={"personal_id": "001099000002", "reason": REASON}, headers=doctor)
    assert nobody.status_code == 404


def test_only_clinicians_use_consent_and_only_citizens_give_it(care: Any) -> None:
    client = care["client"]
    citizen, officer = care["login"]("care-citizen"), care["login"]("care-dpo")
    assert client.post("/consent", json={"code": "ABCD-EFGH"}, headers=citizen).status_code == 403
    assert client.post("/emergency", json={"personal_id": care["person"]["personal_id"], "reason": REASON},
                       headers=officer).status_code == 403
    assert client.post("/me/consent-codes", json={}, headers=care["login"]("dr.far")).status_code == 403


def test_a_closed_visit_and_a_closed_record_are_hidden_from_other_facilities_only(care: Any, graph: Driver) -> None:
    client, person = care["client"], care["person"]
    citizen, home = care["login"]("care-citizen"), care["login"]("dr.home")
    visits = client.get(f"/persons/{person['person_id']}", headers=citizen).json()["visits"]
    visit = next(v for v in visits if v["facility"])
    add_user(graph, "dr.author", "clinician password", Role.CLINICIAN, facility=visit["facility"],
             province=person["province"])
    author = care["login"]("dr.author")
    closed = client.post("/me/closures", json={"scope": "visit", "target": visit["encounter_id"]}, headers=citizen)
    assert closed.status_code == 201, closed.text
    seen = client.get(f"/persons/{person['person_id']}", headers=home).json()
    assert visit["encounter_id"] not in [v["encounter_id"] for v in seen["visits"]] and seen["closed_items"] >= 1
    assert visit["encounter_id"] in [v["encounter_id"] for v in
                                     client.get(f"/persons/{person['person_id']}", headers=author).json()["visits"]]
    assert visit["encounter_id"] in [v["encounter_id"] for v in
                                     client.get(f"/persons/{person['person_id']}", headers=citizen).json()["visits"]]
    def encounters(headers: dict[str, str]) -> int:
        bundle = client.get(f"/persons/{person['person_id']}/export", params={"format": "fhir"}, headers=headers)
        return sum(e["resource"]["resourceType"] == "Encounter" for e in bundle.json()["entry"])

    assert encounters(home) == encounters(author) - 1 == len(visits) - 1  # the export honours it too
    whole = client.post("/me/closures", json={"scope": "record"}, headers=citizen).json()["closure_id"]
    record = client.get(f"/persons/{person['person_id']}", headers=home).json()
    assert record["visits"] == [] and record["immunizations"] == [] and record["history"] == []
    assert record["administrative"]["name"]  # who the person is stays readable
    summary = client.get(f"/fhir/Patient/{person['person_id']}/$summary", headers=home).json()
    assert not [e for e in summary["entry"] if e["resource"]["resourceType"] in ("Immunization", "Encounter")]
    listed = client.get("/me/closures", headers=citizen).json()
    assert {c["scope"] for c in listed["data"]} == {"visit", "record"} and "mental_health" in listed["groups"]
    for closure in listed["data"]:
        assert client.delete(f"/me/closures/{closure['closure_id']}", headers=citizen).status_code == 204
    assert client.delete(f"/me/closures/{whole}", headers=citizen).status_code == 404
    assert len(client.get(f"/persons/{person['person_id']}", headers=home).json()["visits"]) == len(visits)


def test_a_relative_reads_for_a_period_the_citizen_chose(care: Any, graph: Driver) -> None:
    client, person = care["client"], care["person"]
    citizen, relative = care["login"]("care-citizen"), care["login"]("care-relative")
    assert client.get(f"/persons/{person['person_id']}", headers=relative).status_code == 404
    made = client.post("/me/delegations", json={"username": "care-relative", "days": 7}, headers=citizen)
    assert made.status_code == 201, made.text
    assert client.get(f"/persons/{person['person_id']}", headers=relative).status_code == 200
    assert client.post("/me/delegations", json={"username": "nobody-here", "days": 7},
                       headers=citizen).status_code == 404
    listed = client.get("/me/delegations", headers=citizen).json()["data"]
    assert [d["username"] for d in listed if d["kind"] == "relative"] == ["care-relative"]
    assert client.delete(f"/me/delegations/{made.json()['grant_id']}", headers=citizen).status_code == 204
    assert client.get(f"/persons/{person['person_id']}", headers=relative).status_code == 404


def test_a_closed_diagnosis_group_hides_its_visits_and_history() -> None:
    profile = {"visits": [{"encounter_id": "e1", "facility": "A", "diagnoses": [{"icd10": "F32.1"}]},
                          {"encounter_id": "e2", "facility": "B", "diagnoses": [{"icd10": "J06.9"}]},
                          {"encounter_id": "e3", "facility": "C", "diagnoses": [{"icd10": "O80"}]}],
               "history": [{"icd10": "F20"}, {"icd10": "I10"}], "immunizations": [{"facility": "A"}],
               "observations": [{"code": "systolic_bp"}]}
    closures = [{"scope": "group", "target": "mental_health"}]
    seen = closed_view(profile, closures, "B")
    assert [v["encounter_id"] for v in seen["visits"]] == ["e2", "e3"] and seen["history"] == [{"icd10": "I10"}]
    assert closed_view(profile, closures, "A")["visits"][0]["encounter_id"] == "e1"  # its own facility's visit
    whole = closed_view(profile, [{"scope": "record", "target": ""}], "A")
    assert [v["encounter_id"] for v in whole["visits"]] == ["e1"] and whole["immunizations"] == [{"facility": "A"}]
    assert whole["observations"] == [] and whole["closed_items"] == 2 + 2 + 0 + 1
    emergency = closed_view(profile, [{"scope": "record", "target": ""}, *closures], "B", emergency=True)
    assert emergency["history"] == [{"icd10": "I10"}] and len(emergency["immunizations"]) == 1
