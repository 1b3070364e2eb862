"""The pages in a real browser: Debian's Chromium driven by Playwright, against the API over real HTTP.

Each role signs in; a reviewer decides an item and the graph changes; a citizen sees their record and
their child's and is refused a stranger's; the dashboard draws; the admin pages list. Screenshots are
kept under `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pydantic import SecretStr

from api.routes.review import parse_item_id
from api.security import Role, add_user
from api.services import run_linking
from api.settings import Settings
from graph import Neo4jTarget
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130, SourceKind.IMMUNIZATION)
PASSWORD = "browser password"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Chromium is not installed: `make install` installs Debian's chromium package")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, graph: Driver, settings: Settings, neo4j_target_: Neo4jTarget,
         live_server: Any) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("ui")
    generate(SynthConfig(persons=1200, seed=23, profile="hard"), root / "synth")
    for kind, files, _ in synthetic_inputs(root / "synth", KINDS):
        ingest(kind, files, root / "data")
    local = settings.model_copy(update={"data_dir": root / "data", "neo4j_uri": neo4j_target_.uri,
                                        "neo4j_password": SecretStr(neo4j_target_.password),
                                        "jobs_poll_seconds": 0.3})
    run_linking(local, graph, neo4j_target_.database)
    family = graph.execute_query(
        "MATCH (parent:Person {status: 'active'})-[:PARENT_OF]->(child:Person {status: 'active'}) "
        "WHERE parent.province IS NOT NULL AND parent.personal_id IS NOT NULL AND child.birth_year > $adult "
        "RETURN parent.person_id AS parent, child.person_id AS child, parent.province AS province "
        "ORDER BY parent LIMIT 1", {"adult": date.today().year - 18}).records[0]  # a parent reads a minor child
    stranger = graph.execute_query(
        "MATCH (p:Person {status: 'active'}) WHERE p.province <> $province AND NOT (p)<-[:PARENT_OF]-(:Person "
        "{person_id: $parent}) RETURN p.person_id AS id LIMIT 1",
        {"province": family["province"], "parent": family["parent"]}).records[0]["id"]
    for name, role, extra in [("ui-reviewer", Role.REVIEWER, {"province": family["province"]}),
                              ("ui-citizen", Role.CITIZEN, {"person_id": family["parent"]}),
                              ("ui-epi", Role.EPIDEMIOLOGIST, {"province": family["province"]}),
                              ("ui-admin", Role.ADMIN, {}),
                              ("ui-clinician", Role.CLINICIAN, {"province": family["province"], "facility": "01001"})]:
        add_user(graph, name, PASSWORD, role, **extra)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(local) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield {"url": server.url, "browser": browser, "family": family, "stranger": stranger}
        browser.close()


def sign_in(browser: Browser, url: str, username: str, lang: str = "vi") -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(f"localStorage.setItem('hoso.lang', '{lang}')")
    page.goto(f"{url}/ui/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.requests = requests  # type: ignore[attr-defined]
    return page


def only_local(page: Page, url: str) -> None:
    outside = [r for r in page.requests if not r.startswith((url, "data:", "blob:"))]  # type: ignore[attr-defined]
    assert not outside, f"the page loaded from elsewhere: {outside}"


def test_reviewer_decides_and_the_graph_changes(site: dict[str, Any], graph: Driver) -> None:
    page = sign_in(site["browser"], site["url"], "ui-reviewer")
    expect(page).to_have_url(f"{site['url']}/ui/review.html")
    expect(page.locator("#queue li").first).to_be_visible()
    backlog = int(page.locator("#backlog").inner_text())
    assert backlog > 0
    expect(page.locator("#waterfall svg")).to_be_visible()
    item_id = page.locator("#item .muted").first.inner_text()
    page.screenshot(path=str(SHOTS / "review-item.png"), full_page=True)
    page.keyboard.press("n")  # not a match (or not duplicates), by keyboard
    expect(page.locator("#backlog")).to_have_text(str(backlog - 1))
    expect(page.locator("#item .muted").first).not_to_have_text(item_id)
    decided = graph.execute_query("MATCH (e:LinkEvent) WHERE e.actor = 'reviewer:ui-reviewer' RETURN count(e) AS n"
                                  ).records[0]["n"]
    assert decided == 1
    kind, left, right = parse_item_id(item_id)
    if kind == "possible_match":  # the record's link to that person is now a reviewer's NO_MATCH
        state = graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[l:LINKED_TO]->(:Person {person_id: $p}) "
                                    "RETURN l.state AS state, l.origin AS origin", {"uid": left, "p": right}).records
        assert [(r["state"], r["origin"]) for r in state] == [("NO_MATCH", "MANUAL")]
    else:  # the two persons are marked as not duplicates
        marked = graph.execute_query("MATCH (:Person {person_id: $a})-[n:NOT_DUPLICATE]-(:Person {person_id: $b}) "
                                     "RETURN count(n) AS n", {"a": left, "b": right}).records[0]["n"]
        assert marked >= 1
    only_local(page, site["url"])
    page.close()


def test_citizen_sees_own_and_childs_record_not_a_strangers(site: dict[str, Any], graph: Driver) -> None:
    page = sign_in(site["browser"], site["url"], "ui-citizen")
    expect(page.locator("#person-id")).to_have_text(site["family"]["parent"])
    expect(page.get_by_text("Thông tin hành chính")).to_be_visible()
    page.screenshot(path=str(SHOTS / "citizen-record.png"), full_page=True)
    page.locator(f"a.child[href='?id={site['family']['child']}']").click()
    expect(page.locator("#person-id")).to_have_text(site["family"]["child"])
    page.goto(f"{site['url']}/ui/record.html?id={site['stranger']}")
    expect(page.locator("#refused")).to_be_visible()
    page.screenshot(path=str(SHOTS / "citizen-refused.png"))
    page.goto(f"{site['url']}/ui/record.html")
    page.fill("#correction input[name=value]", "0912345678")
    page.click("#correction button[type=submit]")
    expect(page.locator("#correction .status")).to_have_text("Đã gửi")
    page.check("#selfreport input[name=smoking]")
    page.fill("#selfreport input[name=systolic]", "150")
    page.fill("#selfreport input[name=diastolic]", "95")
    page.click("#selfreport button[type=submit]")
    expect(page.locator("#selfreport .status")).to_have_text("Đã gửi")
    tasks = graph.execute_query("MATCH (t:CorrectionRequest {status: 'open'})-[:ABOUT]->(p:Person {person_id: $id}) "
                                "RETURN t.value AS value", {"id": site["family"]["parent"]}).records
    assert [t["value"] for t in tasks] == ["0912345678"]
    deadline = time.monotonic() + 120
    reported: list[Any] = []
    while time.monotonic() < deadline and not reported:
        reported = graph.execute_query(
            "MATCH (r:SourceRecord {source: 'citizen'})-[:LINKED_TO {state: 'MATCH'}]->(:Person {person_id: $id}) "
            "MATCH (r)-[:REPORTED]->(c:Condition {code: 'smoking'}) RETURN r.reported_by_citizen AS flag",
            {"id": site["family"]["parent"]}).records
        time.sleep(0.5)
    assert reported and reported[0]["flag"] is True, "the self-report became a linked citizen record"
    page.close()


def test_clinician_searches_and_opens_a_person(site: dict[str, Any], graph: Driver) -> None:
    person = graph.execute_query("MATCH (p:Person {status: 'active', province: $p}) WHERE p.name IS NOT NULL "
                                 "RETURN p.person_id AS id, p.name AS name LIMIT 1",
                                 {"p": site["family"]["province"]}).records[0]
    page = sign_in(site["browser"], site["url"], "ui-clinician")
    expect(page).to_have_url(f"{site['url']}/ui/record.html")
    page.fill("#search input[name=name]", person["name"])
    page.click("#search button[type=submit]")
    page.locator(f"#found a[href='?id={person['id']}']").click()
    expect(page.locator("#person-id")).to_have_text(person["id"])
    page.screenshot(path=str(SHOTS / "clinician-record.png"), full_page=True)
    page.goto(f"{site['url']}/ui/review.html")
    expect(page).to_have_url(f"{site['url']}/ui/")
    page.close()


def test_dashboard_draws_in_english(site: dict[str, Any]) -> None:
    page = sign_in(site["browser"], site["url"], "ui-epi", lang="en")
    expect(page).to_have_url(f"{site['url']}/ui/dashboard.html")
    expect(page.get_by_text("Age pyramid")).to_be_visible()
    expect(page.locator("#pyramid svg rect").first).to_be_attached()
    expect(page.locator("#map svg circle").first).to_be_attached()
    expect(page.locator("#incidence svg path").first).to_be_attached()
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#csv")
    assert download.value.suggested_filename.endswith(".csv")
    only_local(page, site["url"])
    page.close()


def test_admin_pages_list_users_jobs_tasks_and_audit(site: dict[str, Any]) -> None:
    page = sign_in(site["browser"], site["url"], "ui-admin")
    expect(page.locator("#users table")).to_contain_text("ui-reviewer")
    expect(page.locator("#audit table")).to_contain_text("ui-citizen")
    expect(page.locator("#jobs table")).to_contain_text("citizen")
    expect(page.locator("#corrections table")).to_contain_text("0912345678")
    page.screenshot(path=str(SHOTS / "admin.png"), full_page=True)
    first = page.locator("#batches tbody tr").first
    expect(first).to_contain_text("Sẵn sàng liên kết")
    page.once("dialog", lambda dialog: dialog.accept("tệp sai định dạng"))
    first.get_by_role("button", name="Tạm gác lại").click()
    expect(page.locator("#batches tbody tr").first).to_contain_text("Tạm gác lại: tệp sai định dạng")
    page.locator("#batches tbody tr").first.get_by_role("button", name="Khôi phục").click()
    expect(page.locator("#batches tbody tr").first).to_contain_text("Sẵn sàng liên kết")
    page.close()
