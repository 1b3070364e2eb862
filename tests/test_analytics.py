"""Analytics on a linked synthetic population: figures checked against direct counts, roll-ups that add
up, small-cell suppression, no identifiers for the epidemiologist, the API, the CLI and the notebooks."""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import numpy as np
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from neo4j.exceptions import ServiceUnavailable
from pydantic import SecretStr
from typer.testing import CliRunner

from analytics import disease, households, immunization, population, projection
from analytics.base import GraphReader, age_band, ages_at
from analytics.privacy import MIN_CELL, suppress
from analytics.projection import (
    TABLES,
    ProjectionReader,
    projection_files,
    projection_path,
    read_info,
    reader_for,
    refresh,
    sql_queries,
)
from analytics.reports import CATALOGUE, run_analysis, statistical_report, suppress_report
from analytics.scope import Level, Scope, ScopeError, parse_period, resolve_scope
from api import cli
from api.app import create_app
from api.security import Role, add_user
from api.services import run_linking
from api.settings import Settings
from graph import Neo4jTarget, PersonOperations
from graph.queries import default_registry
from linkage import load_admin_units
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

PERIOD = parse_period("2025")
KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130, SourceKind.IMMUNIZATION)


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, graph: Driver, settings: Settings,
           neo4j_target_: Neo4jTarget) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("analytics")
    generate(SynthConfig(persons=2500, seed=17), root / "synth")
    for kind, files, _ in synthetic_inputs(root / "synth", KINDS):
        ingest(kind, files, root / "data")
    local = settings.model_copy(update={"data_dir": root / "data", "neo4j_uri": neo4j_target_.uri,
                                        "neo4j_password": SecretStr(neo4j_target_.password), "jobs_worker": False})
    run_linking(local, graph, neo4j_target_.database)
    province = graph.execute_query("MATCH (p:Person {status: 'active'}) RETURN p.province AS p, count(*) AS n "
                                   "ORDER BY n DESC LIMIT 1").records[0]["p"]
    commune = graph.execute_query("MATCH (p:Person {status: 'active', province: $p}) RETURN p.commune AS c, "
                                  "count(*) AS n ORDER BY n DESC LIMIT 1", {"p": province}).records[0]["c"]
    return {"settings": local, "reader": GraphReader(graph, neo4j_target_.database), "province": province,
            "commune": commune, "database": neo4j_target_.database}


def test_primary_and_secondary_suppression() -> None:
    frame = pd.DataFrame({"province": ["01", "01", "01", "02", "02"], "commune": ["a", "b", "c", "d", "e"],
                          "cases": [3, 40, 12, 7, 9]})
    out = suppress(frame, ["cases"], [("province",)])
    assert pd.isna(out.loc[0, "cases"]), "a count under 5 is withheld"
    assert pd.isna(out.loc[2, "cases"]), "the smallest other cell of the province is withheld too"
    assert out.loc[1, "cases"] == 40 and out.loc[3, "cases"] == 7 and out.loc[4, "cases"] == 9
    assert out.loc[0, "suppressed"] == "cases" and out.loc[1, "suppressed"] == ""
    # Zeros reveal nothing and are kept; with two cells withheld no subtraction recovers either.
    zeros = suppress(pd.DataFrame({"g": ["x", "x", "x"], "n": [0, 2, 30]}), ["n"], [("g",)])
    assert zeros["n"].tolist()[0] == 0 and pd.isna(zeros["n"].tolist()[1]) and pd.isna(zeros["n"].tolist()[2])


