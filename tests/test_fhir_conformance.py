"""FHIR that FHIR clients accept: everything HoSo's FHIR surface emits, and the synthetic FHIR source it
reads, validated by HL7's reference validator (HAPI FHIR's FhirInstanceValidator, R4, offline) with 0
errors; the International Patient Summary against its profiles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import LinkedWorld
from fastapi.testclient import TestClient
from fhir_validator.hapi import HapiValidator, Issue
from neo4j import Driver

from api.app import create_app
from api.security import Role, add_user
from api.settings import Settings
from graph import PersonOperations
from linkage.intake.registry import synthetic_files
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130, SourceKind.IMMUNIZATION,
         SourceKind.FHIR)


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld,
            settings: Settings) -> dict[str, Any]:
    """Every kind of FHIR answer HoSo gives, on a linked world of five sources, by a name for each."""
    root = tmp_path_factory.mktemp("fhir")
    local = linked_world(root, SynthConfig(persons=400, seed=17), KINDS, graph, jobs_worker=False)
    rich = graph.execute_query(
        "MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord) "
        "WITH p, count(DISTINCT r.source) AS sources, "
        "     count { (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:OBSERVED]->() } AS readings, "
        "     count { (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->() } AS visits "
        "WHERE p.province IS NOT NULL "
        "RETURN p.person_id AS id, p.province AS province, p.personal_id AS cccd "
        "ORDER BY sources + readings + visits DESC, id LIMIT 12").records
    province = rich[0]["province"]
    persons = [r for r in rich if r["province"] == province][:6]
    pair = graph.execute_query(  # two persons with personal ids: after the merge, one id is outvoted
        "MATCH (a:Person {status: 'active', province: $p}), (b:Person {status: 'active', province: $p}) "
        "WHERE a.person_id < b.person_id AND NOT a.person_id IN $used AND NOT b.person_id IN $used "
        "AND a.personal_id IS NOT NULL AND b.personal_id IS NOT NULL "
        "RETURN a.person_id AS survivor, b.person_id AS retired LIMIT 1",
        {"p": province, "used": [r["id"] for r in persons]}).records[0]
    PersonOperations(graph).merge(pair["survivor"], pair["retired"], "reviewer:test", "the same person, two ids")
    add_user(graph, "fhir-doctor", "clinician password", Role.CLINICIAN, facility="01001", province=province)
    found: dict[str, Any] = {}
    with TestClient(create_app(local)) as client:
        token = client.post("/auth/token", data={"username": "fhir-doctor", "password": "clinician password"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for n, person in enumerate(persons):
            found[f"read-{n}"] = client.get(f"/fhir/Patient/{person['id']}", headers=headers).json()
            found[f"export-{n}"] = client.get(f"/persons/{person['id']}/export", params={"format": "fhir"},
                                              headers=headers).json()
            found[f"summary-{n}"] = client.get(f"/fhir/Patient/{person['id']}/$summary", headers=headers).json()
        found["read-retired"] = client.get(f"/fhir/Patient/{pair['retired']}", headers=headers).json()
        cccd = next(r["cccd"] for r in persons if r["cccd"])
        found["search"] = client.get("/fhir/Patient", params={"identifier": f"https://hoso.gov.vn/fhir/sid/cccd|{cccd}"},
                                     headers=headers).json()
        merged = graph.execute_query(
            "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(:Person {person_id: $s}) "
            "WHERE r.personal_id IS NOT NULL AND r.personal_id <> coalesce($golden, '') "
            "RETURN r.personal_id AS id ORDER BY id LIMIT 1", {"s": pair["survivor"], "golden": graph.execute_query(
                "MATCH (p:Person {person_id: $s}) RETURN p.personal_id AS g", {"s": pair["survivor"]}
            ).records[0]["g"]}).records
        # the retired person's id, outvoted in the survivor's golden record (or the golden one when both agree)
        merged_id = merged[0]["id"] if merged else graph.execute_query(
            "MATCH (p:Person {person_id: $s}) RETURN p.personal_id AS g", {"s": pair["survivor"]}).records[0]["g"]
        found["search-merged"] = client.get("/fhir/Patient", params={
            "identifier": f"https://hoso.gov.vn/fhir/sid/cccd|{merged_id}"}, headers=headers).json()
        found["search-empty"] = client.get("/fhir/Patient", params={
            "identifier": "https://hoso.gov.vn/fhir/sid/cccd|001099999999"}, headers=headers).json()
        patient = found["read-0"]
        query = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {
            k: patient[k] for k in ("resourceType", "name", "birthDate", "gender", "identifier") if k in patient}}]}
        found["match"] = client.post("/fhir/Patient/$match", json=query, headers=headers).json()
        found["metadata"] = client.get("/fhir/metadata").json()
        found["error-404"] = client.get("/fhir/Patient/HS00000000000", headers=headers).json()
        found["error-400"] = client.get("/fhir/Patient", params={"identifier": "nonsense"}, headers=headers).json()
        found["error-401"] = client.get(f"/fhir/Patient/{persons[0]['id']}").json()
    found["_persons"] = persons
    found["_retired"] = dict(pair)
    found["_world"] = root / "synth"
    return found


@pytest.fixture(scope="module")
def verdicts(emitted: dict[str, Any], settings: Settings) -> dict[str, list[Issue]]:
    resources = {k: v for k, v in emitted.items() if not k.startswith("_")}
    for path in synthetic_files(emitted["_world"], SourceKind.FHIR):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()[:40]):
            resources[f"input-{path.stem}-{n}"] = json.loads(line)
    return HapiValidator(settings.cache_dir).validate(resources)


def _errors(verdicts: dict[str, list[Issue]], prefix: str) -> list[str]:
    named = [k for k in verdicts if k.startswith(prefix)]
    assert named, f"nothing named {prefix}* was validated"
    return [f"{k}: {i}" for k in named for i in verdicts[k] if i.is_error]


@pytest.mark.parametrize("kind", ["read", "search", "match", "export", "summary", "metadata", "error", "input"])
def test_hl7_validator_finds_no_error(verdicts: dict[str, list[Issue]], kind: str) -> None:
    errors = _errors(verdicts, kind)
    assert not errors, "\n".join(errors[:30])


def test_a_retired_id_reads_as_a_retired_patient(emitted: dict[str, Any]) -> None:
    retired, survivor = emitted["_retired"]["retired"], emitted["_retired"]["survivor"]
    patient = emitted["read-retired"]
    assert patient["id"] == retired and patient["active"] is False
    assert patient["link"] == [{"other": {"reference": f"Patient/{survivor}"}, "type": "replaced-by"}]


def test_errors_under_fhir_are_operation_outcomes(emitted: dict[str, Any]) -> None:
    kinds = {"error-404": "not-found", "error-400": "invalid", "error-401": "login"}
    for name, kind in kinds.items():
        outcome = emitted[name]
        assert outcome["resourceType"] == "OperationOutcome", name
        assert outcome["issue"][0]["code"] == kind and outcome["issue"][0]["diagnostics"], name


def test_the_summary_is_an_ips_document(emitted: dict[str, Any]) -> None:
    for n, person in enumerate(emitted["_persons"]):
        bundle = emitted[f"summary-{n}"]
        assert bundle["type"] == "document" and bundle["identifier"]["value"].startswith("urn:uuid:")
        composition = bundle["entry"][0]["resource"]
        assert composition["resourceType"] == "Composition" and composition["type"]["coding"][0]["code"] == "60591-5"
        sections = {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
        assert {"48765-2", "11450-4", "10160-0"} <= set(sections)  # the three sections IPS requires
        assert sections["10160-0"]["emptyReason"]["coding"][0]["code"] == "unavailable"  # HoSo holds no drugs
        urls = {e["fullUrl"] for e in bundle["entry"]}
        for section in sections.values():  # every entry a section names is in the document
            assert all(ref["reference"] in urls for ref in section.get("entry", []))
            assert 'lang="vi"' in section["text"]["div"]
        patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        assert patient["id"] == person["id"]
    assert any("entry" in s for n in range(len(emitted["_persons"]))
               for s in emitted[f"summary-{n}"]["entry"][0]["resource"]["section"] if s["code"]["coding"][0]["code"]
               == "8716-3"), "no summary had vital signs: the world should give some"


def test_the_export_carries_classes_readings_and_devices(emitted: dict[str, Any]) -> None:
    resources = [e["resource"] for n in range(len(emitted["_persons"])) for e in emitted[f"export-{n}"]["entry"]]
    classes = {r["class"]["code"] for r in resources if r["resourceType"] == "Encounter"}
    assert {"AMB", "IMP"} <= classes, classes
    panels = [r for r in resources
              if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "85354-9"]
    assert panels and all(r["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/bp"] for r in panels)
    assert all(c["valueQuantity"]["code"] == "mm[Hg]" for r in panels for c in r["component"])
    providers = [r["serviceProvider"]["identifier"] for r in resources if r["resourceType"] == "Encounter"
                 and "serviceProvider" in r]
    assert providers and all(p["system"] == "https://hoso.gov.vn/fhir/sid/facility" for p in providers)


def test_search_by_a_merged_persons_id_finds_the_survivor(emitted: dict[str, Any], graph: Driver) -> None:
    retired, survivor = emitted["_retired"]["retired"], emitted["_retired"]["survivor"]
    cccd = graph.execute_query(
        "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(:Person {person_id: $s}) "
        "WHERE r.personal_id IS NOT NULL RETURN r.personal_id AS id", {"s": survivor}).records
    assert cccd, "the merged persons should hold a personal id"
    found = emitted["search-merged"]
    assert [e["resource"]["id"] for e in found["entry"]] == [survivor], retired
