"""The pages in a real browser: Debian's Chromium driven by Playwright, against the API over real HTTP.

Each role signs in; a reviewer decides an item and the graph changes; a citizen sees their record and
their child's and is refused a stranger's; the dashboard draws; the admin pages list. Screenshots are
kept under `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import LinkedWorld
from neo4j import Driver
from playwright.sync_api import Browser, Page, expect, sync_playwright
from requests import get as requests_get
from requests import post as requests_post

from api.security import Role, add_user
from linkage.synth import SynthConfig
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
def site(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld,
         live_server: Any) -> Iterator[dict[str, Any]]:
    # A cautious registry (every link below 0.9999 goes to a reviewer), so that this small world has items.
    local = linked_world(tmp_path_factory.mktemp("ui"), SynthConfig(persons=1200, seed=23, profile="hard"), KINDS,
                         graph, jobs_poll_seconds=0.3, match_threshold_upper=0.9999)
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
        yield {"url": server.url, "browser": browser, "family": family, "stranger": stranger,
               "outbox": local.data_path / "sms" / "outbox.jsonl"}
        browser.close()


def sign_in(browser: Browser, url: str, username: str, lang: str = "vi") -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(f"localStorage.setItem('hoso.lang', '{lang}')")
    page.goto(f"{url}/ui/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.requests = requests  # type: ignore[attr-defined]
    page.errors = errors  # type: ignore[attr-defined]
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
    expect(page.locator("table.pair td.level").first).not_to_have_text("–")  # each comparison's level in words
    item_id = page.locator("#item .item-id").inner_text()
    page.screenshot(path=str(SHOTS / "review-item.png"), full_page=True)
    page.keyboard.press("n")  # not a match (or not duplicates), by keyboard
    expect(page.locator("#backlog")).to_have_text(str(backlog - 1))
    expect(page.locator("#toast")).to_contain_text("Đã quyết định")  # a confirmation
    expect(page.locator(f"#queue li[data-id='{item_id}']")).to_have_count(0)
    decided = graph.execute_query("MATCH (e:LinkEvent) WHERE e.actor = 'reviewer:ui-reviewer' "
                                  "RETURN e.action AS action, e.item_id AS item").records
    assert [(r["action"], r["item"]) for r in decided] == [
        ("link:NO_MATCH" if item_id.startswith("pm-") else "not_duplicate", item_id)]
    only_local(page, site["url"])
    page.close()


def craft_item(graph: Driver, site: dict[str, Any], conflict: bool) -> tuple[str, str, str]:
    """An open review item of the reviewer's province: a POSSIBLE_MATCH of a population record to another
    person carrying a different valid personal id (`conflict`), or a POSSIBLE_DUPLICATE between two persons
    of one sex, the first with two records or more; never the persons other tests read (the family, the
    stranger). Returns (item id, left, right)."""
    family = site["family"]
    params = {"province": family["province"], "exclude": [family["parent"], family["child"], site["stranger"]]}
    if conflict:
        row = graph.execute_query(
            "MATCH (r:SourceRecord {source: 'population', pid_ok: true})-[:LINKED_TO {state: 'MATCH'}]->(home:Person) "
            "MATCH (p:Person {status: 'active', province: $province}) WHERE p <> home AND p.personal_id IS NOT NULL "
            "AND NOT p.person_id IN $exclude AND NOT home.person_id IN $exclude "
            "AND p.personal_id <> r.personal_id AND p.sex = r.sex AND abs(p.birth_year - r.birth_year) < 2 "
            "WITH r, p LIMIT 1 MERGE (r)-[l:LINKED_TO]->(p) SET l.state = 'POSSIBLE_MATCH', l.origin = 'AUTO', "
            "l.probability = 0.5001, l.weights = '{}', l.item_id = 'pm-' + randomUUID(), l.item_since = datetime() "
            "RETURN l.item_id AS item, r.uid AS left, p.person_id AS right", params).records[0]
    else:
        row = graph.execute_query(
            "MATCH (a:Person {status: 'active', province: $province}) "
            "WHERE COUNT { (a)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord) } >= 2 AND NOT a.person_id IN $exclude "
            "MATCH (b:Person {status: 'active', province: $province}) "
            "WHERE a.person_id < b.person_id AND a.sex = b.sex AND NOT b.person_id IN $exclude "
            "AND NOT (a)-[:POSSIBLE_DUPLICATE|NOT_DUPLICATE]-(b) "
            "WITH a, b LIMIT 1 CREATE (a)-[d:POSSIBLE_DUPLICATE {status: 'open', probability: 0.5001, weights: '{}', "
            "created_at: datetime(), item_since: datetime()}]->(b) SET d.item_id = 'pd-' + randomUUID() "
            "RETURN d.item_id AS item, a.person_id AS left, b.person_id AS right", params).records[0]
    return row["item"], row["left"], row["right"]


def open_item(page: Page, item: str) -> None:
    """Open `item` (made most uncertain, p = 0.5001: on the queue's first page) from the queue."""
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")  # the queue reloaded (it shows the crafted item)
    page.click(f"#queue li[data-id='{item}']")
    expect(page.locator("#item .item-id")).to_have_text(item)


def test_a_conflict_refuses_m_without_an_override(site: dict[str, Any], graph: Driver) -> None:
    item, uid, person = craft_item(graph, site, conflict=True)
    page = sign_in(site["browser"], site["url"], "ui-reviewer")
    open_item(page, item)
    expect(page.locator("#conflicts")).to_contain_text("Số định danh khác nhau")
    page.keyboard.press("m")
    expect(page.locator("#status")).to_contain_text("đánh dấu ghi đè")
    assert graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[l:LINKED_TO {state: 'MATCH'}]->(p:Person) "
                               "RETURN p.person_id AS p", {"uid": uid}).records[0]["p"] != person
    page.screenshot(path=str(SHOTS / "review-conflict.png"), full_page=True)
    page.check("#override")
    page.fill("#note", "the registry keyed this record on the wrong citizen")
    page.click("#yes")
    expect(page.locator("#toast")).to_contain_text("Đã quyết định")
    assert graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[l:LINKED_TO {state: 'MATCH'}]->(p:Person) "
                               "RETURN p.person_id AS p", {"uid": uid}).records[0]["p"] == person
    page.keyboard.press("u")  # and the wrong keystroke is taken back
    expect(page.locator("#toast")).to_contain_text("Đã hoàn tác")
    expect(page.locator("#item .item-id")).to_have_text(item)
    page.close()


