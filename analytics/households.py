"""Household health and the management of non-communicable disease (NCD).

A person is *detected* with a disease when a visit names it or their commune health record lists it as
chronic; *under management* when the health record lists it or two or more visits name it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analytics.base import GraphReader
from analytics.immunization import Rules, child_doses, children, doses_by_vaccine, doses_of, load_rules
from analytics.scope import Scope

HYPERTENSION = ("I10", "I11", "I12", "I13", "I15")
DIABETES = ("E10", "E11", "E12", "E13", "E14")
CHRONIC = (*HYPERTENSION, *DIABETES, "J44", "J45", "I20", "I25", "I50", "N18", "A15")
RESPIRATORY = ("J4", "J18", "J20", "J44", "J45")
CONDITION_COLUMNS = ["person_id", "name", "province", "commune", "sex", "birth_year", "household", "phone", "icd10",
                     "visits", "recorded", "first_ms", "last_seen_ms"]


def with_conditions(graph: GraphReader, scope: Scope, prefixes: tuple[str, ...],
                    columns: list[str] = CONDITION_COLUMNS) -> pd.DataFrame:
    """One row per person and code of `prefixes` (internal: carries identifiers), with `columns` at least."""
    frame = graph.frame("conditions", columns, prefixes=list(prefixes), **scope.params())
    frame["managed"] = frame["recorded"].astype(bool) | (frame["visits"] >= 2)
    if "last_seen_ms" in frame.columns:
        frame["last_seen"] = pd.to_datetime(frame["last_seen_ms"], unit="ms", utc=True).dt.tz_localize(None)
    return frame


def ncd_management(graph: GraphReader, scope: Scope) -> pd.DataFrame:
    """Per commune: persons with hypertension and diabetes detected, and under management."""
    frame = with_conditions(graph, scope, (*HYPERTENSION, *DIABETES),
                            ["person_id", "province", "commune", "icd10", "visits", "recorded"])
    frame["group"] = frame["icd10"].str.startswith(HYPERTENSION).map({True: "hypertension", False: "diabetes"})
    per_person = frame.groupby(["province", "commune", "group", "person_id"], dropna=False)["managed"].max()
    table = (per_person.groupby(["province", "commune", "group"], dropna=False).agg(["size", "sum"])
             .rename(columns={"size": "detected", "sum": "managed"}).reset_index())
    table["managed"] = table["managed"].astype(int)
    return table


def not_seen(graph: GraphReader, scope: Scope, on: date, days: int = 90) -> pd.DataFrame:
    """Hypertension and diabetes patients under management with no visit in the last `days` days, for the
    health station's follow-up (identifies patients: staff of the unit only)."""
    frame = with_conditions(graph, scope, (*HYPERTENSION, *DIABETES))
    frame = frame[frame["managed"]]
    since = pd.Timestamp(on - timedelta(days=days))
    late = frame[frame["last_seen"].isna() | (frame["last_seen"] < since)]
    late = late.sort_values("last_seen").drop_duplicates("person_id")
    out = late[["person_id", "name", "commune", "household", "phone", "icd10", "last_seen"]].copy()
    out["last_seen"] = out["last_seen"].dt.date.astype("string")
    return out.reset_index(drop=True)


def chronic_households(graph: GraphReader, scope: Scope) -> pd.DataFrame:
    """Per commune: households with two or more members under management for a chronic disease."""
    frame = with_conditions(graph, scope, CHRONIC)
    managed = frame[frame["managed"]].dropna(subset=["household"]).drop_duplicates("person_id")
    members = managed.groupby(["commune", "household"]).size().rename("members").reset_index()
    members["two_plus"] = members["members"] >= 2
    table = members.groupby("commune").agg(households_with_chronic=("household", "size"),
                                           households_2plus=("two_plus", "sum"))
    table["households_2plus"] = table["households_2plus"].astype(int)
    return table.reset_index()


def under5_incomplete(graph: GraphReader, scope: Scope, on: date, rules: Rules | None = None) -> pd.DataFrame:
    """Per commune: children under 5 missing a dose their age calls for, and the households they live in."""
    rules = rules or load_rules()
    born_from, born_to = on.replace(year=on.year - 5), on + timedelta(days=1)
    frame = children(graph, scope, born_from, born_to)
    counts = doses_by_vaccine(child_doses(graph, scope, born_from, born_to))
    counts = counts.reindex(frame["person_id"], fill_value=0)
    counts.index = frame.index
    age_days = (pd.Timestamp(on) - frame["born"]).dt.days
    incomplete = pd.Series(False, index=frame.index)
    for step in rules.schedule:
        had = doses_of(counts, step["vaccine"])
        incomplete |= (age_days > step["age_days"] + step["grace_days"]) & (had < step["dose"])
    frame["incomplete"] = incomplete
    table = frame.groupby("commune", dropna=False).agg(children=("person_id", "size"),
                                                       incomplete=("incomplete", "sum"))
    homes = frame[frame["incomplete"]].groupby("commune", dropna=False)["household"].nunique()
    table["households"] = homes.reindex(table.index, fill_value=0).astype(int)
    table["incomplete"] = table["incomplete"].astype(int)
    table["rules"] = rules.version
    return table.reset_index()


def smokers_with_respiratory(graph: GraphReader, scope: Scope) -> pd.DataFrame:
    """Per commune: households where someone smokes and someone has a chronic respiratory disease."""
    smokers = graph.frame("risk_factors", ["person_id", "commune", "household"], factor="smoking", **scope.params())
    sick = with_conditions(graph, scope, RESPIRATORY)
    sick = sick.dropna(subset=["household"]).drop_duplicates("person_id")
    # Through Python strings: `isin` on Arrow-backed strings builds a scalar per value (0.4 s at 1M).
    smoker_at_home = sick["household"].astype(object).isin(smokers["household"].dropna().astype(object))
    sick["smoker_household"] = sick["household"].where(smoker_at_home)  # NaN: no smoker
    table = sick.groupby("commune").agg(households_with_respiratory=("household", "nunique"),
                                        households_with_smoker=("smoker_household", "nunique"))
    return table.reset_index()
