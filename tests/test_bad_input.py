"""A corpus of bad input: files, records, mappings, request bodies, query strings, headers, file names.

Each case asserts what a person sending it must get: no server error and no traceback, but a clear
reason (an error naming the file or field, or a quarantine reason naming the field), with every valid
record of the same file kept. At the end, the next good batch still links into the same data
directory: no bad input stops linking for anyone.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import SecretStr

from api.app import create_app
from api.security import Role, add_user
from api.services import run_linking
from api.settings import Settings
from graph import Neo4jTarget
from linkage import IngestError, SourceKind, ingest
from linkage.intake import synthetic_inputs
from linkage.synth import SynthConfig, generate

HEADER = "so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,dia_chi_thuong_tru,ma_tinh_thuong_tru,ma_xa_thuong_tru\n"
GOOD = "079192000777,Hoàng Văn Long,1992-03-04,Nam,Số 1 Lê Lợi,79,26734"

# One population row each, then the reason a reader must give (a part of it), or None when the row is
# fine as it is (odd, but valid): the good row beside it is always kept.
ROWS: list[tuple[str, str | None]] = [
    (",Nguyễn Văn An,1990-01-02,Nam,,,", "so_dinh_danh"),
    ("079192000001,,1990-01-02,Nam,,,", "ho_ten"),
    ("079192000002,Nguyễn Văn An,,Nam,,,", "ngay_sinh"),
    ("079192000003,Nguyễn Văn An,1990-01-02,,,,", "gioi_tinh"),
    ("079192000004,Nguyễn Văn An,31/02/1990,Nam,,,", "ngay_sinh: date '…' is not a date"),
    ("079192000005,Nguyễn Văn An,1990-13-01,Nam,,,", "ngay_sinh: date '…'"),
    ("079192000006,Nguyễn Văn An,not a date,Nam,,,", "ngay_sinh: date '…' is not a date"),
    ("079192000007,Nguyễn Văn An,2999-01-01,Nam,,,", "future"),
    ("079192000008,Nguyễn Văn An,1700-01-01,Nam,,,", "1890"),
    ("079192000009,Nguyễn Văn An,1990-01-02,X,,,", "gioi_tinh"),
    ("123,Nguyễn Văn An,1990-01-02,Nam,,,", "wrong shape"),
    ("07919200001A,Nguyễn Văn An,1990-01-02,Nam,,,", "wrong shape"),
    ("079192000012,Nguyễn\x00Văn An,1990-01-02,Nam,,,", "control character"),
    ("079192000013,Nguyễn\x1bVăn An,1990-01-02,Nam,,,", "control character"),
    ("079192000014," + "Ạ" * 201 + ",1990-01-02,Nam,,,", "at most 200"),
    ("079192000015,Nguyễn Văn An,1990-01-02,Nam," + "Đ" * 1001 + ",,", "at most 1000"),
    ("079192000016,Nguyễn Văn An,1990-01-02,Nam,Số 1\x7f,,", "control character"),
    ("079192000017,Nguyễn Văn An,1990-01-02,Nam,,7,26734", "province_code"),
    ("079192000018,Nguyễn Văn An,1990-01-02,Nam,,79,2673", "commune_code"),
    ("079192000019,Nguyễn Văn An,1990-01-02,Nam,,7X,26734", "province_code"),
    ("079192000020,=cmd|' /C calc'!A0,1990-01-02,Nam,,,", None),
    ("079192000021,Nguyễn Văn An 😀,1990-01-02,Nam,,,", None),
    ("079192000022,Nguyễn \u202eVăn An,1990-01-02,Nam,,,", None),
    ("079192000023,   ,1990-01-02,Nam,,,", "ho_ten"),
    ("079192000024,Nguyễn Văn An,1990-01-02,Nam,,,,,,,extra,columns", "more fields than the header names"),
    ('079192000025,"Nguyễn Văn An,1990-01-02,Nam,,,', "ngay_sinh"),
    ("079192000026,<script>alert(1)</script>,1990-01-02,Nam,,,", None),
    ("079192000027,Nguyễn Văn An,1990-02-29,Nam,,,", "ngay_sinh: date '…'"),
    ("079192000028,Nguyễn Văn An,0000-01-01,Nam,,,", "ngay_sinh: date '…'"),
    ("079192000029,Nguyễn Văn An,99999-01-01,Nam,,,", "ngay_sinh: date '…'"),
]


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-input") / "data"


@pytest.mark.parametrize(("row", "reason"), ROWS, ids=[f"row{n}" for n in range(len(ROWS))])
def test_a_bad_row_costs_that_row_only(data: Path, tmp_path: Path, row: str, reason: str | None) -> None:
    path = _write(tmp_path / "registry.csv", HEADER + GOOD + "\n" + row + "\n")  # a stray quote runs to the end
    summary = ingest(SourceKind.POPULATION, [path], data)
    if reason is None:
        assert (summary.accepted, summary.quarantined) == (2, 0), summary.reasons
        return
    assert (summary.accepted, summary.quarantined) == (1, 1), summary.reasons
    assert any(reason in key for key in summary.reasons), summary.reasons
    assert not any("Traceback" in key for key in summary.reasons)


# Whole files: the error names the file and what is wrong, or every row is quarantined with its reason.
FILES: list[tuple[SourceKind, str, bytes, str]] = [
    (SourceKind.POPULATION, "empty.csv", b"", "empty"),
    (SourceKind.POPULATION, "binary.csv", bytes(range(256)) * 8, ""),
    (SourceKind.POPULATION, "wrong-header.csv", b"a,b,c\n1,2,3\n", "so_dinh_danh"),
    (SourceKind.POPULATION, "utf16.csv", codecs.BOM_UTF16_LE + (HEADER + GOOD + "\n").encode("utf-16-le"), ""),
    (SourceKind.POPULATION, "xml-as-csv.csv", b"<?xml version='1.0'?><DANHSACHHOSO/>", ""),
    (SourceKind.POPULATION, "json-as-csv.csv", b'{"resourceType": "Bundle"}', ""),
    (SourceKind.COMMUNE831, "broken.xml", b"<DANHSACHHOSO><HOSOSUCKHOE><THONGTINCHUNG>", ""),
    (SourceKind.COMMUNE831, "empty.xml", b"", ""),
    (SourceKind.COMMUNE831, "not-xml.xml", b"so_dinh_danh,ho_ten\n1,2\n", ""),
    (SourceKind.COMMUNE831, "xxe.xml", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                       b"<DANHSACHHOSO><HOSOSUCKHOE><THONGTINCHUNG><HOTEN>&x;</HOTEN>"
                                       b"</THONGTINCHUNG></HOSOSUCKHOE></DANHSACHHOSO>", ""),
    (SourceKind.COMMUNE831, "laughs.xml", b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                                          b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                                          b"<DANHSACHHOSO>&b;</DANHSACHHOSO>", ""),
    (SourceKind.COMMUNE831, "wrong-root.xml", b"<GIAMDINHHS><THONGTINHANHCHINH/></GIAMDINHHS>", ""),
    (SourceKind.COMMUNE831, "deep.xml", b"<DANHSACHHOSO>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</DANHSACHHOSO>",
     ""),
    (SourceKind.HOSPITAL130, "broken.xml", b"<GIAMDINHHS><THONGTINHOSO>", ""),
    (SourceKind.HOSPITAL130, "empty.xml", b"", ""),
    (SourceKind.HOSPITAL130, "not-base64.xml", b"<GIAMDINHHS><THONGTINHOSO><DANHSACHHOSO><HOSO><FILEHOSO>"
                                               b"<LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>%%%not base64%%%"
                                               b"</NOIDUNGFILE></FILEHOSO></HOSO></DANHSACHHOSO>"
                                               b"</THONGTINHOSO></GIAMDINHHS>", ""),
    (SourceKind.IMMUNIZATION, "empty.csv", b"", "empty"),
    (SourceKind.IMMUNIZATION, "wrong-header.csv", b"x,y\n1,2\n", ""),
    (SourceKind.FHIR, "not-json.ndjson", b"this is not json\n", ""),
    (SourceKind.FHIR, "deep.ndjson", b"[" * 100_000 + b"]" * 100_000 + b"\n", ""),
    (SourceKind.FHIR, "array.ndjson", b"[1, 2, 3]\n", ""),
    (SourceKind.FHIR, "wrong-type.ndjson", b'{"resourceType": "Observation", "status": "final"}\n', ""),
    (SourceKind.FHIR, "no-name.ndjson", b'{"resourceType": "Patient", "id": "x1", "birthDate": "1990-01-02"}\n', ""),
    (SourceKind.FHIR, "bad-date.ndjson", b'{"resourceType": "Patient", "id": "x2", "name": [{"text": "Lan"}], '
                                         b'"birthDate": "1990-02-31"}\n', ""),
    (SourceKind.FHIR, "huge-number.ndjson", b'{"resourceType": "Patient", "id": "x3", "name": [{"text": "Lan"}], '
                                            b'"multipleBirthInteger": 1' + b"0" * 5000 + b"}\n", ""),
    (SourceKind.FHIR, "bundle.json", b'{"resourceType": "Bundle", "type": "collection", "entry": "nope"}', ""),
    (SourceKind.CITIZEN, "report.jsonl", b'{"record_id": "r1"}\n"just a string"\n{broken\n', ""),
]


@pytest.mark.parametrize(("kind", "name", "body", "reason"), FILES, ids=[f"{k.value}-{n}" for k, n, _, _ in FILES])
def test_a_bad_file_is_refused_with_a_reason_or_quarantined_whole(data: Path, tmp_path: Path, kind: SourceKind,
                                                                  name: str, body: bytes, reason: str) -> None:
    path = _write(tmp_path / name, body)
    try:
        summary = ingest(kind, [path], data)
    except IngestError as exc:
        message = str(exc)
        assert message and "Traceback" not in message and reason in message
        assert name in message or "empty" in message or kind.value in message, message
        return
    assert summary.accepted <= 1  # at most the one good record some files hold
    assert summary.read == summary.accepted + summary.quarantined
    assert all(key.strip() for key in summary.reasons) and reason in " ".join(summary.reasons)


MAPPING = '[source]\nsystem = "clinic"\n{source}\n[columns]\nrecord_id = "ma"\nfull_name = "ten"\n{columns}\n'
MAPPINGS: list[tuple[str, bytes, str]] = [
    ("unknown encoding", MAPPING.format(source='encoding = "klingon"', columns="").encode(), "unknown encoding"),
    ("two-character delimiter", MAPPING.format(source='delimiter = ";;"', columns="").encode(), "delimiter"),
    ("not UTF-8", MAPPING.format(source="", columns="").encode("utf-16"), "not UTF-8"),
    ("not TOML", b"[source\nsystem = ", "bad mapping"),
    ("no source", b'[columns]\nfull_name = "ten"\n', "source"),
    ("no name column", b'[source]\nsystem = "clinic"\n[columns]\nrecord_id = "ma"\n', "full_name or given_name"),
    ("missing column", MAPPING.format(source="", columns='birth_date = "ngay"').encode(), "ngay"),
    ("bad sex code", MAPPING.format(source="", columns="").encode() + b'[sex_codes]\nM = "robot"\n', "sex_codes"),
    ("bad identifier kind", MAPPING.format(source="", columns="").encode()
     + b'[[identifiers]]\ncolumn = "ma"\nkind = "dna"\n', "identifiers"),
    ("empty", b"", "source"),
    ("misspelt key", MAPPING.format(source="", columns='birth_dat = "ten"').encode(), "columns.birth_dat"),
    ("empty fallback list", MAPPING.format(source="", columns="sex = []").encode(), "sex"),
    ("join of nothing", MAPPING.format(source="", columns="phone = { join = [] }").encode(), "phone"),
    ("other id without system", MAPPING.format(source="", columns="").encode()
     + b'[[identifiers]]\ncolumn = "ma"\nkind = "other"\n', "needs its system"),
]


@pytest.mark.parametrize(("what", "mapping", "reason"), MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_a_bad_mapping_is_refused_naming_the_problem(data: Path, tmp_path: Path, what: str, mapping: bytes,
                                                      reason: str) -> None:
    rows = _write(tmp_path / "clinic.csv", "ma,ten\nK1,Nguyễn Văn An\n")
    with pytest.raises(IngestError) as refused:
        ingest(SourceKind.CSV, [rows], data, mapping=_write(tmp_path / "clinic.toml", mapping))
    assert reason in str(refused.value) and "Traceback" not in str(refused.value)
    assert str(tmp_path) not in str(refused.value)  # the file's name, not where the server keeps it


def test_after_all_that_the_next_good_batch_still_links(data: Path, tmp_path: Path, graph: Driver,
                                                        settings: Settings) -> None:
    generate(SynthConfig(persons=150, seed=61, profile="realistic"), tmp_path / "synth")
    for kind, files, mapping in synthetic_inputs(tmp_path / "synth", [SourceKind.POPULATION, SourceKind.COMMUNE831]):
        ingest(kind, files, data, mapping=mapping)
    summary = run_linking(settings.model_copy(update={"data_dir": data}), graph, "neo4j")
    assert summary["set_aside"] == {}
    assert summary["match_links"] > 150 and summary["persons"] > 100


# The API: request bodies, query strings, headers and file names, as a signed-in user of the right role.
@pytest.fixture(scope="module")
def api(graph: Driver, settings: Settings, neo4j_target_: Neo4jTarget, data: Path) -> Any:
    add_user(graph, "corpus-doctor", "doctor password", Role.CLINICIAN, province="79")
    add_user(graph, "corpus-admin", "admin password", Role.ADMIN)
    add_user(graph, "corpus-epi", "epidemiologist password", Role.EPIDEMIOLOGIST)
    add_user(graph, "corpus-reviewer", "reviewer password", Role.REVIEWER)
    local = settings.model_copy(update={"data_dir": data, "neo4j_uri": neo4j_target_.uri, "jobs_worker": False,
                                        "neo4j_password": SecretStr(neo4j_target_.password)})
    with TestClient(create_app(local), raise_server_exceptions=False) as client:
        def login(name: str, password: str) -> dict[str, str]:
            token = client.post("/auth/token", data={"username": name, "password": password}).json()
            return {"Authorization": f"Bearer {token['access_token']}"}

        yield {"client": client, "doctor": login("corpus-doctor", "doctor password"),
               "admin": login("corpus-admin", "admin password"), "epi": login("corpus-epi", "epidemiologist password"),
               "reviewer": login("corpus-reviewer", "reviewer password")}


def _clear(answer: Any) -> None:
    """A 4xx with a body that says something, and nothing of the server's insides: problem+json, or under
    /fhir an OperationOutcome."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.url.path.startswith("/fhir/"):
        assert answer.headers["content-type"].startswith("application/fhir+json"), answer.headers["content-type"]
        detail = answer.json()["issue"][0]["diagnostics"]
    else:
        assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers["content-type"]
        detail = answer.json()["detail"]
    assert detail and "Traceback" not in detail and "/work/" not in detail and "site-packages" not in detail