def test_suppression_leaves_no_withheld_cell_alone_in_any_margin() -> None:
    """On random tables (nested margins, missing keys and counts, any index): every count under 5 is
    withheld, no group of any margin holds exactly one withheld cell where another could be withheld, and
    the rest is published as given."""
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 30)
        frame = pd.DataFrame({"province": [rng.choice(["01", "02", None]) for _ in range(n)],
                              "commune": [rng.choice("abcd") for _ in range(n)],
                              "cases": [rng.choice([0, 1, 3, 6, 9, 20, None]) for _ in range(n)]},
                             index=rng.sample(range(100, 200), n))
        margins = [(), ("province",), ("province", "commune")][:rng.randint(1, 3)]
        out = suppress(frame, ["cases"], margins)
        assert list(out.index) == list(frame.index)
        given, published = pd.to_numeric(frame["cases"]), out["cases"]
        withheld = published.isna() & given.notna()
        assert (withheld | ~given.between(1, MIN_CELL - 1)).all()
        assert (published[~withheld & given.notna()] == given[~withheld & given.notna()]).all()
        assert (out["suppressed"] == withheld.map({True: "cases", False: ""})).all()
        for keys in margins:
            by = list(keys) if len(keys) > 1 else keys[0] if keys else None
            groups = [frame.index] if by is None else frame.groupby(by, dropna=False).groups.values()
            for index in groups:
                others = (~withheld[index]) & (given[index] > 0)
                assert withheld[index].sum() != 1 or not others.any()


def test_an_empty_answer_of_the_projection_is_joined_like_any_other(linked: dict[str, Any]) -> None:
    """A projection query that finds nothing gives a frame pandas can join on (the Arrow path's empty
    columns could not be: a commune without children stopped the statistical report with a 500)."""
    reader = linked["reader"]
    projected = reader_for(reader.driver, linked["database"], linked["settings"].data_path, "projection")
    doses = projected.frame("child_doses", None, province=None, communes=None, born_from="1800-01-01",
                            born_to="1800-01-02")
    assert doses.empty and "person_id" in doses.columns
    assert immunization.doses_by_vaccine(doses, doses.groupby("person_id")["date"].max()).empty


def test_each_projection_query_takes_what_its_cypher_takes() -> None:
    cypher = default_registry()
    for name, query in sql_queries().items():
        replaced = cypher.get(f"analytics/{name}")
        assert replaced.params <= query.params, (name, sorted(replaced.params - query.params))


def test_periods_and_scopes(linked: dict[str, Any]) -> None:
    assert parse_period("2026-Q3").start == date(2026, 7, 1) and parse_period("2026-Q3").end == date(2026, 10, 1)
    assert parse_period("2026-W01").start == date(2025, 12, 29)
    assert parse_period("2026-02").end == date(2026, 3, 1)
    with pytest.raises(ScopeError, match="not understood"):
        parse_period("Q3-2026")
    reader = linked["reader"]
    with pytest.raises(ScopeError, match="no post-2025 province"):
        resolve_scope(reader.driver, reader.database, "province", "99")
    district = reader.driver.execute_query(
        "MATCH (d:AdminUnit {code_list: 'pre2025', level: 'district'})<-[:PART_OF]-(:AdminUnit)"
        "-[:SUCCEEDED_BY]->(:AdminUnit {code: $c}) RETURN d.code AS d LIMIT 1",
        {"c": linked["commune"]}).records[0]["d"]
    scope = resolve_scope(reader.driver, reader.database, "district", district)
    assert scope.communes and linked["commune"] in scope.communes


def test_incidence_matches_a_direct_count(linked: dict[str, Any], graph: Driver) -> None:
    reader = linked["reader"]
    scope = resolve_scope(reader.driver, reader.database, "national", None)
    table = disease.incidence(reader, scope, PERIOD, by="code")
    direct = graph.execute_query(
        "MATCH (e:Encounter)-[:DIAGNOSED]->(d:Disease) WHERE e.admitted_at >= datetime('2025-01-01') "
        "AND e.admitted_at < datetime('2026-01-01') MATCH (e)<-[:HAD_ENCOUNTER]-(:SourceRecord)"
        "-[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'}) "
        "RETURN d.icd10 AS code, count(DISTINCT p) AS persons").records
    expected = {r["code"]: r["persons"] for r in direct}
    assert expected and dict(zip(table["group"], table["cases"], strict=True)) == expected
    registry = graph.execute_query("MATCH (p:Person {status: 'active'}) WHERE 'population' IN p.sources "
                                   "RETURN count(p) AS n").records[0]["n"]
    assert set(table["population"]) == {registry}
    rates = disease.age_standardised_rate(reader, scope, PERIOD)
    overall = rates[rates["sex"] == "all"].iloc[0]
    assert overall["cases"] > 0 and overall["standardised_per_100k"] > 0


