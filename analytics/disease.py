"""Disease patterns: incidence by ICD-10 chapter, block and code, by unit and time; age- and sex-specific
and age-standardised rates; seasonality; the comorbidity network; household clustering.

A case is a person with a diagnosis of the code in the period (counted once per code), dated by the
first visit of the period that names it. Rates are per 100,000 persons of the unit (active persons
known to the population registry, counted by birth year as at the period's middle).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import combinations
from typing import TYPE_CHECKING, Literal

import pandas as pd

from analytics import population as structure
from analytics.base import AGE_LABELS, WHO_STANDARD, GraphReader, age_band, ages_at, per_100k
from analytics.scope import Period, Scope

if TYPE_CHECKING:
    import networkx as nx

Grouping = Literal["chapter", "block", "code"]
Grain = Literal["month", "week", "period"]
TUBERCULOSIS = ("A15", "A16", "A17", "A18", "A19")
DENGUE = ("A90", "A91", "A97")
CASE_COLUMNS = ["person_id", "province", "commune", "sex", "birth_year", "household", "icd10", "name", "block",
                "block_name", "chapter", "chapter_name", "first_ms"]


def cases(graph: GraphReader, scope: Scope, period: Period, prefixes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per person and code diagnosed in the period, with chapter and block (internal: has ids)."""
    start, end = period.iso()
    codes = list(prefixes) if prefixes else None
    # The planner cannot use an index behind `$x IS NULL OR ...`: each scope has its own query.
    if scope.communes is not None:
        frame = graph.frame("diagnoses_in_communes", CASE_COLUMNS, start=start, end=end, prefixes=codes,
                            communes=list(scope.communes))
    elif scope.province is not None:
        frame = graph.frame("diagnoses_in_province", CASE_COLUMNS, start=start, end=end, prefixes=codes,
                            province=scope.province)
    else:
        frame = graph.frame("diagnoses", CASE_COLUMNS, start=start, end=end, prefixes=codes, province=None,
                            communes=None)
    frame["first"] = pd.to_datetime(frame["first_ms"], unit="ms", utc=True).dt.tz_localize(None)
    return frame


def population(graph: GraphReader, scope: Scope, on: date) -> pd.DataFrame:
    """Registry persons of the unit by commune, sex and age band at `on`."""
    frame = structure.persons(graph, scope)
    frame["age_band"] = age_band(ages_at(frame["birth_year"], on))
    return frame


