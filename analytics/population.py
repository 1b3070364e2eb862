"""Population structure: age pyramids, sex ratios, dependency ratio, household sizes, moves between units."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.base import GraphReader, age_band, ages_at
from analytics.scope import Period, Scope


def persons(graph: GraphReader, scope: Scope) -> pd.DataFrame:
    return graph.frame("population_in_province" if scope.province else "population",
                        ["province", "commune", "sex", "birth_year", "persons", "registry"],
                       **scope.params())


def age_pyramid(graph: GraphReader, scope: Scope, on: date) -> pd.DataFrame:
    """Persons by 5-year age band and sex at `on` (one row per band, a column per sex)."""
    frame = persons(graph, scope)
    frame["age_band"] = age_band(ages_at(frame["birth_year"], on))
    table = (frame[frame["sex"].isin(["male", "female"])]
             .pivot_table(index="age_band", columns="sex", values="persons", aggfunc="sum", fill_value=0,
                          observed=False)
             .reindex(columns=["male", "female"], fill_value=0).reset_index())
    table.columns.name = None
    return table


def structure(graph: GraphReader, scope: Scope, on: date, people: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per commune: persons, registry persons, sex ratio (males per 100 females) and dependency ratio
    ((under 15 + 65 and over) per 100 aged 15 to 64). `people`: `persons(graph, scope)` when the caller
    has read it already."""
    frame = persons(graph, scope) if people is None else people.copy()
    frame["age"] = ages_at(frame["birth_year"], on)
    frame = frame[frame["age"].notna() | frame["birth_year"].isna()].copy()  # not yet born at `on`: left out
    frame["young"] = frame["persons"].where(frame["age"] < 15, 0)
    frame["old"] = frame["persons"].where(frame["age"] >= 65, 0)
    frame["working"] = frame["persons"].where((frame["age"] >= 15) & (frame["age"] < 65), 0)
    frame["male"] = frame["persons"].where(frame["sex"] == "male", 0)
    frame["female"] = frame["persons"].where(frame["sex"] == "female", 0)
    table = frame.groupby(["province", "commune"], dropna=False)[
        ["persons", "registry", "male", "female", "young", "old", "working"]].sum().reset_index()
    table["sex_ratio"] = (table["male"] * 100 / table["female"].where(table["female"] > 0)).round(1)
    table["dependency_ratio"] = ((table["young"] + table["old"]) * 100
                                 / table["working"].where(table["working"] > 0)).round(1)
    return table


def sex_ratio_at_birth(graph: GraphReader, scope: Scope, period: Period,
                       people: pd.DataFrame | None = None) -> pd.DataFrame:
    """Births (persons born in the period's years) by sex per commune, and boys per 100 girls."""
    frame = persons(graph, scope) if people is None else people
    years = set(range(period.start.year, (period.end.year if period.end.month > 1 or period.end.day > 1
                                          else period.end.year - 1) + 1))
    born = frame[pd.to_numeric(frame["birth_year"], errors="coerce").isin(years)]
    table = born.pivot_table(index=["province", "commune"], columns="sex", values="persons", aggfunc="sum",
                             fill_value=0).reindex(columns=["male", "female"], fill_value=0).reset_index()
    table.columns.name = None
    table["births"] = table["male"] + table["female"]
    table["srb"] = (table["male"] * 100 / table["female"].where(table["female"] > 0)).round(1)
    return table


def household_sizes(graph: GraphReader, scope: Scope) -> pd.DataFrame:
    """Households by number of active members, per commune (in the order of those keys: suppression breaks
    ties by row order, and the same table must always withhold the same cells, or two runs differenced
    would give the withheld ones away)."""
    frame = graph.frame("household_sizes", ["province", "commune", "size", "households"], **scope.params())
    return frame.sort_values(["province", "commune", "size"], na_position="last").reset_index(drop=True)


def moves(graph: GraphReader, scope: Scope, period: Period) -> pd.DataFrame:
    """Changes of commune between a person's consecutive records, the later one in the period."""
    start, end = period.iso()
    columns = ["from_province", "from_commune", "to_province", "to_commune", "moves"]
    frame = (graph.frame("moves_in_province", columns, start=start, end=end, province=scope.province)
             if scope.province is not None else graph.frame("moves", columns, start=start, end=end))
    if scope.communes is not None:
        keep = set(scope.communes)
        frame = frame[frame["from_commune"].isin(keep) | frame["to_commune"].isin(keep)]
    return frame.sort_values("moves", ascending=False).reset_index(drop=True)