def test_population_figures_add_up(linked: dict[str, Any], graph: Driver) -> None:
    reader = linked["reader"]
    scope = resolve_scope(reader.driver, reader.database, "national", None)
    active = graph.execute_query("MATCH (p:Person {status: 'active'}) WHERE p.sex IN ['male', 'female'] "
                                 "AND p.birth_year <= 2025 RETURN count(p) AS n").records[0]["n"]  # born by then
    pyramid = population.age_pyramid(reader, scope, date(2025, 12, 31))
    assert int(pyramid["male"].sum() + pyramid["female"].sum()) == active
    sizes = population.household_sizes(reader, scope)
    members = graph.execute_query("MATCH (:Household)<-[:MEMBER_OF]-(p:Person {status: 'active'}) "
                                  "RETURN count(p) AS n").records[0]["n"]
    assert int((sizes["size"] * sizes["households"]).sum()) == members


def test_immunization_rules() -> None:
    rules = immunization.load_rules()
    assert rules.version.startswith("vn-epi-")
    doses = [{"vaccine": "BCG", "dose": 1, "date": "2025-01-08"},
             *({"vaccine": v, "dose": n, "date": f"2025-0{n + 2}-10"} for v in ("DPT-VGB-HIB", "OPV")
               for n in (1, 2, 3)),
             {"vaccine": "SOI", "dose": 1, "date": "2025-10-10"}]
    had = immunization._doses_before(doses, date(2026, 1, 1))
    assert all(had.get(r["vaccine"], 0) >= r["doses"] for r in rules.fully_immunized_under_1)
    upcoming = immunization.next_doses("2025-01-01", doses, date(2025, 11, 1), rules)
    assert {"vaccine": "VGB0", "dose": 1, "due_on": "2025-01-01", "status": "overdue"} in upcoming
    assert all(step["vaccine"] != "BCG" for step in upcoming)


def test_coverage_counts_the_cohort(linked: dict[str, Any], graph: Driver) -> None:
    reader = linked["reader"]
    scope = resolve_scope(reader.driver, reader.database, "national", None)
    table = immunization.coverage(reader, scope, PERIOD)
    cohort = graph.execute_query("MATCH (p:Person {status: 'active'}) WHERE p.birth_date >= '2024-01-01' "
                                 "AND p.birth_date < '2025-01-01' RETURN count(p) AS n").records[0]["n"]
    fic = table[table["indicator"] == "fully immunized under 1"]
    assert cohort > 0 and int(fic["denominator"].sum()) == cohort
    assert 0 < int(fic["numerator"].sum()) <= cohort
    dtp1 = int(table[table["indicator"] == "DPT-VGB-HIB dose 1"]["numerator"].sum())
    dtp3 = int(table[table["indicator"] == "DPT-VGB-HIB dose 3"]["numerator"].sum())
    dropout = table[table["indicator"] == "drop-out 5-in-1 dose 1 to 3"]
    assert int(dropout["numerator"].sum()) == dtp1 - dtp3 and int(dropout["denominator"].sum()) == dtp1


def test_the_report_of_a_commune_where_nobody_lives_is_empty_not_an_error(linked: dict[str, Any]) -> None:
    reader = linked["reader"]
    lived = {r["c"] for r in reader.driver.execute_query(
        "MATCH (p:Person {status: 'active'}) RETURN DISTINCT p.commune AS c").records}
    empty = next(u.code for u in load_admin_units().units.values()
                 if u.level == "commune" and u.code_list == "post2025" and u.province_code == linked["province"]
                 and u.code not in lived)
    scope = resolve_scope(reader.driver, reader.database, "commune", empty)
    report = suppress_report(statistical_report(reader, scope, PERIOD))
    assert report.empty or (report["numerator"].fillna(0) == 0).all()


