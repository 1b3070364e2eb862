"""HoSo's analytics: analyses over the graph (or its DuckDB projection) returned as pandas DataFrames,
statistical reports, and small-cell suppression.

Public surface:
- `GraphReader`, `ProjectionReader`, `reader_for`: where analyses read from;
- `refresh_projection`, `remove_projection`, `projection_info`: the analytics projection's life cycle;
- `CATALOGUE`, `run_analysis`, `statistical_report`, `suppress_report`, `write_report`, `FORMATS`: reports;
  `write_statistics`: the statistical report as a statistics officer files it;
- `Level`, `Period`, `Scope`, `parse_period`, `resolve_scope`: what a report covers;
- `due_list`, `next_doses`, `not_seen`: the work lists of health stations.
The analysis modules (`population`, `disease`, `households`, `immunization`) are for the notebooks.
"""

from analytics.base import GraphReader
from analytics.filed import write_statistics
from analytics.households import not_seen
from analytics.immunization import due_list, next_doses
from analytics.privacy import MIN_CELL, suppress
from analytics.projection import ProjectionError, ProjectionInfo, ProjectionReader, reader_for
from analytics.projection import read_info as projection_info
from analytics.projection import refresh as refresh_projection
from analytics.projection import remove as remove_projection
from analytics.reports import CATALOGUE, FORMATS, ReportFormat, run_analysis, statistical_report, suppress_report
from analytics.reports import write as write_report
from analytics.scope import Level, Period, Scope, ScopeError, parse_period, resolve_scope

__all__ = [
    "CATALOGUE",
    "FORMATS",
    "MIN_CELL",
    "GraphReader",
    "Level",
    "Period",
    "ProjectionError",
    "ProjectionInfo",
    "ProjectionReader",
    "ReportFormat",
    "Scope",
    "ScopeError",
    "due_list",
    "next_doses",
    "not_seen",
    "parse_period",
    "projection_info",
    "reader_for",
    "refresh_projection",
    "remove_projection",
    "resolve_scope",
    "run_analysis",
    "statistical_report",
    "suppress",
    "suppress_report",
    "write_report",
    "write_statistics",
]
