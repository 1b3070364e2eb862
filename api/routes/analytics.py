"""Analytics: aggregates for the epidemiologist role (no identifiers, small cells withheld), statistical
reports in four formats, and the health station's work lists for clinicians of the unit's province."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from neo4j import Driver
from pydantic import BaseModel

from analytics import (
    CATALOGUE,
    GraphReader,
    Level,
    Period,
    ProjectionError,
    ProjectionReader,
    Scope,
    ScopeError,
    due_list,
    not_seen,
    parse_period,
    reader_for,
    resolve_scope,
    run_analysis,
    statistical_report,
    suppress_report,
    write_statistics,
)
from api.access import audit_disclosures
from api.audit import audit
from api.deps import DriverDep, SettingsDep, require
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings

router = APIRouter(tags=["analytics"])
Unit = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{2,10}$", description="Unit code (none for national).")]
LevelQ = Annotated[Level, Query(description="facility, commune, district (pre-2025), province or national.")]
PeriodQ = Annotated[str, Query(min_length=4, max_length=30, description="2026-Q3, 2026-07, 2026-W14 or 2026.")]
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)  # days a work list can be asked for
MEDIA = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8", "json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


Epidemiologist = Annotated[User, require(Role.EPIDEMIOLOGIST, may_not="use the analytics")]
StationClinician = Annotated[User, require(Role.CLINICIAN, may_not="read patient work lists")]


def _scope(driver: Driver, settings: Settings, level: Level, unit: str | None, period: str) -> tuple[Scope, Period]:
    try:
        return resolve_scope(driver, settings.neo4j_database, level.value, unit), parse_period(period)
    except ScopeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


def _reader(driver: Driver, settings: Settings) -> GraphReader:
    """The analyses read the projection when one has been built (see analytics.projection), else the graph."""
    try:
        return reader_for(driver, settings.neo4j_database, settings.data_path, settings.analytics_source)
    except ProjectionError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


def _as_of(reader: GraphReader) -> str | None:
    """When the data read was taken from the graph: the projection's time, or None for the live graph."""
    return reader.as_of() if isinstance(reader, ProjectionReader) else None


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows as JSON-safe dictionaries (missing and withheld values as null)."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows]


Row = dict[str, Any]


class AnalysisName(BaseModel):
    name: str
    title: str


class AnalysisNames(BaseModel):
    data: list[AnalysisName]
    count: int


class LocatedUnit(BaseModel):
    code: str
    name: str | None
    province: str | None
    lat: float | None
    lon: float | None


class Units(BaseModel):
    data: list[LocatedUnit]
    count: int


class AnalysisResult(BaseModel):
    """An analysis's table for one unit and period; `as_of` is when the analytics projection was built
    (none when the live graph was read)."""

    name: str
    title: str
    period: str
    level: Level
    unit: str | None
    unit_name: str | None
    as_of: str | None
    data: list[Row]
    count: int


class WorkList(BaseModel):
    """A health station's list of patients (names included: clinicians of the province only)."""

    commune: str
    days: int | None = None
    data: list[Row]
    count: int


@router.get("/analytics", operation_id="list_analyses", response_model=AnalysisNames, responses={403: {}})
def list_analyses(request: Request, user: Epidemiologist, settings: SettingsDep) -> dict[str, Any]:
    """The analyses available, by name."""
    items = [{"name": a.name, "title": a.title} for a in CATALOGUE.values()]
    return {"data": items, "count": len(items)}


@router.get("/analytics/units", operation_id="list_units", response_model=Units, responses={403: {}})
def units(request: Request, user: Epidemiologist, driver: DriverDep, settings: SettingsDep,
          level: Annotated[Literal["province", "commune"], Query()] = "province",
          province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None) -> dict[str, Any]:
    """Post-2025 provinces or communes with their coordinates, for maps."""
    frame = GraphReader(driver, settings.neo4j_database).frame("units_located", ["code", "name", "province", "lat",
                                                                                  "lon"], level=level,
                                                               province=province)
    return {"data": _records(frame), "count": len(frame)}


@router.get("/analytics/{name}", operation_id="run_analysis", response_model=AnalysisResult,
            responses={400: {}, 403: {}, 404: {}, 503: {}})