def test_report_rolls_up_from_commune_to_nation(linked: dict[str, Any]) -> None:
    reader = linked["reader"]
    national = statistical_report(reader, resolve_scope(reader.driver, reader.database, "national", None), PERIOD)
    province = statistical_report(reader, resolve_scope(reader.driver, reader.database, "province",
                                                        linked["province"]), PERIOD)
    for indicator, rows in national.groupby("indicator"):
        top = rows[rows["level"] == "national"]
        below = rows[rows["level"] == "province"]
        assert int(top["numerator"].sum()) == int(below["numerator"].sum()), indicator
        assert int(top["denominator"].sum()) == int(below["denominator"].sum()), indicator
    for indicator, rows in province.groupby("indicator"):
        top = rows[rows["level"] == "province"]
        assert int(top["numerator"].sum()) == int(rows[rows["level"] == "commune"]["numerator"].sum()), indicator
        same = national[(national["indicator"] == indicator) & (national["unit"] == linked["province"])]
        assert int(same["numerator"].sum()) == int(top["numerator"].sum()), indicator
    assert {"period", "unit", "numerator", "denominator", "value"} <= set(national.columns)
    pop = national[(national["indicator"] == "POP") & (national["level"] == "national")].iloc[0]
    assert pop["value"] == pop["numerator"] > 0