DEEP = "[" * 100_000 + "]" * 100_000
BODIES: list[tuple[str, str, str, bytes | str, str]] = [
    ("doctor", "POST", "/match", "{not json", "application/json"),
    ("doctor", "POST", "/match", DEEP, "application/json"),
    ("doctor", "POST", "/match", json.dumps({"name": "x"}), "application/json"),
    ("doctor", "POST", "/match", json.dumps({"name": "A" * 10_000}), "application/json"),
    ("doctor", "POST", "/match", json.dumps({"name": "Nguyễn Văn An", "birth_date": "1990-02-31"}), "application/json"),
    ("doctor", "POST", "/match", json.dumps({"name": "Nguyễn Văn An", "personal_id": "12"}), "application/json"),
    ("doctor", "POST", "/match", json.dumps({"name": "Nguyễn Văn An", "sex": "robot"}), "application/json"),
    ("doctor", "POST", "/match", json.dumps([1, 2, 3]), "application/json"),
    ("doctor", "POST", "/match", json.dumps({"name": 12}), "application/json"),
    ("doctor", "POST", "/match", "name=Lan", "application/x-www-form-urlencoded"),
    ("doctor", "POST", "/fhir/Patient/$match", DEEP, "application/fhir+json"),
    ("doctor", "POST", "/fhir/Patient/$match", "{}", "application/fhir+json"),
    ("doctor", "POST", "/fhir/Patient/$match", json.dumps({"resourceType": "Patient"}), "application/fhir+json"),
    ("doctor", "POST", "/fhir/Patient/$match", json.dumps({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "birthDate": "1990"}}]}), "application/fhir+json"),
    ("doctor", "POST", "/fhir/Patient/$match", b"\xff\xfe\x00garbage", "application/fhir+json"),
    ("reviewer", "POST", "/review/items/pm~AAAA/decision", json.dumps({"decision": "MATCH", "version": "x"}),
     "application/json"),
    ("reviewer", "POST", "/review/items/zz~!!/decision", json.dumps({"decision": "MATCH", "version": "1"}),
     "application/json"),
    ("reviewer", "POST", "/review/items/pm~AAAA/decision", json.dumps({"decision": "EXPLODE", "version": "1"}),
     "application/json"),
    ("reviewer", "POST", "/review/items/pm~AAAA/decision", json.dumps({"decision": "MATCH", "version": "1",
                                                                       "note": "n" * 3000}), "application/json"),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "ctype"), BODIES,
                         ids=[f"body{n}" for n in range(len(BODIES))])
