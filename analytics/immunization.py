"""Immunization: coverage per antigen and dose, fully immunized under 1, drop-out, and the list of
children due or overdue that a commune health station works from.

Coverage follows a birth cohort: the children whose first birthday falls in the period, and the doses
they received before it (any source: the immunization registry and the 831 record, one dose counted
once). The rule set (`analytics/rules/*.toml`) says what "fully immunized" means and when doses fall
due; it is versioned and every output names the version it used.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.base import GraphReader
from analytics.scope import Period, Scope

RULES_DIR = Path(__file__).parent / "rules"
DEFAULT_RULES = RULES_DIR / "vn-epi-2024.toml"
CHILD_COLUMNS = ["person_id", "name", "province", "commune", "sex", "birth_date", "household", "phone", "doses"]


@dataclass(frozen=True)
class Rules:
    """A versioned immunization rule set."""

    version: str
    fully_immunized_under_1: list[dict[str, Any]]
    dropout: list[dict[str, Any]]
    schedule: list[dict[str, Any]]
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_rules(path: Path | None = None) -> Rules:
    data = tomllib.loads((path or DEFAULT_RULES).read_text(encoding="utf-8"))
    return Rules(version=data["version"], fully_immunized_under_1=data["fully_immunized_under_1"],
                 dropout=data.get("dropout", []), schedule=data.get("schedule", []), source=data.get("source", ""))


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def children(graph: GraphReader, scope: Scope, born_from: date, born_to: date) -> pd.DataFrame:
    """Children born in [born_from, born_to) with their doses (internal: carries identifiers)."""
    return graph.frame("immunizations", CHILD_COLUMNS, born_from=born_from.isoformat(), born_to=born_to.isoformat(),
                       **scope.params())


def _doses_before(doses: list[dict[str, Any]], limit: date) -> dict[str, int]:
    """Highest dose number per vaccine received before `limit` (distinct dose numbers counted)."""
    got: dict[str, set[int]] = {}
    for dose in doses:
        when = dose.get("date")
        if when is None or date.fromisoformat(str(when)[:10]) >= limit:
            continue
        got.setdefault(dose["vaccine"], set()).add(int(dose.get("dose") or 1))
    return {vaccine: len(numbers) for vaccine, numbers in got.items()}


def cohort(graph: GraphReader, scope: Scope, period: Period, rules: Rules) -> pd.DataFrame:
    """The children whose first birthday is in the period, with what they had by then (internal)."""
    frame = children(graph, scope, _shift_years(period.start, -1), _shift_years(period.end, -1))
    received: list[dict[str, int]] = [
        _doses_before(doses, _shift_years(date.fromisoformat(birth), 1))
        for birth, doses in zip(frame["birth_date"].tolist(), frame["doses"].tolist(), strict=True)]
    frame["received"] = pd.Series(received, index=frame.index, dtype=object)
    frame["fully"] = [all(r.get(rule["vaccine"], 0) >= rule["doses"] for rule in rules.fully_immunized_under_1)
                      for r in received]
    return frame


def coverage(graph: GraphReader, scope: Scope, period: Period, rules: Rules | None = None) -> pd.DataFrame:
    """Per commune: the cohort, coverage of every antigen and dose of the schedule by the first birthday,
    fully immunized and drop-out; numerator and denominator on every row."""
    rules = rules or load_rules()
    frame = cohort(graph, scope, period, rules)
    rows: list[dict[str, Any]] = []
    doses = sorted({(s["vaccine"], s["dose"]) for s in rules.schedule if s["age_days"] < 365})
    for (province, commune), part in frame.groupby(["province", "commune"], dropna=False):
        base = {"province": province, "commune": commune, "rules": rules.version}
        size = len(part)
        for vaccine, number in doses:
            got = sum(1 for r in part["received"] if r.get(vaccine, 0) >= number)
            rows.append({**base, "indicator": f"{vaccine} dose {number}", "numerator": got, "denominator": size})
        rows.append({**base, "indicator": "fully immunized under 1", "numerator": int(part["fully"].sum()),
                     "denominator": size})
        for rule in rules.dropout:
            first = sum(1 for r in part["received"] if r.get(rule["vaccine"], 0) >= rule["first"])
            last = sum(1 for r in part["received"] if r.get(rule["vaccine"], 0) >= rule["last"])
            rows.append({**base, "indicator": f"drop-out {rule['name']}", "numerator": first - last,
                         "denominator": first})
    table = pd.DataFrame(rows, columns=["province", "commune", "rules", "indicator", "numerator", "denominator"])
    table["percent"] = (table["numerator"] * 100 / table["denominator"].where(table["denominator"] > 0)).round(1)
    return table


def due_list(graph: GraphReader, scope: Scope, on: date, rules: Rules | None = None,
             max_age_years: int = 6) -> pd.DataFrame:
    """The children of the unit with a dose due or overdue on `on`: for the health station (identifies
    children, so only for staff of the unit, never for the epidemiologist role)."""
    rules = rules or load_rules()
    frame = children(graph, scope, _shift_years(on, -max_age_years), on + timedelta(days=1))
    rows = []
    for child in frame.to_dict(orient="records"):
        birth = date.fromisoformat(str(child["birth_date"]))
        age_days = (on - birth).days
        had = _doses_before(child["doses"], on + timedelta(days=1))
        for step in rules.schedule:
            if age_days < step["age_days"] or had.get(step["vaccine"], 0) >= step["dose"]:
                continue
            due_on = birth + timedelta(days=step["age_days"])
            overdue = age_days > step["age_days"] + step["grace_days"]
            rows.append({**{k: child[k] for k in ("person_id", "name", "birth_date", "commune", "household", "phone")},
                         "vaccine": step["vaccine"], "dose": step["dose"], "due_on": due_on.isoformat(),
                         "status": "overdue" if overdue else "due", "rules": rules.version})
            break  # the next dose of a child is the first one missing
    return pd.DataFrame(rows, columns=["person_id", "name", "birth_date", "commune", "household", "phone", "vaccine",
                                       "dose", "due_on", "status", "rules"])


def next_doses(birth_date: str | None, doses: list[dict[str, Any]], on: date,
               rules: Rules | None = None) -> list[dict[str, Any]]:
    """The doses of the schedule a child has not received yet, with their due dates (for the citizen)."""
    if not birth_date:
        return []
    rules = rules or load_rules()
    birth = date.fromisoformat(birth_date[:10])
    had = _doses_before(doses, on + timedelta(days=1))
    out = []
    for step in rules.schedule:
        if had.get(step["vaccine"], 0) >= step["dose"]:
            continue
        due_on = birth + timedelta(days=step["age_days"])
        status = "overdue" if (on - due_on).days > step["grace_days"] else ("due" if due_on <= on else "upcoming")
        out.append({"vaccine": step["vaccine"], "dose": step["dose"], "due_on": due_on.isoformat(), "status": status})
    return out
