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
CHILD_COLUMNS = ["person_id", "name", "province", "commune", "sex", "birth_date", "household", "phone"]
DOSE_COLUMNS = ["person_id", "vaccine", "dose", "date"]


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
    """Children born in [born_from, born_to), one row each (internal: carries identifiers)."""
    frame = graph.frame("children", CHILD_COLUMNS, born_from=born_from.isoformat(), born_to=born_to.isoformat(),
                        **scope.params())
    frame["born"] = pd.to_datetime(frame["birth_date"].astype("string").str[:10], errors="coerce")
    return frame


def child_doses(graph: GraphReader, scope: Scope, born_from: date, born_to: date) -> pd.DataFrame:
    """The doses those children received: person_id, vaccine, dose (a missing number counts as 1), date."""
    frame = graph.frame("child_doses", DOSE_COLUMNS, born_from=born_from.isoformat(), born_to=born_to.isoformat(),
                        **scope.params())
    frame["dose"] = pd.to_numeric(frame["dose"], errors="coerce").fillna(1).astype("int64")
    frame["date"] = pd.to_datetime(frame["date"].astype("string").str[:10], errors="coerce")
    return frame


def _doses_before(doses: list[dict[str, Any]], limit: date) -> dict[str, int]:
    """Highest dose number per vaccine received before `limit` (distinct dose numbers counted), for one
    person's dose list."""
    got: dict[str, set[int]] = {}
    for dose in doses:
        when = dose.get("date")
        if when is None or date.fromisoformat(str(when)[:10]) >= limit:
            continue
        got.setdefault(dose["vaccine"], set()).add(int(dose.get("dose") or 1))
    return {vaccine: len(numbers) for vaccine, numbers in got.items()}


def doses_by_vaccine(doses: pd.DataFrame, limit: pd.Series | None = None) -> pd.DataFrame:
    """Distinct dose numbers of each vaccine per child (a person_id x vaccine table, 0 where none), counting
    only doses dated before the child's `limit` (a Series by person_id) when one is given."""
    if limit is not None:
        doses = doses.join(limit.rename("limit"), on="person_id")
        doses = doses[doses["date"].notna() & (doses["date"] < doses["limit"])]
    counted = (doses.drop_duplicates(["person_id", "vaccine", "dose"])
               .groupby(["person_id", "vaccine"]).size().unstack(fill_value=0))
    counted.columns = counted.columns.astype(str)
    return counted


def doses_of(counts: pd.DataFrame, vaccine: str) -> pd.Series:
    """A vaccine's column of a `doses_by_vaccine` table, zeros when nobody had it."""
    return counts[vaccine] if vaccine in counts else pd.Series(0, index=counts.index)


def cohort(graph: GraphReader, scope: Scope, period: Period, rules: Rules) -> pd.DataFrame:
    """The children whose first birthday is in the period, with how many doses of each vaccine they had
    by then (one column per vaccine) and whether that makes them fully immunized (internal)."""
    born_from, born_to = _shift_years(period.start, -1), _shift_years(period.end, -1)
    frame = children(graph, scope, born_from, born_to)
    birthdays = frame.set_index("person_id")["born"] + pd.DateOffset(years=1)
    counts = doses_by_vaccine(child_doses(graph, scope, born_from, born_to), birthdays[~birthdays.index.duplicated()])
    counts = counts.reindex(frame["person_id"].unique(), fill_value=0)
    fully = pd.Series(True, index=counts.index)
    for rule in rules.fully_immunized_under_1:
        fully &= doses_of(counts, rule["vaccine"]) >= rule["doses"]
    out = frame.join(counts.add_prefix("had:"), on="person_id")
    out["fully"] = out["person_id"].map(fully).fillna(False).astype(bool)
    return out


