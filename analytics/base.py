"""The read side the analyses share: a Cypher query of `graph/cypher/analytics/` as a DataFrame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from neo4j import Driver

from graph import default_registry

AGE_BANDS = [(lo, lo + 4) for lo in range(0, 80, 5)] + [(80, 200)]
AGE_LABELS = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in AGE_BANDS]
# WHO World Standard Population (2000-2025) per 100,000, 5-year bands with 80+ combined.
WHO_STANDARD = [8860, 8690, 8600, 8470, 8220, 7930, 7610, 7150, 6590, 6040, 5370, 4550, 3720, 2960, 2210, 1520, 1545]


@dataclass(frozen=True)
class GraphReader:
    """A driver and database, and the one way analyses read the graph."""

    driver: Driver
    database: str = "neo4j"

    def frame(self, name: str, columns: list[str] | None = None, **params: Any) -> pd.DataFrame:
        records = default_registry().read(self.driver, f"analytics/{name}", database=self.database, **params)
        if not records:
            return pd.DataFrame(columns=columns or [])
        return pd.DataFrame([r.data() for r in records])


def age_band(ages: pd.Series) -> pd.Series:
    """5-year age bands 0-4 ... 75-79 and 80+, as an ordered categorical."""
    bins = [lo for lo, _ in AGE_BANDS] + [1000]
    return pd.cut(ages, bins=bins, right=False, labels=AGE_LABELS)


def ages_at(birth_years: pd.Series, when: Any) -> pd.Series:
    """Age in completed years at `when` from the birth year (a mid-year birthday is assumed); no age (NaN)
    for a person born after `when`'s year, who is not yet in the population then."""
    years = pd.to_numeric(birth_years, errors="coerce")
    return (when.year - years - (1 if when.month < 7 else 0)).clip(lower=0).where(years <= when.year)


def per_100k(cases: pd.Series, population: pd.Series) -> pd.Series:
    rate = cases.astype("Float64") * 100_000 / population.astype("Float64").where(population > 0)
    return rate.round(1)