def analysis(request: Request, user: Epidemiologist, driver: DriverDep, settings: SettingsDep, name: str,
             period: PeriodQ, level: LevelQ = Level.NATIONAL, unit: Unit = None) -> dict[str, Any]:
    """One analysis for a unit and period: aggregates only, cells under 5 persons withheld."""
    if name not in CATALOGUE:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no analysis {name!r}: see GET /analytics", name=name)
    scope, span = _scope(driver, settings, level, unit, period)
    reader = _reader(driver, settings)
    try:
        frame = run_analysis(reader, name, scope, span)
    except ScopeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    audit(request, settings, user, 200)
    return {"name": name, "title": CATALOGUE[name].title, "period": span.label, "level": level.value,
            "unit": unit, "unit_name": scope.name, "as_of": _as_of(reader), "data": _records(frame),
            "count": len(frame)}


@router.get("/reports/statistics", operation_id="statistical_report", response_class=Response,
            responses={200: {"description": "The statistical report as a file",
                             "content": {media.split(";")[0]: {} for media in MEDIA.values()}},
                       400: {}, 403: {}, 503: {}})
def report(request: Request, user: Epidemiologist, driver: DriverDep, settings: SettingsDep, period: PeriodQ,
           level: LevelQ = Level.NATIONAL, unit: Unit = None,
           format: Annotated[Literal["csv", "xlsx", "html", "json"], Query()] = "json") -> Response:
    """The statistical report (indicators with numerator, denominator and value) for the unit and the
    units below it, with small cells withheld, as CSV, XLSX, HTML or JSON."""
    scope, span = _scope(driver, settings, level, unit, period)
    reader = _reader(driver, settings)
    frame = suppress_report(statistical_report(reader, scope, span))
    audit(request, settings, user, 200)
    filename = f"hoso-{level.value}-{unit or 'VN'}-{span.label}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    as_of = _as_of(reader)
    if as_of:
        headers["X-Data-As-Of"] = as_of
    return Response(write_statistics(frame, format, scope, span, as_of), media_type=MEDIA[format], headers=headers)


def _station(request: Request, driver: Driver, settings: Settings, user: User, commune: str) -> Scope:
    """Work lists name patients: clinicians of the commune's province only. They read the live graph, not
    the analytics projection, so a child vaccinated today leaves the list today."""
    try:
        scope = resolve_scope(driver, settings.neo4j_database, "commune", commune)
    except ScopeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    if scope.province != user.province:
        audit(request, settings, user, 403)
        raise Refusal(status.HTTP_403_FORBIDDEN, "this commune is outside your province")
    return scope


@router.get("/stations/{commune}/immunization-due", operation_id="immunization_due", response_model=WorkList,
            responses={400: {}, 403: {}})
def immunization_due(request: Request, user: StationClinician, driver: DriverDep, settings: SettingsDep,
                     commune: Annotated[str, PathParam(pattern=r"^\d{5}$")],
                     on: Annotated[date | None, Query(ge=EARLIEST, le=LATEST,
                                                      description="Day of the list (today by default).")] = None
                     ) -> dict[str, Any]:
    """Children of the commune with a dose due or overdue, for the health station."""
    scope = _station(request, driver, settings, user, commune)
    frame = due_list(GraphReader(driver, settings.neo4j_database), scope, on or date.today())
    audit_disclosures(request, settings, user, frame["person_id"].tolist() if len(frame) else [])
    return {"commune": commune, "data": _records(frame), "count": len(frame)}


@router.get("/stations/{commune}/ncd-not-seen", operation_id="ncd_not_seen", response_model=WorkList,
            responses={400: {}, 403: {}})
def ncd_not_seen(request: Request, user: StationClinician, driver: DriverDep, settings: SettingsDep,
                 commune: Annotated[str, PathParam(pattern=r"^\d{5}$")],
                 days: Annotated[int, Query(ge=1, le=3650)] = 90,
                 on: Annotated[date | None, Query(ge=EARLIEST, le=LATEST)] = None) -> dict[str, Any]:
    """Hypertension and diabetes patients under management not seen for `days` days, for follow-up."""
    scope = _station(request, driver, settings, user, commune)
    frame = not_seen(GraphReader(driver, settings.neo4j_database), scope, on or date.today(), days)
    audit_disclosures(request, settings, user, frame["person_id"].tolist() if len(frame) else [])
    return {"commune": commune, "days": days, "data": _records(frame), "count": len(frame)}
