"""The catalogue of analyses, the statistical report from commune to nation, and writing them out.

The statistical report computes every indicator per commune (numerator and denominator), then sums the
communes into their district, province and the nation, so the levels add up by construction; the value
is computed from the summed parts. Denominators come from the population registry's records.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import pandas as pd

from analytics import disease, households, immunization, population
from analytics.base import GraphReader
from analytics.privacy import check_no_identifiers, suppress
from analytics.scope import Level, Period, Scope, ScopeError


class ReportFormat(StrEnum):
    """The file formats a report is written in."""

    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"
    JSON = "json"


FORMATS = tuple(ReportFormat)


@dataclass(frozen=True)
class Analysis:
    """One named analysis: how to compute it and which of its columns count persons."""

    name: str
    title: str
    run: Callable[[GraphReader, Scope, Period], pd.DataFrame]
    counts: tuple[str, ...]
    margins: tuple[tuple[str, ...], ...] = ((),)


def _on(period: Period) -> date:
    return period.end - timedelta(days=1)


CATALOGUE: dict[str, Analysis] = {a.name: a for a in [
    Analysis("incidence", "Cases and incidence per 100,000 by ICD-10 chapter",
             lambda g, s, p: disease.incidence(g, s, p, by="chapter"), ("cases",), (("bucket",),)),
    Analysis("incidence_block", "Cases and incidence per 100,000 by ICD-10 block",
             lambda g, s, p: disease.incidence(g, s, p, by="block"), ("cases",), (("bucket",),)),
    Analysis("incidence_code", "Cases and incidence per 100,000 by ICD-10 code",
             lambda g, s, p: disease.incidence(g, s, p, by="code"), ("cases",), (("bucket",),)),
    Analysis("incidence_monthly", "Cases by ICD-10 chapter and month",
             lambda g, s, p: disease.incidence(g, s, p, by="chapter", grain="month"), ("cases",), (("bucket",),)),
    Analysis("incidence_weekly", "Cases by ICD-10 chapter and ISO week",
             lambda g, s, p: disease.incidence(g, s, p, by="chapter", grain="week"), ("cases",), (("bucket",),)),
    Analysis("age_sex_rates", "Age- and sex-specific rates per 100,000 (all diagnoses)",
             disease.age_sex_rates, ("cases", "population"), (("sex",), ("age_band",))),
    Analysis("age_standardised", "Crude and age-standardised rate per 100,000 (WHO standard)",
             disease.age_standardised_rate, ("cases", "population"), ()),
    Analysis("dengue_seasonality", "Dengue cases by month and year, with the seasonal index",
             disease.seasonality, ("cases",), (("year",),)),
    Analysis("comorbidity", "Comorbidity network: ICD-10 categories joined by lift, with communities and centrality",
             disease.comorbidity_edges, ("both",), ()),
    Analysis("tuberculosis_households", "Tuberculosis: households with two or more cases, secondary cases",
             disease.household_clusters,
             ("cases", "households_with_cases", "households_2plus", "secondary_cases"), ((),)),
    Analysis("age_pyramid", "Persons by age band and sex",
             lambda g, s, p: population.age_pyramid(g, s, _on(p)), ("male", "female"), ((),)),
    Analysis("population_structure", "Persons, sex ratio and dependency ratio per commune",
             lambda g, s, p: population.structure(g, s, _on(p)),
             ("persons", "registry", "male", "female", "young", "old", "working"), (("province",),)),
    Analysis("sex_ratio_at_birth", "Births by sex and sex ratio at birth per commune",
             population.sex_ratio_at_birth, ("male", "female", "births"), (("province",),)),
    Analysis("household_sizes", "Households by number of members per commune",
             lambda g, s, p: population.household_sizes(g, s), ("households",), (("commune",),)),
    Analysis("moves", "Moves between communes seen through address changes",
             population.moves, ("moves",), ((),)),
    Analysis("chronic_households", "Households with two or more members under chronic disease management",
             lambda g, s, p: households.chronic_households(g, s), ("households_with_chronic", "households_2plus"),
             ((),)),
    Analysis("under5_incomplete", "Children under 5 with incomplete immunization, and their households",
             lambda g, s, p: households.under5_incomplete(g, s, _on(p)), ("children", "incomplete", "households"),
             ((),)),
    Analysis("smokers_respiratory", "Households with a smoker and a member with chronic respiratory disease",
             lambda g, s, p: households.smokers_with_respiratory(g, s),
             ("households_with_respiratory", "households_with_smoker"), ((),)),
    Analysis("immunization_coverage", "Coverage per antigen and dose, fully immunized under 1, drop-out",
             immunization.coverage, ("numerator", "denominator"), (("indicator",),)),
    Analysis("ncd_management", "Hypertension and diabetes detected and under management",
             lambda g, s, p: households.ncd_management(g, s), ("detected", "managed"), (("group",),)),
]}


def run_analysis(graph: GraphReader, name: str, scope: Scope, period: Period, aggregate_only: bool = True
                 ) -> pd.DataFrame:
    """Run a catalogued analysis; for aggregate-only readers, small cells are withheld (see privacy). The
    analyses cover communes, districts, provinces and the nation; a facility has the statistical report."""
    if scope.level is Level.FACILITY:
        raise ScopeError(f"the analysis {name} covers a commune, district, province or the nation, not a "
                         "facility: a facility has the statistical report (`statistics`)")
    analysis = CATALOGUE[name]
    frame = analysis.run(graph, scope, period)
    if aggregate_only:
        check_no_identifiers(frame)
        if analysis.counts:
            frame = suppress(frame, analysis.counts, analysis.margins)
            if "rate_per_100k" in frame:
                frame["rate_per_100k"] = frame["rate_per_100k"].mask(frame["cases"].isna())
            if "percent" in frame:
                frame["percent"] = frame["percent"].mask(frame["numerator"].isna() | frame["denominator"].isna())
    return frame


# --- the statistical report -------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    multiplier: int
    name_vi: str = ""
    unit_vi: str = ""  # the unit of its value, as the form writes it
    count: bool = False  # a count: its value is the numerator, it has no denominator


# Indicators of Circular 20/2019/TT-BYT that linked records can compute; HTN_DET and DM_DET are shares
# of the registered population (the form's "tỷ lệ"), not rates per 100,000.
INDICATORS = [
    Indicator("POP", "Population (registry)", 1, "Dân số (theo cơ sở dữ liệu dân cư)", "người", count=True),
    Indicator("BIRTHS", "Live births in the period", 1, "Số trẻ đẻ ra sống trong kỳ", "trẻ", count=True),
    Indicator("CBR", "Crude birth rate per 1,000 population", 1_000, "Tỷ suất sinh thô", "‰"),
    Indicator("SRB", "Sex ratio at birth (boys per 100 girls)", 100, "Tỷ số giới tính khi sinh",
              "trai/100 gái"),
    Indicator("FIC", "Children under 1 fully immunized (%)", 100,
              "Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ", "%"),
    Indicator("DTP3", "5-in-1 (DPT-VGB-HIB) dose 3 by age 1 (%)", 100,
              "Tỷ lệ trẻ dưới 1 tuổi tiêm đủ 3 mũi vắc xin 5 trong 1 (DPT-VGB-Hib)", "%"),
    Indicator("MCV1", "Measles dose 1 by age 1 (%)", 100, "Tỷ lệ trẻ dưới 1 tuổi tiêm mũi 1 vắc xin sởi", "%"),
    Indicator("HTN_DET", "Hypertension detected (% of population)", 100,
              "Tỷ lệ người được phát hiện tăng huyết áp", "%"),
    Indicator("HTN_MAN", "Hypertension under management (% of detected)", 100,
              "Tỷ lệ người tăng huyết áp được quản lý điều trị", "%"),
    Indicator("DM_DET", "Diabetes detected (% of population)", 100, "Tỷ lệ người được phát hiện đái tháo đường",
              "%"),
    Indicator("DM_MAN", "Diabetes under management (% of detected)", 100,
              "Tỷ lệ người đái tháo đường được quản lý điều trị", "%"),
    Indicator("DENGUE", "Dengue incidence per 100,000", 100_000, "Tỷ lệ mắc sốt xuất huyết Dengue",
              "/100.000 dân"),
    Indicator("TB", "Tuberculosis incidence per 100,000", 100_000, "Tỷ lệ mắc lao", "/100.000 dân"),
]


def commune_indicators(graph: GraphReader, scope: Scope, period: Period) -> pd.DataFrame:
    """Numerator and denominator of every indicator for every commune of the scope."""
    on = _on(period)
    people = population.persons(graph, scope)  # read once for both
    pop = population.structure(graph, scope, on, people)[["province", "commune", "registry"]]
    births = population.sex_ratio_at_birth(graph, scope, period, people)
    cover = immunization.coverage(graph, scope, period)
    ncd = households.ncd_management(graph, scope)
    found = disease.cases(graph, scope, period, (*disease.DENGUE, *disease.TUBERCULOSIS))
    parts: list[pd.DataFrame] = []

    def add(code: str, frame: pd.DataFrame, numerator: str, denominator: str | pd.Series) -> None:
        den = frame[denominator] if isinstance(denominator, str) else frame["commune"].map(denominator).fillna(0)
        parts.append(pd.DataFrame({"indicator": code, "province": frame["province"], "commune": frame["commune"],
                                   "numerator": frame[numerator].astype("int64"), "denominator": den.astype("int64")}))

    population_of = pop.dropna(subset=["commune"]).groupby("commune")["registry"].sum()
    add("POP", pop, "registry", "registry")
    add("BIRTHS", births, "births", population_of)
    add("CBR", births, "births", population_of)
    add("SRB", births, "male", "female")
    for code, indicator in (("FIC", "fully immunized under 1"), ("DTP3", "DPT-VGB-HIB dose 3"),
                            ("MCV1", "SOI dose 1")):
        add(code, cover[cover["indicator"] == indicator], "numerator", "denominator")
    for group, det, man in (("hypertension", "HTN_DET", "HTN_MAN"), ("diabetes", "DM_DET", "DM_MAN")):
        part = ncd[ncd["group"] == group]
        add(det, part, "detected", population_of)
        add(man, part, "managed", "detected")
    for code, prefixes in (("DENGUE", disease.DENGUE), ("TB", disease.TUBERCULOSIS)):
        part = found[found["icd10"].str.startswith(prefixes)].drop_duplicates("person_id")
        counted = part.groupby(["province", "commune"]).size().rename("cases").reset_index()
        add(code, counted, "cases", population_of)
    columns = ["indicator", "province", "commune", "numerator", "denominator"]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    # A unit with nobody in it gives empty parts, whose columns pandas types as text: counts stay counts.
    return table.dropna(subset=["commune"]).astype({"numerator": "int64", "denominator": "int64"})


def statistical_report(graph: GraphReader, scope: Scope, period: Period) -> pd.DataFrame:
    """The indicators for the unit and the units directly below it, each with period, unit, numerator,
    denominator and value; facilities report their activity instead."""
    if scope.level is Level.FACILITY:
        return facility_report(graph, scope, period)
    per_commune = commune_indicators(graph, scope, period)
    frames = []
    if scope.level is Level.NATIONAL:
        frames.append(per_commune.assign(level="province", unit=per_commune["province"], parent="VN"))
        frames.append(per_commune.assign(level="national", unit="VN", parent=None))
    elif scope.level is Level.PROVINCE:
        frames.append(per_commune.assign(level="commune", unit=per_commune["commune"], parent=scope.unit))
        frames.append(per_commune.assign(level="province", unit=scope.unit, parent="VN"))
    elif scope.level is Level.DISTRICT:
        frames.append(per_commune.assign(level="commune", unit=per_commune["commune"], parent=scope.unit))
        frames.append(per_commune.assign(level="district", unit=scope.unit, parent=None))
    else:
        frames.append(per_commune.assign(level="commune", unit=per_commune["commune"], parent=scope.province))
    stacked = pd.concat(frames, ignore_index=True)
    table = (stacked.groupby(["indicator", "level", "unit", "parent"], dropna=False)[["numerator", "denominator"]]
             .sum().reset_index())
    meta = {i.code: i for i in INDICATORS}
    table["name"] = table["indicator"].map(lambda c: meta[c].name)
    multiplier = table["indicator"].map(lambda c: meta[c].multiplier).astype("int64")  # typed when empty too
    table["value"] = (table["numerator"] * multiplier / table["denominator"].where(table["denominator"] > 0)).round(1)
    counts = table["indicator"].isin([i.code for i in INDICATORS if i.count])
    table.loc[counts, "value"] = table.loc[counts, "numerator"]
    table["period"] = period.label
    order = {i.code: n for n, i in enumerate(INDICATORS)}
    table["order"] = table["indicator"].map(order)
    table["top"] = table["level"] != "commune"
    table = table.sort_values(["order", "top", "unit"], ascending=[True, False, True])
    return table[["period", "indicator", "name", "level", "unit", "parent", "numerator", "denominator", "value"]
                 ].reset_index(drop=True)


def facility_report(graph: GraphReader, scope: Scope, period: Period) -> pd.DataFrame:
    """Visits and doses given at a facility (or every facility of a province) in the period."""
    start, end = period.iso()
    frame = graph.frame("facility_activity", ["facility", "name", "ownership", "level", "unit", "province",
                                              "encounters", "doses"],
                        start=start, end=end, province=scope.province, facility=scope.facility)
    frame["period"] = period.label
    frame["ownership"] = frame["ownership"].fillna("public")
    return frame


def suppress_report(report: pd.DataFrame) -> pd.DataFrame:
    """The report with small numerators and denominators withheld, so no total reveals a withheld cell."""
    if "numerator" not in report:
        return suppress(report, ["encounters", "doses"], [("ownership",)])
    # A total and the units below it form one family: total = sum of the family's other rows.
    parents = set(report["parent"].dropna())
    report = report.assign(family=report["unit"].where(report["unit"].isin(parents), report["parent"]))
    out = suppress(report, ["numerator", "denominator"], [("indicator", "family")])
    out["value"] = out["value"].mask(out["numerator"].isna() | out["denominator"].isna())
    return out


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def inert(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell a spreadsheet would run as a formula (a facility named `=HYPERLINK(…)`)
    made plain text by a leading apostrophe, as OWASP advises for CSV and XLSX exports."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v)
    return out


def write(frame: pd.DataFrame, fmt: str, title: str = "HoSo report") -> bytes:
    """The table as CSV, XLSX, HTML or JSON bytes (text cells of CSV and XLSX never formulas)."""
    if fmt == "csv":
        return inert(frame).to_csv(index=False).encode("utf-8-sig")
    if fmt == "json":
        return json.dumps({"title": title, "data": json.loads(frame.to_json(orient="records", force_ascii=False))},
                          ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "html":
        body = frame.to_html(index=False, na_rep="–", border=0, classes="report")
        heading = html.escape(title)
        return (f"<!doctype html><html lang='vi'><meta charset='utf-8'><title>{heading}</title>"
                f"<h1>{heading}</h1>{body}</html>").encode()
    if fmt == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            inert(frame).to_excel(writer, index=False, sheet_name="report")
        return buffer.getvalue()
    raise ValueError(f"format {fmt!r} is unknown: use {', '.join(FORMATS)}")