def test_a_bad_request_body_gets_a_clear_4xx(api: Any, who: str, method: str, path: str, body: bytes | str,
                                             ctype: str) -> None:
    answer = api["client"].request(method, path, content=body, headers={**api[who], "Content-Type": ctype})
    _clear(answer)


QUERIES: list[tuple[str, str]] = [
    ("epi", "/reports/statistics?period=9999-W52"),
    ("epi", "/reports/statistics?period=0001"),
    ("epi", "/reports/statistics?period=0001-01-01..9999-12-31"),
    ("epi", "/reports/statistics?period=2026%0D%0AX-Injected:%201"),
    ("epi", "/reports/statistics?period=2026-Q5"),
    ("epi", "/reports/statistics?period=2026-W54"),
    ("epi", "/reports/statistics?period=2026-04-01..2026-01-01"),
    ("epi", "/reports/statistics?period=2026&level=galaxy"),
    ("epi", "/reports/statistics?period=2026&level=province&unit=99"),
    ("epi", "/reports/statistics?period=2026&format=exe"),
    ("epi", "/analytics/immunization_coverage?period=0001"),
    ("epi", "/analytics/immunization_coverage?period=9999-W52"),
    ("epi", "/analytics/no_such_analysis?period=2026"),
    ("epi", "/analytics/units?level=galaxy"),
    ("epi", "/analytics/units?province=7%00"),
    ("doctor", "/persons?name=a"),
    ("doctor", "/persons?personal_id=12"),
    ("doctor", "/persons?birth_date=1990-02-31"),
    ("doctor", "/persons?skip=-1&name=Lan"),
    ("doctor", "/persons?limit=100000&name=Lan"),
    ("doctor", "/persons/not-an-id"),
    ("doctor", "/persons/HS0000000000X"),
    ("doctor", "/persons/%00"),
    ("doctor", "/persons/HS00000000000/export?format=pdf"),
    ("doctor", "/stations/99999/immunization-due"),
    ("doctor", "/stations/1/immunization-due"),
    ("doctor", "/stations/26734/immunization-due?on=0001-01-01"),
    ("doctor", "/stations/26734/ncd-not-seen?days=-5"),
    ("doctor", "/fhir/Patient?identifier=nonsense"),
    ("doctor", "/fhir/Patient?identifier=" + "x" * 500),
    ("admin", "/jobs/../../etc/passwd"),
    ("admin", "/jobs/job-1"),
    ("admin", "/jobs?limit=0"),
    ("admin", "/audit?person_id=../../x"),
    ("reviewer", "/review/queue?province=ABC"),
    ("reviewer", "/review/queue?limit=100000"),
    ("reviewer", "/review/items/%FF%FE"),
]