GOLDEN = "MATCH (p:Person {person_id: $p}) RETURN properties(p) AS props, p.status AS status"
VOLATILE = {"golden_updated_at", "version", "lock_token", "golden_dirty", "retired_at"}


def golden(graph: Driver, person: str) -> dict[str, Any]:
    row = graph.execute_query(GOLDEN, {"p": person}).records[0]
    return {k: v for k, v in row["props"].items() if k not in VOLATILE}


def test_undo_of_a_merge_restores_the_golden_record_exactly(site: dict[str, Any], graph: Driver) -> None:
    item, left, right = craft_item(graph, site, conflict=False)
    before = golden(graph, left), golden(graph, right)
    page = sign_in(site["browser"], site["url"], "ui-reviewer")
    open_item(page, item)
    if page.locator("#conflicts").count():  # two persons with different ids: a merge needs its reason
        page.check("#override")
        page.fill("#note", "one person registered twice, the ids are one typo")
    page.click("#yes")  # merge
    expect(page.locator("#toast")).to_contain_text("Đã quyết định")
    assert graph.execute_query(GOLDEN, {"p": right}).records[0]["status"] == "retired"
    assert golden(graph, left) != before[0]
    page.click("#toast-undo")
    expect(page.locator("#toast")).to_contain_text("Đã hoàn tác")
    assert (golden(graph, left), golden(graph, right)) == before
    expect(page.locator("#item .item-id")).to_have_text(item)  # the item is open again, under its id
    page.close()