def _canonical(value: Any) -> Any:
    """A cell as a plain, comparable value (missing values as None, lists and maps sorted)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(sorted((_canonical(v) for v in list(value)), key=repr))
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_canonical(v) for v in row) for row in frame[columns].itertuples(index=False)), key=repr)


def test_no_small_cells_and_no_identifiers_for_the_epidemiologist(linked: dict[str, Any]) -> None:
    reader = linked["reader"]
    scope = resolve_scope(reader.driver, reader.database, "province", linked["province"])
    withheld = 0
    for name, analysis in CATALOGUE.items():
        assert analysis.counts, f"{name} publishes counts it does not declare: they would escape suppression"
        frame = run_analysis(reader, name, scope, PERIOD)
        assert not {"person_id", "name", "household", "phone", "birth_date"} & set(frame.columns), name
        for column in analysis.counts:
            values = frame[column].dropna()
            assert ((values == 0) | (values >= MIN_CELL)).all(), (name, column)
            withheld += int(frame[column].isna().sum())
    report = suppress_report(statistical_report(reader, scope, PERIOD))
    for column in ("numerator", "denominator"):
        values = report[column].dropna()
        assert ((values == 0) | (values >= MIN_CELL)).all()
    for (_, _), rows in report.groupby(["indicator", "family"], dropna=False):
        assert int(rows["numerator"].isna().sum()) != 1, "a lone withheld cell is given away by its total"
    assert withheld > 0, "a small population has small cells: some must have been withheld"


def test_analytics_api_by_role(linked: dict[str, Any], graph: Driver) -> None:
    add_user(graph, "epi-a", "epi password", Role.EPIDEMIOLOGIST)
    add_user(graph, "doc-a", "doctor password", Role.CLINICIAN, facility="01001", province=linked["province"])
    with TestClient(create_app(linked["settings"])) as client:
        def login(name: str, password: str) -> dict[str, str]:
            token = client.post("/auth/token", data={"username": name, "password": password}).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        epi, doctor = login("epi-a", "epi password"), login("doc-a", "doctor password")
        listed = client.get("/analytics", headers=epi).json()
        assert {a["name"] for a in listed["data"]} == set(CATALOGUE)
        answer = client.get("/analytics/incidence", headers=epi,
                            params={"period": "2025", "level": "province", "unit": linked["province"]})
        assert answer.status_code == 200 and answer.json()["data"]
        assert answer.json()["as_of"], "the analyses say when their projection was taken from the graph"
        assert client.get("/analytics/incidence", headers=doctor, params={"period": "2025"}).status_code == 403
        bad = client.get("/analytics/incidence", headers=epi, params={"period": "summer"})
        assert bad.status_code == 400 and "2026-Q3" in bad.json()["detail"]
        assert client.get("/analytics/nothing", headers=epi, params={"period": "2025"}).status_code == 404
        xlsx = client.get("/reports/statistics", headers=epi, params={"period": "2025", "format": "xlsx"})
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None and sheet.title == "Báo cáo" and sheet["A2"].value == "BÁO CÁO THỐNG KÊ Y TẾ"
        csv = client.get("/reports/statistics", headers=epi, params={"period": "2025", "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv") and "POP" in csv.text
        due = client.get(f"/stations/{linked['commune']}/immunization-due", headers=doctor,
                         params={"on": "2025-12-31"})
        assert due.status_code == 200 and all(row["name"] for row in due.json()["data"])
        assert client.get(f"/stations/{linked['commune']}/immunization-due", headers=epi).status_code == 403
        late = client.get(f"/stations/{linked['commune']}/ncd-not-seen", headers=doctor,
                          params={"on": "2026-06-30", "days": 90})
        assert late.status_code == 200 and late.json()["count"] >= 0


def test_report_command_writes_html(linked: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_settings", lambda: linked["settings"])
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli.app, ["report", "statistics", "--level", "province", "--unit",
                                          linked["province"], "--period", "2025", "--format", "html", "--out",
                                          str(out)])
    assert result.exit_code == 0, result.output
    assert "<table" in out.read_text() and "Dân số (theo cơ sở dữ liệu dân cư)" in out.read_text()
    refused = CliRunner().invoke(cli.app, ["report", "nothing", "--period", "2025"])
    assert refused.exit_code != 0 and "hoso report list" in str(refused.exception)


def test_analytics_commands_refresh_and_describe_the_projection(linked: dict[str, Any], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_settings", lambda: linked["settings"])
    refreshed = CliRunner().invoke(cli.app, ["analytics", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    built = json.loads(refreshed.output)
    status = CliRunner().invoke(cli.app, ["analytics", "status"])
    assert status.exit_code == 0, status.output
    described = json.loads(status.output)
    assert described["as_of"] == built["as_of"] and described["rows"] == built["rows"]
    assert built["rows"]["persons"] > 0
    empty = linked["settings"].model_copy(update={"data_dir": tmp_path})
    monkeypatch.setattr(cli, "_settings", lambda: empty)
    missing = CliRunner().invoke(cli.app, ["analytics", "status"])
    assert missing.exit_code != 0 and "hoso analytics refresh" in str(missing.exception)


@pytest.mark.parametrize("name", ["disease_patterns", "population_structure", "household_health"])
def test_notebooks_run(name: str, linked: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSO_NOTEBOOK_PERIOD", "2025")
    book = nbformat.read(Path(__file__).parent.parent / "notebooks" / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(book, timeout=300, kernel_name="python3").execute()
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs)


def test_moves_follow_the_addresses_of_a_persons_records(linked: dict[str, Any], graph: Driver) -> None:
    reader = linked["reader"]
    person = graph.execute_query("MATCH (p:Person {status: 'active'}) RETURN p.person_id AS id LIMIT 1"
                                 ).records[0]["id"]
    graph.execute_query(
        "MATCH (p:Person {person_id: $id}) "
        "UNWIND [['mv|1', '00001', '01', '2025-02-01T00:00:00'], ['mv|2', '00004', '01', '2025-05-01T00:00:00']] AS r "
        "CREATE (s:SourceRecord {uid: r[0], source: 'test', commune: r[1], province: r[2], recorded_at: r[3]}) "
        "CREATE (s)-[:LINKED_TO {state: 'MATCH', origin: 'AUTO'}]->(p)", {"id": person})
    moves = population.moves(reader, resolve_scope(reader.driver, reader.database, "national", None), PERIOD)
    row = moves[(moves["from_commune"] == "00001") & (moves["to_commune"] == "00004")]
    assert len(row) == 1 and int(row["moves"].iloc[0]) >= 1


def test_the_projection_answers_every_query_as_the_graph_does(linked: dict[str, Any]) -> None:
    """Each SQL file of the projection returns the rows of each Cypher query it replaces, on the same graph
    and for national, province and commune scopes."""
    reader: GraphReader = linked["reader"]
    person = reader.driver.execute_query(
        "MATCH (p:Person {status: 'active', province: $province}) RETURN p.person_id AS id LIMIT 1",
        {"province": linked["province"]}).records[0]["id"]
    reader.driver.execute_query(  # the synthetic population moves nobody: three addresses of one person
        "MATCH (p:Person {person_id: $id}) "
        "UNWIND [['eq|1', '00007', '01', '2024-03-01T00:00:00'], ['eq|2', '00010', '01', '2025-03-01T00:00:00'], "
        "        ['eq|3', '00007', '01', '2025-09-01T00:00:00']] AS r "
        "CREATE (s:SourceRecord {uid: r[0], source: 'test', commune: r[1], province: r[2], recorded_at: r[3]}) "
        "CREATE (s)-[:LINKED_TO {state: 'MATCH', origin: 'AUTO'}]->(p)", {"id": person})
    before = read_info(linked["settings"].data_path)
    # Written past the change feed, so only a full refresh sees them.
    info = refresh(reader.driver, reader.database, linked["settings"].data_path, full=True)
    addresses = reader.driver.execute_query(
        "MATCH (:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord) "
        "WHERE r.commune IS NOT NULL AND r.recorded_at IS NOT NULL RETURN count(*) AS n").records[0]["n"]
    assert before is not None and info.rows["addresses"] == addresses >= before.rows["addresses"] + 3
    projected = reader_for(reader.driver, reader.database, linked["settings"].data_path)
    assert isinstance(projected, ProjectionReader) and projected.as_of() == info.as_of
    start, end = PERIOD.iso()
    facility = reader.driver.execute_query("MATCH (f:Facility)<-[:AT]-(:Encounter) RETURN f.code AS f LIMIT 1"
                                           ).records[0]["f"]
    scopes: list[dict[str, Any]] = [{"province": None, "communes": None},
                                    {"province": linked["province"], "communes": None},
                                    {"province": linked["province"], "communes": [linked["commune"]]}]
    chronic = list(households.HYPERTENSION + households.DIABETES)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("population", scopes[0]), ("population_in_province", scopes[1]), ("population_in_province", scopes[2]),
        ("diagnoses", {**scopes[0], "start": start, "end": end, "prefixes": None}),
        ("diagnoses", {**scopes[0], "start": start, "end": end, "prefixes": ["A", "I1"]}),
        ("diagnoses_in_province", {"province": linked["province"], "start": start, "end": end, "prefixes": None}),
        ("diagnoses_in_communes", {"communes": [linked["commune"]], "start": start, "end": end, "prefixes": None}),
        *(("comorbidity", {**scope, "start": start, "end": end}) for scope in scopes),
        *(("conditions", {**scope, "prefixes": chronic}) for scope in scopes),
        *((name, {**scope, "born_from": "2020-01-01", "born_to": "2026-01-01"}) for scope in scopes
          for name in ("children", "child_doses")),
        *(("household_sizes", scope) for scope in scopes),
        *(("risk_factors", {**scope, "factor": "smoking"}) for scope in scopes),
        ("moves", {"start": "2000-01-01", "end": "2100-01-01"}),
        ("moves_in_province", {"start": "2000-01-01", "end": "2100-01-01", "province": linked["province"]}),
        ("facility_activity", {"start": start, "end": end, "province": None, "facility": None}),
        ("facility_activity", {"start": start, "end": end, "province": linked["province"], "facility": None}),
        ("facility_activity", {"start": start, "end": end, "province": None, "facility": facility}),
    ]
    assert {name for name, _ in calls} == set(sql_queries()), "every replaced Cypher query is compared"
    nonempty = set()
    for name, params in calls:
        copy = projected.frame(name, None, **params)
        live = reader.frame(name, list(copy.columns), **params)  # named columns even when no row came back
        assert set(copy.columns) == set(live.columns), name
        columns = list(live.columns)
        if name == "comorbidity":  # the same persons, whatever order Cypher collected their codes in
            live["codes"] = live["codes"].map(lambda c: tuple(sorted(c)))
            live = live.groupby("codes", as_index=False)["persons"].sum()
        assert _rows(copy, columns) == _rows(live, columns), (name, params)
        if len(live):
            nonempty.add(name)
    assert nonempty == set(sql_queries()), "each query was compared on rows, not on two empty answers"


def test_a_failed_refresh_leaves_the_current_projection(linked: dict[str, Any], monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    data = linked["settings"].data_path
    reader: GraphReader = linked["reader"]
    current = projection_path(data)
    assert current is not None
    (data / "analytics" / ".building-left-by-a-killed-refresh.duckdb").write_bytes(b"half")
    registry = default_registry()
    real_stream = registry.stream

    def failing(driver: Driver, name: str, **kwargs: Any) -> Any:
        if name.endswith("/addresses"):
            raise ServiceUnavailable("Neo4j went away mid-export")
        return real_stream(driver, name, **kwargs)

    monkeypatch.setattr(registry, "stream", failing)
    with pytest.raises(ServiceUnavailable):
        refresh(reader.driver, reader.database, data, full=True)
    monkeypatch.undo()
    assert projection_path(data) == current, "the previous projection stays current"
    assert sorted(p.name for p in (data / "analytics").glob(".building-*")) == [], "nothing half-written is left"
    population_rows = reader_for(reader.driver, reader.database, data).frame("population", None, province=None,
                                                                             communes=None)
    assert int(population_rows["persons"].sum()) > 0


@dataclass(frozen=True)
class _Rows(GraphReader):
    """A reader that answers every query with the same rows, for the computations on top of them."""

    rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    def frame(self, name: str, columns: list[str] | None = None, **params: Any) -> pd.DataFrame:
        return self.rows.copy()


def test_comorbidity_joins_categories_seen_together_more_than_chance() -> None:
    # 100 persons: 10 with I10 and E11 together, 10 with I10 alone, 10 with E11 alone, 70 with J06 alone,
    # and 5 with J06 and I10 (fewer than chance would give).
    rows = pd.DataFrame({"codes": [["I10", "E11"], ["I10"], ["E11"], ["J06"], ["J06", "I10"]],
                         "persons": [10, 10, 10, 65, 5]})
    scope, reader = Scope(Level.NATIONAL, None), _Rows(driver=None, rows=rows)  # type: ignore[arg-type]
    network = disease.comorbidity_network(reader, scope, PERIOD)
    assert set(network.edges) == {("I10", "E11")} or set(network.edges) == {("E11", "I10")}
    edge = network.edges["I10", "E11"]
    assert edge["both"] == 10 and edge["lift"] == round(10 * 100 / (25 * 20), 3)  # observed / expected = 2.0
    assert edge["jaccard"] == round(10 / (25 + 20 - 10), 4)
    edges = disease.comorbidity_edges(reader, scope, PERIOD)
    assert len(edges) == 1 and edges.iloc[0]["community_a"] == edges.iloc[0]["community_b"]


def test_an_analysis_refuses_a_facility_rather_than_answer_for_the_nation(linked: dict[str, Any]) -> None:
    facility = Scope(Level.FACILITY, "01001", facility="01001", name="a facility")
    for name in CATALOGUE:
        with pytest.raises(ScopeError, match="not a facility"):
            run_analysis(linked["reader"], name, facility, PERIOD)


def _tables(files: tuple[Path, ...] | None) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a projection (a base file, or a base and its delta) as sorted rows, as readers see them."""
    assert files
    cursor = projection._connection(files).cursor()
    try:
        return {table: sorted((tuple(_canonical(v) for v in row) for row in
                               cursor.execute(f"SELECT * FROM {table}").fetchall()), key=repr)
                for table in TABLES}
    finally:
        cursor.close()