def _middle(period: Period) -> date:
    return period.start + timedelta(days=period.days // 2)


def incidence(graph: GraphReader, scope: Scope, period: Period, by: Grouping = "chapter",
              grain: Grain = "period") -> pd.DataFrame:
    """Cases and rate per 100,000 by disease group (chapter, block or code) and time bucket."""
    found = cases(graph, scope, period)
    key = {"chapter": "chapter", "block": "block", "code": "icd10"}[by]
    label = {"chapter": "chapter_name", "block": "block_name", "code": "name"}[by]
    if grain == "period":
        found["bucket"] = period.label
    else:
        freq = "W-MON" if grain == "week" else "MS"
        # Computed once per day, not per case (a year has 365 days and a nation 300,000 cases).
        day = found["first"].dt.normalize()
        days = pd.Index(day.unique())
        buckets = pd.Series(days).dt.to_period(freq[0]).dt.start_time.dt.date.astype(str).to_numpy()
        found["bucket"] = buckets[days.get_indexer(day)] if len(days) else pd.Series(dtype=str)
    table = (found.groupby(["bucket", key, label], dropna=False)["person_id"].nunique()
             .rename("cases").reset_index().rename(columns={key: "group", label: "group_name"}))
    denominator = int(population(graph, scope, _middle(period))["registry"].sum())
    table["population"] = denominator
    table["rate_per_100k"] = per_100k(table["cases"], table["population"])
    return table.sort_values(["bucket", "cases"], ascending=[True, False]).reset_index(drop=True)


def age_sex_rates(graph: GraphReader, scope: Scope, period: Period,
                  prefixes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Cases, population and rate per 100,000 by age band and sex."""
    middle = _middle(period)
    found = cases(graph, scope, period, prefixes).drop_duplicates("person_id")
    found["age_band"] = age_band(ages_at(found["birth_year"], middle))
    numerators = found.groupby(["age_band", "sex"], observed=False).size().rename("cases")
    pop = population(graph, scope, middle).groupby(["age_band", "sex"], observed=False)["registry"].sum()
    table = pd.concat([numerators, pop.rename("population")], axis=1).fillna(0).reset_index()
    table = table[table["sex"].isin(["male", "female"])]
    table[["cases", "population"]] = table[["cases", "population"]].astype(int)
    table["rate_per_100k"] = per_100k(table["cases"], table["population"])
    return table.reset_index(drop=True)


def age_standardised_rate(graph: GraphReader, scope: Scope, period: Period,
                          prefixes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Crude and directly age-standardised rate per 100,000 (WHO World Standard Population), by sex and overall."""
    rates = age_sex_rates(graph, scope, period, prefixes)
    weights = pd.Series(WHO_STANDARD, index=AGE_LABELS, dtype=float) / sum(WHO_STANDARD)
    rows = []
    for sex, part in [("male", rates[rates["sex"] == "male"]), ("female", rates[rates["sex"] == "female"]),
                      ("all", rates)]:
        by_band = part.groupby("age_band", observed=False)[["cases", "population"]].sum()
        specific = (by_band["cases"] / by_band["population"].where(by_band["population"] > 0)).fillna(0)
        cases_total, pop_total = int(by_band["cases"].sum()), int(by_band["population"].sum())
        rows.append({"sex": sex, "cases": cases_total, "population": pop_total,
                     "crude_per_100k": round(cases_total * 100_000 / pop_total, 1) if pop_total else None,
                     "standardised_per_100k": round(float((specific * weights.reindex(specific.index)).sum())
                                                    * 100_000, 1) if pop_total else None})
    return pd.DataFrame(rows)


def seasonality(graph: GraphReader, scope: Scope, period: Period, prefixes: tuple[str, ...] = DENGUE) -> pd.DataFrame:
    """Cases by year and calendar month (one row each, so that small counts can be withheld like any
    other) and each month's seasonal index (the month's mean over the years / the overall mean)."""
    found = cases(graph, scope, period, prefixes)
    found["year"] = found["first"].dt.year
    found["month"] = found["first"].dt.month
    table = found.groupby(["year", "month"])["person_id"].nunique().unstack(fill_value=0)
    table = table.reindex(columns=range(1, 13), fill_value=0)
    means = table.mean(axis=0)
    overall = float(means.mean()) or 1.0
    index = {month: round(float(mean) / overall, 2) for month, mean in means.items()}
    counts = table.to_numpy(dtype=int)
    return pd.DataFrame([(int(year), month, int(counts[row, month - 1]), index[month])
                         for row, year in enumerate(table.index) for month in range(1, 13)],
                        columns=["year", "month", "cases", "seasonal_index"])


def comorbidity_network(graph: GraphReader, scope: Scope, period: Period, min_pair: int = 5,
                        measure: Literal["lift", "jaccard"] = "lift", threshold: float = 1.0) -> nx.Graph:
    """Diagnoses (ICD-10 categories) joined when they occur in the same persons more than chance says.

    Edge attributes: `both` (persons with both), `lift` (observed / expected co-occurrence) and
    `jaccard`; an edge is kept when `both >= min_pair` and its `measure` exceeds `threshold`. Node
    attributes: `persons`, `community` (Louvain, seeded) and `centrality` (weighted degree centrality).
    """
    import networkx as nx  # noqa: PLC0415 - the analysis that draws the network pays its import, not every command

    start, end = period.iso()
    rows = graph.frame("comorbidity", ["codes", "persons"], start=start, end=end, **scope.params())
    total = int(rows["persons"].sum()) if len(rows) else 0
    single: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    for codes, persons in zip(rows.get("codes", []), rows.get("persons", []), strict=True):
        unique = sorted(set(codes))
        for code in unique:
            single[code] = single.get(code, 0) + persons
        for a, b in combinations(unique, 2):
            pairs[(a, b)] = pairs.get((a, b), 0) + persons
    network = nx.Graph()
    for (a, b), both in pairs.items():
        if both < min_pair:
            continue
        lift = both * total / (single[a] * single[b])
        jaccard = both / (single[a] + single[b] - both)
        if (lift if measure == "lift" else jaccard) > threshold:
            network.add_edge(a, b, both=both, lift=round(lift, 3), jaccard=round(jaccard, 4),
                             weight=lift if measure == "lift" else jaccard)
    for code in network.nodes:
        network.nodes[code]["persons"] = single[code]
    if network.number_of_edges():
        for index, community in enumerate(nx.community.louvain_communities(network, weight="weight", seed=7)):
            for code in community:
                network.nodes[code]["community"] = index
        centrality = nx.degree_centrality(network)
        for code, value in centrality.items():
            network.nodes[code]["centrality"] = round(value, 4)
    return network


def comorbidity_edges(graph: GraphReader, scope: Scope, period: Period) -> pd.DataFrame:
    """The comorbidity network as one table: each pair of categories seen together in at least 5 persons
    more often than chance, with its lift and Jaccard index and the community and centrality of each side."""
    network = comorbidity_network(graph, scope, period)
    edges, _ = comorbidity_tables(network)
    for side in ("a", "b"):
        edges[f"community_{side}"] = edges[side].map(lambda code: network.nodes[code].get("community"))
        edges[f"centrality_{side}"] = edges[side].map(lambda code: network.nodes[code].get("centrality"))
    return edges.reset_index(drop=True)


def comorbidity_tables(network: nx.Graph) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network as an edge table and a node table (most central first)."""
    edges = pd.DataFrame([{"a": a, "b": b, **{k: v for k, v in d.items() if k != "weight"}}
                          for a, b, d in network.edges(data=True)], columns=["a", "b", "both", "lift", "jaccard"])
    nodes = pd.DataFrame([{"code": n, **d} for n, d in network.nodes(data=True)],
                         columns=["code", "persons", "community", "centrality"])
    return edges.sort_values("lift", ascending=False), nodes.sort_values("centrality", ascending=False)


def household_clusters(graph: GraphReader, scope: Scope, period: Period, prefixes: tuple[str, ...] = TUBERCULOSIS,
                       window_days: int = 365) -> pd.DataFrame:
    """Per commune: cases, households with two or more cases, and secondary cases (a later case in the
    household within `window_days` of its first)."""
    found = cases(graph, scope, period, prefixes).dropna(subset=["household"])
    found = found.sort_values("first").drop_duplicates("person_id")
    rows = []
    for commune, part in found.groupby("commune"):
        clustered = secondary = 0
        for _, members in part.groupby("household"):
            if len(members) < 2:
                continue
            clustered += 1
            index_case = members["first"].iloc[0]
            later = members["first"].iloc[1:]
            secondary += int(((later - index_case) <= pd.Timedelta(days=window_days)).sum())
        rows.append({"commune": commune, "cases": len(part), "households_with_cases": part["household"].nunique(),
                     "households_2plus": clustered, "secondary_cases": secondary})
    return pd.DataFrame(rows, columns=["commune", "cases", "households_with_cases", "households_2plus",
                                       "secondary_cases"])