def test_a_reviewer_splits_a_person_from_its_cluster(site: dict[str, Any], graph: Driver) -> None:
    item, left, _ = craft_item(graph, site, conflict=False)
    page = sign_in(site["browser"], site["url"], "ui-reviewer")
    open_item(page, item)
    page.click("#show-person")  # the item's first person: its history and its records as a graph
    expect(page.locator("#cluster-graph svg")).to_be_visible()
    boxes = page.locator("#split input[name=uid]:not([value^='population|'])")
    uid = boxes.first.get_attribute("value")
    boxes.first.check()
    page.fill("#split input[name=reason]", "two people under one name")
    page.click("#split button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("Đã tách thành")
    moved = graph.execute_query("MATCH (:SourceRecord {uid: $uid})-[:LINKED_TO {state: 'MATCH'}]->(p:Person) "
                                "RETURN p.person_id AS p", {"uid": uid}).records[0]["p"]
    assert moved != left
    expect(page.locator("#toast")).to_contain_text(moved)
    page.close()


def test_the_queue_filters_and_its_empty_state(site: dict[str, Any]) -> None:
    page = sign_in(site["browser"], site["url"], "ui-reviewer")
    expect(page.locator("#queue li").first).to_be_visible()
    page.select_option("#filters select[name=source]", "citizen")
    page.click("#filters button[type=submit]")
    expect(page.locator("#queue-empty")).to_have_text("Không có mục nào khớp bộ lọc này")
    expect(page.locator("#queue li")).to_have_count(0)
    page.select_option("#filters select[name=source]", "")
    page.select_option("#filters select[name=kind]", "possible_match")
    page.click("#filters button[type=submit]")
    expect(page.locator("#queue li").first).to_contain_text("Bản ghi → người")
    page.close()


def test_the_desk_fits_a_phone(site: dict[str, Any]) -> None:
    page = sign_in(site["browser"], site["url"], "ui-reviewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#item .item-id")).to_be_visible()
    page.click("#show-person")
    expect(page.locator("#cluster-graph svg")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(SHOTS / "review-phone.png"), full_page=True)
    assert width <= 390, f"the page is {width} px wide at 390 px"
    page.close()


def test_citizen_sees_own_and_childs_record_not_a_strangers(site: dict[str, Any], graph: Driver) -> None:
    page = sign_in(site["browser"], site["url"], "ui-citizen")
    expect(page.locator("#person-id")).to_have_text(site["family"]["parent"])
    expect(page.get_by_text("Thông tin hành chính")).to_be_visible()
    page.screenshot(path=str(SHOTS / "citizen-record.png"), full_page=True)
    expect(page.locator("#person-name")).not_to_be_empty()  # the heading is the person's name, then the id
    child = page.locator(f"a.child[href='?id={site['family']['child']}']")
    expect(child).not_to_have_text(site["family"]["child"])  # a child is listed by name
    child.click()
    expect(page.locator("#person-id")).to_have_text(site["family"]["child"])
    page.goto(f"{site['url']}/ui/record.html?id={site['stranger']}")
    expect(page.locator("#refused")).to_be_visible()
    page.goto(f"{site['url']}/ui/dashboard.html")  # not a citizen's page: back to the record, saying why
    expect(page.locator("#notice")).to_have_text(re.compile("không dành cho vai trò của bạn"))
    assert page.url.split("?")[0].endswith("/ui/record.html")
    expect(page.locator("header .who")).to_contain_text("Người dân")
    assert page.request.get(f"{site['url']}/favicon.ico").status == 200
    page.screenshot(path=str(SHOTS / "citizen-refused.png"))
    page.goto(f"{site['url']}/ui/record.html")
    page.fill("#correction input[name=value]", "abc")
    expect(page.locator("#correction input[name=value]:invalid")).to_have_count(1)  # not a phone: not sent
    page.fill("#correction input[name=value]", "0912345678")
    page.click("#correction button[type=submit]")
    expect(page.locator("#correction .status")).to_have_text("Đã gửi")
    expect(page.locator("#correction input[name=value]")).to_have_value("")  # the form is cleared
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
    page.reload()  # the reading reported is on the record, as one blood pressure, said to be self-reported
    row = page.locator("tr", has_text="150/95 mmHg")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Huyết áp")
    expect(row).to_contain_text("Tự khai báo")
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
    page.goto(f"{site['url']}/ui/review.html")  # a reviewer's page: back to the clinician's own, saying why
    expect(page).to_have_url(f"{site['url']}/ui/record.html?notice=not_for_role")
    page.close()


CHARTS = "['pyramid', 'incidence', 'coverage', 'map'].every((id) => Chart.getChart(document.getElementById(id)))"