def coverage(graph: GraphReader, scope: Scope, period: Period, rules: Rules | None = None) -> pd.DataFrame:
    """Per commune: the cohort, coverage of every antigen and dose of the schedule by the first birthday,
    fully immunized and drop-out; numerator and denominator on every row."""
    rules = rules or load_rules()
    frame = cohort(graph, scope, period, rules)
    keys = ["province", "commune"]

    def had(vaccine: str) -> pd.Series:
        column = f"had:{vaccine}"
        return frame[column] if column in frame else pd.Series(0, index=frame.index)

    parts: list[pd.DataFrame] = []

    def add(indicator: str, numerator: pd.Series, denominator: pd.Series) -> None:
        sums = pd.DataFrame({"numerator": numerator.astype("int64"), "denominator": denominator.astype("int64")})
        sums[keys] = frame[keys]
        table = sums.groupby(keys, dropna=False, sort=True)[["numerator", "denominator"]].sum().reset_index()
        parts.append(table.assign(indicator=indicator))

    ones = pd.Series(1, index=frame.index)
    for vaccine, number in sorted({(s["vaccine"], s["dose"]) for s in rules.schedule if s["age_days"] < 365}):
        add(f"{vaccine} dose {number}", had(vaccine) >= number, ones)
    add("fully immunized under 1", frame["fully"], ones)
    for rule in rules.dropout:
        first, last = had(rule["vaccine"]) >= rule["first"], had(rule["vaccine"]) >= rule["last"]
        add(f"drop-out {rule['name']}", first.astype(int) - last.astype(int), first)
    columns = ["province", "commune", "rules", "indicator", "numerator", "denominator"]
    if not parts:
        return pd.DataFrame(columns=[*columns, "percent"])
    table = pd.concat(parts, ignore_index=True).assign(rules=rules.version)
    order = {name: n for n, name in enumerate(dict.fromkeys(table["indicator"]))}
    table = (table.assign(order=table["indicator"].map(order))
             .sort_values([*keys, "order"], na_position="last", kind="stable")[columns].reset_index(drop=True))
    table["percent"] = (table["numerator"] * 100 / table["denominator"].where(table["denominator"] > 0)).round(1)
    return table


def due_list(graph: GraphReader, scope: Scope, on: date, rules: Rules | None = None,
             max_age_years: int = 6) -> pd.DataFrame:
    """The children of the unit with a dose due or overdue on `on`: for the health station (identifies
    children, so only for staff of the unit, never for the epidemiologist role)."""
    rules = rules or load_rules()
    born_from, born_to = _shift_years(on, -max_age_years), on + timedelta(days=1)
    frame = children(graph, scope, born_from, born_to).dropna(subset=["born"])
    limit = pd.Series(pd.Timestamp(on + timedelta(days=1)), index=frame["person_id"].unique())
    counts = doses_by_vaccine(child_doses(graph, scope, born_from, born_to), limit)
    rows = []
    for child in frame.to_dict(orient="records"):
        birth = child["born"].date()
        age_days = (on - birth).days
        had = counts.loc[child["person_id"]] if child["person_id"] in counts.index else {}
        for step in rules.schedule:
            if age_days < step["age_days"] or had.get(step["vaccine"], 0) >= step["dose"]:
                continue
            due_on = birth + timedelta(days=step["age_days"])
            overdue = age_days > step["age_days"] + step["grace_days"]
            rows.append({**{k: child[k] for k in ("person_id", "name", "birth_date", "commune", "household", "phone")},
                         "vaccine": step["vaccine"], "dose": step["dose"], "due_on": due_on.isoformat(),
                         "status": "overdue" if overdue else "due", "rules": rules.version})
            break  # the next dose of a child is the first one missing
    table = pd.DataFrame(rows, columns=["person_id", "name", "birth_date", "commune", "household", "phone", "vaccine",
                                        "dose", "due_on", "status", "rules"])
    return table.sort_values(["due_on", "person_id"]).reset_index(drop=True)  # the longest overdue first


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