def test_an_incremental_refresh_equals_a_full_one(linked: dict[str, Any], graph: Driver,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """After a merge, a split, an undo and a new batch linked (each told by the change feed), refreshing
    only what changed gives the projection a full refresh gives: as a delta on the base, as a delta on
    that delta, and folded into a new base."""
    data = linked["settings"].data_path
    base = refresh(graph, linked["database"], data, full=True).files
    ops = PersonOperations(graph, linked["database"])
    rows = graph.execute_query(
        "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'}) "
        "WITH p, collect(r.uid) AS uids WHERE size(uids) >= 2 RETURN p.person_id AS p, uids ORDER BY p LIMIT 3"
    ).records
    merged = ops.merge(rows[0]["p"], rows[1]["p"], actor="test", reason="one person")
    ops.split(rows[2]["p"], rows[2]["uids"][-1:], actor="test", reason="two people")
    ops.undo(merged.event_id, actor="test", reason="wrong key")
    again = ops.merge(rows[0]["p"], rows[1]["p"], actor="test", reason="one person after all")
    incremental = refresh(graph, linked["database"], data)
    assert incremental.mode == "incremental" and 3 <= (incremental.persons_read or 0) < 20
    assert incremental.files[0] == base[0] and len(incremental.files) == 2, "a delta on the base, not a copy"
    assert incremental.rows == projection._counts(incremental.files) and incremental.rows["persons"] > 100
    ops.undo(again.event_id, actor="test", reason="two people after all")
    second = refresh(graph, linked["database"], data)
    assert second.files[0] == base[0] and second.files[1] != incremental.files[1], "a delta on the delta"
    remembered = projection._written[second.files]  # what this process knows of the files it wrote ...
    projection._written.clear()  # ... is what another process reads from them
    assert projection._delta_scope(second.files) == (set(remembered.persons), set(remembered.facilities),
                                                     remembered.total)
    assert projection._connection(second.files).execute("SELECT feed_seq FROM meta").fetchall()[0][0] == \
        remembered.feed_seq
    assert _tables(second.files) == _tables(refresh(graph, linked["database"], data, full=True).files)
    root = data.parent
    for kind, files, _ in synthetic_inputs(root / "synth", [SourceKind.FHIR]):  # a source not linked before
        ingest(kind, files, data)
    summary = run_linking(linked["settings"], graph, linked["database"])
    assert summary["records_new"] > 0
    after_link = projection_files(data)  # a new source kind retrains and relinks: most persons changed
    assert _tables(after_link) == _tables(refresh(graph, linked["database"], data, full=True).files)
    ops.merge(rows[0]["p"], rows[1]["p"], actor="test", reason="one person, at last")
    assert len(refresh(graph, linked["database"], data).files) == 2
    monkeypatch.setattr(projection, "COMPACT_SHARE", 0.0)
    monkeypatch.setattr(projection, "COMPACT_MINIMUM", 0)
    folded = refresh(graph, linked["database"], data)
    assert folded.mode == "incremental" and len(folded.files) == 1, "the delta folded into a new base"
    assert _tables(folded.files) == _tables(refresh(graph, linked["database"], data, full=True).files)
    left = sorted(p.name for p in (data / "analytics").glob("*.duckdb"))
    assert len(left) <= 3, left  # the current base and the previous projection's files, no more


def test_a_person_born_after_the_day_has_no_age_then() -> None:
    ages = ages_at(pd.Series([1980, 1990, 1995, None]), date(1990, 12, 31))
    assert ages.iloc[0] == 10 and ages.iloc[1] == 0 and pd.isna(ages.iloc[2]) and pd.isna(ages.iloc[3])
    bands = age_band(ages)
    assert bands.iloc[1] == "0-4" and pd.isna(bands.iloc[2])  # not in the 0-4 band of 1990's pyramid