def wait_until(page: Page, expression: str, timeout: float = 30) -> None:
    """Poll `expression` in the page (Playwright's wait_for_function evaluates with eval(), which the pages'
    content policy refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}; {page.errors}"  # type: ignore[attr-defined]
        time.sleep(0.2)


def _chart(page: Page, canvas: str, expression: str) -> Any:
    script = f"(() => {{ const c = Chart.getChart(document.getElementById('{canvas}')); return {expression}; }})()"
    return page.evaluate(script)


def test_the_dashboard_draws_every_level_with_names_axes_and_legends(site: dict[str, Any]) -> None:
    page = sign_in(site["browser"], site["url"], "ui-epi", lang="en")
    expect(page).to_have_url(f"{site['url']}/ui/dashboard.html")
    expect(page.get_by_text("Age pyramid")).to_be_visible()
    wait_until(page, CHARTS)
    expect(page.locator("#scope-title")).to_contain_text("Việt Nam · Period 2025")
    expect(page.locator("#as-of")).to_contain_text("Data as of")
    assert _chart(page, "pyramid", "c.options.scales.x.title.text") == "Persons"
    assert _chart(page, "pyramid", "c.data.datasets.map((d) => d.label)") == ["Male", "Female"]
    chapters = _chart(page, "incidence", "c.data.datasets.map((d) => d.label)")
    assert chapters and all(" " in label for label in chapters), chapters  # a chapter by its name, not "X"
    assert "≥ 95 %" in _chart(page, "map", "c.data.datasets.map((d) => d.label)")  # the map has a legend
    provinces = _chart(page, "coverage", "c.data.labels")
    assert len(provinces) <= 15 and all(not label.isdigit() for label in provinces)  # provinces by name
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#csv")
    assert download.value.suggested_filename == "hoso-national-VN-2025.csv"

    province = site["family"]["province"]
    page.select_option("#level", "province")
    page.select_option("#province", province)
    page.click("#picker button[type=submit]")
    expect(page.locator("#scope-title")).to_contain_text(page.locator("#province option:checked").inner_text())
    page.select_option("#level", "commune")
    wait_until(page, "document.getElementById('commune').options.length > 0")
    commune = page.locator("#commune option:checked").inner_text()
    page.click("#picker button[type=submit]")
    wait_until(page, "document.getElementById('scope-title').textContent.includes(document.getElementById('commune')"
                     ".selectedOptions[0].text) || document.getElementById('error').textContent.length > 0")
    expect(page.locator("#error")).to_be_empty()  # the commune level works (it sent the unit as a province)
    expect(page.locator("#scope-title")).to_contain_text(commune)
    wait_until(page, CHARTS)
    page.fill("#period", "summer")  # a bad period: the reason, and nothing of the last query left
    page.click("#picker button[type=submit]")
    expect(page.locator("#error")).to_contain_text("The figures cannot be shown")
    assert page.evaluate("['pyramid', 'map'].every((id) => !Chart.getChart(document.getElementById(id)))")
    expect(page.locator("#scope-title")).to_be_empty()
    only_local(page, site["url"])
    page.close()


PAGES = [("ui-citizen", "/ui/record.html", "#person-name"), ("ui-clinician", "/ui/record.html", "#search"),
         ("ui-admin", "/ui/admin.html", "#users table"), ("ui-reviewer", "/ui/review.html", "#filters"),
         ("ui-epi", "/ui/dashboard.html", "#scope-title")]


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 768)])
def test_every_page_fits_without_scrolling_sideways(site: dict[str, Any], width: int, height: int) -> None:
    """Each role's page at a phone's and a laptop's width: nothing wider than the screen (a wide table
    scrolls inside its card), a screenshot of each kept."""
    page = sign_in(site["browser"], site["url"], "ui-admin")
    page.goto(f"{site['url']}/ui/")  # the sign-in page too, signed out
    page.evaluate("sessionStorage.clear()")
    page.set_viewport_size({"width": width, "height": height})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), ("sign-in", width)
    page.goto(f"{site['url']}/ui/register.html")  # and registration, signed out
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), ("register", width)
    page.screenshot(path=str(SHOTS / f"register-{width}.png"), full_page=True)
    page.close()
    for user, path, ready in PAGES:
        page = sign_in(site["browser"], site["url"], user)
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{site['url']}{path}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        wide = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(SHOTS / f"{user}-{width}.png"), full_page=True)
        assert wide <= width, f"{path} as {user} is {wide} px wide at {width} px"
        page.close()


ENGLISH_SHOWN = """(() => {
  const text = document.body.innerText;
  return Object.entries(TEXT.en).filter(([key, value]) => value.length >= 6 && value !== TEXT.vi[key]
    && /[a-z]{3}/.test(value) && text.includes(value)).map(([key]) => key);
})()"""


@pytest.mark.parametrize(("user", "path", "ready"), PAGES, ids=[f"{u}:{p}" for u, p, _ in PAGES])
def test_a_vietnamese_page_shows_nothing_of_the_english_catalogue(site: dict[str, Any], user: str, path: str,
                                                                   ready: str) -> None:
    page = sign_in(site["browser"], site["url"], user)
    page.goto(f"{site['url']}{path}")
    expect(page.locator(ready).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("Object.keys(TEXT.en).filter((k) => !(k in TEXT.vi))") == [], "keys without Vietnamese"
    assert page.evaluate("Object.keys(TEXT.vi).filter((k) => !(k in TEXT.en))") == [], "keys without English"
    assert page.evaluate(ENGLISH_SHOWN) == [], f"English on the Vietnamese {path}"
    page.close()


def test_the_dashboard_fits_a_phone_and_a_laptop(site: dict[str, Any]) -> None:
    for width, height in ((390, 844), (1366, 768)):
        page = sign_in(site["browser"], site["url"], "ui-epi")
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        wait_until(page, CHARTS)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        page.screenshot(path=str(SHOTS / f"dashboard-{width}.png"), full_page=True)
        page.close()


def test_admin_pages_list_users_jobs_tasks_and_audit(site: dict[str, Any], graph: Driver) -> None:
    # The audit table shows the newest 50 entries: the citizen reads their record just before, so that
    # the reviewers' and epidemiologists' pages before this test cannot push it off.
    citizen = sign_in(site["browser"], site["url"], "ui-citizen")
    expect(citizen.locator("#person-id")).to_have_text(site["family"]["parent"])
    citizen.close()
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
    # A citizen's correction is accepted with a reason: the request closes and a job brings the value in.
    jobs_before = page.locator("#jobs tbody tr").count()
    page.once("dialog", lambda dialog: dialog.accept("số điện thoại đã xác minh qua điện thoại"))
    page.locator("#corrections tbody tr", has_text="0912345678").get_by_role("button", name="Chấp nhận").click()
    expect(page.locator("#corrections")).not_to_contain_text("0912345678")
    expect(page.locator("#jobs tbody tr")).to_have_count(jobs_before + 1)
    decided = graph.execute_query("MATCH (t:CorrectionRequest {value: '0912345678'}) RETURN t.status AS s, "
                                  "t.decided_by AS by, t.reason AS reason").records[0]
    assert (decided["s"], decided["by"]) == ("accepted", "ui-admin") and "xác minh" in decided["reason"]
    # An upload from the page becomes a job; dates are written the Vietnamese way.
    page.set_input_files("#upload input[name=file]", {"name": "registry.csv", "mimeType": "text/csv",
                                                      "buffer": b"so_dinh_danh,ho_ten\n"})
    page.click("#upload button[type=submit]")
    expect(page.locator("#upload .status")).to_have_text("Đã nhận tệp: lượt nhập đang chờ xử lý")
    expect(page.locator("#jobs tbody tr", has_text="registry.csv")).to_have_count(1)
    assert re.search(r"\d{1,2}/\d{1,2}/\d{4}", page.locator("#batches tbody tr").first.inner_text())
    # An account made from the page, then deactivated from it.
    page.fill("#account input[name=username]", "ui-new-epi")
    page.select_option("#account select[name=role]", "epidemiologist")
    page.fill("#account input[name=password]", "a new password 42")
    page.click("#account button[type=submit]")
    expect(page.locator("#account .status")).to_have_text("Đã lưu tài khoản ui-new-epi")
    row = page.locator("#users tbody tr", has_text="ui-new-epi")
    expect(row).to_contain_text("Cán bộ dịch tễ")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Khóa").click()
    expect(page.locator("#users tbody tr", has_text="ui-new-epi")).to_contain_text("Đã khóa")
    page.close()


def test_one_list_that_fails_leaves_the_rest_of_the_admin_page_working(site: dict[str, Any]) -> None:
    """The batch list answering 500 (as it once did while an ingestion renamed its folder): that section
    says so, and the users, jobs and corrections still show."""
    page = sign_in(site["browser"], site["url"], "ui-admin")
    page.route("**/batches", lambda route: route.fulfill(status=500, content_type="application/json",
                                                         body='{"detail": "lỗi máy chủ khi đọc danh sách"}'))
    page.reload()
    expect(page.locator("#batches [role=alert]")).to_have_text("lỗi máy chủ khi đọc danh sách")
    expect(page.locator("#users table")).to_contain_text("ui-reviewer")
    expect(page.locator("#jobs table")).to_contain_text("citizen")
    expect(page.locator("#users [role=alert]")).to_have_count(0)
    page.close()


def test_the_api_documentation_works_without_internet(site: dict[str, Any]) -> None:
    """Swagger UI comes from the application itself, under its content policy (ReDoc, whose bundle fetches
    its logo from its maker, is not served)."""
    assert requests_get(f"{site['url']}/redoc").status_code == 404
    for path, rendered in (("/docs", ".swagger-ui .opblock"),):
        page = site["browser"].new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        refused: list[str] = []
        page.on("request", lambda request, seen=requests: seen.append(request.url))
        page.on("console", lambda message, seen=refused: seen.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.requests = requests  # type: ignore[attr-defined]
        page.goto(f"{site['url']}{path}")
        expect(page.locator(rendered).first).to_be_visible(timeout=15000)
        only_local(page, site["url"])
        assert refused == [], refused
        page.close()


def _codes(outbox: Path, phone: str) -> list[str]:
    lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
    return [m.group(1) for line in lines if (sms := json.loads(line))["phone"] == phone
            if (m := re.search(r"\b(\d{6})\b", sms["text"]))]


def test_a_citizen_registers_and_sees_who_read_their_record(site: dict[str, Any], graph: Driver) -> None:
    """Registration from the page with the code of the development sink (a wrong birth date and a wrong
    phone get the same answer and no code); a clinician's read shows in the citizen's log, the citizen
    flags it, and the admin page closes the flag."""
    person = graph.execute_query(
        "MATCH (p:Person {status: 'active', province: $province}) WHERE p.personal_id IS NOT NULL "
        "AND p.phone IS NOT NULL AND p.birth_date IS NOT NULL AND p.birth_year < date().year - 20 "
        "AND NOT EXISTS { MATCH (:User {person_id: p.person_id}) } "
        "RETURN p {.person_id, .personal_id, .phone, birth_date: toString(p.birth_date)} AS p LIMIT 1",
        {"province": site["family"]["province"]}).records[0]["p"]
    page = site["browser"].new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{site['url']}/ui/")
    page.get_by_role("link", name="Đăng ký tài khoản").click()
    expect(page.locator("h1")).to_have_text("Đăng ký tài khoản")
    assert page.evaluate(ENGLISH_SHOWN) == []
    answers = []
    for birth, phone in (("1901-01-01", person["phone"]), (person["birth_date"], "0999999999"),
                         (person["birth_date"], person["phone"])):
        page.goto(f"{site['url']}/ui/register.html")
        page.fill("input[name=personal_id]", person["personal_id"])
        page.fill("input[name=birth_date]", birth)
        page.fill("input[name=phone]", phone)
        page.click("#proof button[type=submit]")
        expect(page.locator("#finish")).to_be_visible()
        answers.append(page.locator("#sent").inner_text())
        if len(answers) < 3:
            assert _codes(site["outbox"], person["phone"]) == []  # a wrong proof sends nothing
    assert len(set(answers)) == 1 and "mã xác minh đã được gửi" in answers[0]
    site["self_made"] = person  # for the next test
    page.fill("input[name=code]", _codes(site["outbox"], person["phone"])[-1])
    page.fill("input[name=username]", "ui-self-made")
    page.fill("input[name=password]", "my own password 5")
    page.click("#finish button[type=submit]")
    expect(page.locator("#sent")).to_contain_text("ui-self-made")
    page.close()
    token = requests_post(f"{site['url']}/auth/token", data={"username": "ui-clinician", "password": PASSWORD},
                          timeout=10).json()["access_token"]
    read = requests_get(f"{site['url']}/persons/{person['person_id']}", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)
    assert read.status_code == 200
    page = site["browser"].new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{site['url']}/ui/")
    page.fill("input[name=username]", "ui-self-made")
    page.fill("input[name=password]", "my own password 5")
    page.click("button[type=submit]")
    row = page.locator("#disclosure-log tbody tr", has_text="ui-clinician").first
    expect(row).to_contain_text("Xem hồ sơ")
    expect(row).to_contain_text("Nhân viên y tế")
    page.once("dialog", lambda dialog: dialog.accept("Tôi không đến khám ở đây"))
    row.get_by_role("button", name="Báo bất thường").click()
    expect(page.locator("#disclosure-log tbody tr", has_text="ui-clinician").first).to_contain_text("Đã báo")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / "disclosures-390.png"), full_page=True)
    page.close()
    admin = sign_in(site["browser"], site["url"], "ui-admin")
    flag = admin.locator("#flags tbody tr", has_text="ui-self-made")
    expect(flag).to_contain_text("ui-clinician")
    admin.once("dialog", lambda dialog: dialog.accept("Bác sĩ tra cứu khi người bệnh đến khám"))
    flag.get_by_role("button", name="Hợp lệ").click()
    expect(admin.locator("#flags")).not_to_contain_text("ui-self-made")
    admin.close()


def _sign_in_as(browser: Browser, url: str, username: str, password: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script("localStorage.setItem('hoso.lang', 'vi')")
    page.goto(f"{url}/ui/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def test_consent_opens_a_record_across_provinces_and_break_the_glass_shows_in_the_log(site: dict[str, Any],
                                                                                     graph: Driver) -> None:
    person = site["self_made"]
    far_province = graph.execute_query("MATCH (p:Person {person_id: $id}) RETURN p.province AS p",
                                       {"id": person["person_id"]}).records[0]["p"]
    add_user(graph, "ui-far", PASSWORD, Role.CLINICIAN, province="01" if far_province != "01" else "79",
             facility="01001")
    citizen = _sign_in_as(site["browser"], site["url"], "ui-self-made", "my own password 5")
    citizen.get_by_role("button", name="Tạo mã đồng ý").click()
    code = citizen.locator("#consent-value").inner_text()
    far = sign_in(site["browser"], site["url"], "ui-far")
    far.goto(f"{site['url']}/ui/record.html?id={person['person_id']}")
    expect(far.locator("#refused")).to_be_visible()  # another province: refused without consent
    far.fill("#consent-form input[name=code]", code)
    far.click("#consent-form button[type=submit]")
    expect(far.locator("#person-id")).to_have_text(person["person_id"])
    far.fill("#emergency-form input[name=personal_id]", person["personal_id"])
    far.fill("#emergency-form input[name=reason]", "bất tỉnh sau tai nạn giao thông, cần biết dị ứng")
    far.click("#emergency-form button[type=submit]")
    expect(far.locator("#emergency-summary")).to_contain_text("Không có trong HoSo")
    far.close()
    citizen.reload()
    log = citizen.locator("#disclosure-log")
    expect(log).to_contain_text("Truy cập khẩn cấp (phá kính)", timeout=60_000)
    expect(log).to_contain_text("Đồng ý tại nơi khám")
    citizen.close()


def test_a_closed_visit_is_hidden_from_another_facility_but_not_from_its_author(site: dict[str, Any],
                                                                                 graph: Driver) -> None:
    row = graph.execute_query(
        "MATCH (p:Person {status: 'active', province: $province})<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)"
        "-[:HAD_ENCOUNTER]->(e:Encounter)-[:AT]->(f:Facility) WHERE p.birth_year < date().year - 20 "
        "AND f.code <> '01001' AND NOT EXISTS { MATCH (:User {person_id: p.person_id}) } "
        "RETURN p.person_id AS person, f.code AS facility, coalesce(f.name, f.code) AS place, "
        "toString(e.admitted_at) AS at ORDER BY person LIMIT 1",
        {"province": site["family"]["province"]}).records[0]
    add_user(graph, "ui-closer", PASSWORD, Role.CITIZEN, person_id=row["person"])
    add_user(graph, "ui-author", PASSWORD, Role.CLINICIAN, province=site["family"]["province"],
             facility=row["facility"])
    visits_shown = "section.card:has(h2:text-is('Khám chữa bệnh')) tbody tr"

    def visits_seen_by(user: str) -> int:
        page = sign_in(site["browser"], site["url"], user)
        page.goto(f"{site['url']}/ui/record.html?id={row['person']}")
        expect(page.locator("#person-name")).not_to_be_empty()
        count = page.locator(visits_shown).count()
        page.close()
        return count

    before = visits_seen_by("ui-clinician")
    citizen = sign_in(site["browser"], site["url"], "ui-closer")
    citizen.locator("#privacy summary").click()
    citizen.locator("#visit-closures li", has_text=f"{row['at'][:10]} · {row['place']}").first.get_by_role(
        "button").click()
    expect(citizen.locator("#visit-closures button.reopen")).to_have_count(1)
    citizen.close()
    assert visits_seen_by("ui-clinician") == before - 1
    assert visits_seen_by("ui-author") == before
