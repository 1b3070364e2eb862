"""What every answer carries, and the smaller doors a careful operator closes: security headers, exports
a spreadsheet cannot run, URLs that do not follow a request's Host, accounts of real persons only,
citizens' reports at a human pace."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from analytics import write_report
from api.app import SELF_REPORTS_PER_HOUR, create_app
from api.security import AuthError, Role, add_user
from api.settings import Settings


def test_every_answer_carries_the_security_headers(graph: Driver, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for path in ("/health", "/persons/HS00000000000", "/no-such-path"):
            headers = client.get(path).headers
            assert headers["cache-control"] == "no-store", path
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
            assert headers["content-security-policy"].startswith("default-src 'none'")
        page = client.get("/ui/index.html").headers
        assert "frame-ancestors 'none'" in page["content-security-policy"] and page["x-frame-options"] == "DENY"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_exports_never_hold_a_formula(value: str) -> None:
    frame = pd.DataFrame({"facility": [value], "cases": [-3]})
    back = pd.read_csv(io.StringIO(write_report(frame, "csv").decode("utf-8-sig")), keep_default_na=False)
    assert back["facility"][0] == f"'{value}" and back["cases"][0] == -3  # the text made inert, the number kept
    sheet = pd.read_excel(io.BytesIO(write_report(frame, "xlsx")))
    assert sheet["facility"][0] == f"'{value}"
    html = write_report(frame, "html", "<script>alert(1)</script>").decode()
    assert "<script>" not in html


def test_absolute_urls_come_from_the_configured_address_not_the_host_header(graph: Driver, settings: Settings
                                                                            ) -> None:
    add_user(graph, "hardening-doctor", "doctor password", Role.CLINICIAN, province="01")
    local = settings.model_copy(update={"public_url": "https://hoso.example.vn"})
    with TestClient(create_app(local)) as client:
        token = client.post("/auth/token", data={"username": "hardening-doctor", "password": "doctor password"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Host": "evil.example"}
        found = client.get("/fhir/Patient", params={"identifier": "https://hoso.gov.vn/fhir/sid/cccd|001090012345"},
                           headers=headers)
        assert found.status_code == 200
        assert "evil.example" not in found.text


def test_a_citizen_account_needs_a_person_that_exists(graph: Driver) -> None:
    with pytest.raises(AuthError, match="no person 'HS00000000000'"):
        add_user(graph, "ghost-citizen", "citizen password", Role.CITIZEN, person_id="HS00000000000")


def test_a_citizen_reports_at_a_human_pace(graph: Driver, settings: Settings) -> None:
    person = graph.execute_query("MERGE (p:Person {person_id: 'HS0000000001A'}) SET p.status = 'active', "
                                 "p.name = 'Trần Văn Tư' RETURN p.person_id AS id").records[0]["id"]
    add_user(graph, "hardening-citizen", "citizen password", Role.CITIZEN, person_id=person)
    with TestClient(create_app(settings.model_copy(update={"jobs_worker": False}))) as client:
        token = client.post("/auth/token", data={"username": "hardening-citizen", "password": "citizen password"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answers = [client.post(f"/persons/{person}/self-reports", json={"smoking": True}, headers=headers)
                   for _ in range(SELF_REPORTS_PER_HOUR + 1)]
    assert [a.status_code for a in answers[:-1]] == [202] * SELF_REPORTS_PER_HOUR
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0