@pytest.mark.parametrize(("who", "path"), QUERIES, ids=[f"query{n}" for n in range(len(QUERIES))])
def test_a_bad_query_gets_a_clear_4xx(api: Any, who: str, path: str) -> None:
    _clear(api["client"].get(path, headers=api[who]))


HEADERS: list[dict[str, str | bytes]] = [
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer " + "a" * 20_000},
    {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJhZG1pbiJ9."},
    {"Authorization": "Bearer \u00e9\u00e9".encode()},
]


@pytest.mark.parametrize("headers", HEADERS, ids=[f"header{n}" for n in range(len(HEADERS))])
def test_a_bad_credential_gets_a_401(api: Any, headers: dict[str, str | bytes]) -> None:
    answer = api["client"].get("/auth/me", headers=headers)
    assert answer.status_code == 401
    _clear(answer)


FILENAMES = ["..", "../../etc/passwd", "/etc/passwd", "a" * 5000 + ".csv", "con.csv", "tên tệp.csv", ".hidden",
             "\u202ecsv.exe"]


@pytest.mark.parametrize("name", FILENAMES, ids=[f"filename{n}" for n in range(len(FILENAMES))])
def test_an_upload_of_any_name_is_stored_safely(api: Any, data: Path, name: str) -> None:
    answer = api["client"].post("/ingest/population", headers=api["admin"],
                                files={"file": (name, (HEADER + GOOD + "\n").encode(), "text/csv")})
    if answer.status_code != 202:  # a part header too long for the multipart parser: refused, clearly
        _clear(answer)
        return
    stored = answer.json()["filename"]
    assert "/" not in stored and not stored.startswith(".") and len(stored) <= 100
    assert (data / "jobs" / answer.json()["job_id"] / "input" / stored).is_file()
