"""The `hoso` command line.

    hoso neo4j start | stop | status     the project's own Neo4j server
    hoso migrate                         apply the schema migrations
    hoso reset --yes                     empty the graph and the data directory
    hoso serve                           run the API
    hoso demo                            start everything and show where it is
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError
from pydantic import ValidationError

from analytics import (
    CATALOGUE,
    Level,
    ProjectionError,
    ReportFormat,
    ScopeError,
    parse_period,
    projection_info,
    reader_for,
    refresh_projection,
    resolve_scope,
    run_analysis,
    statistical_report,
    suppress_report,
    write_report,
    write_statistics,
)
from api.backup import BackupError, backup, restore
from api.runtime import driver_for, managed_server, neo4j_target, private_files
from api.security import AuthError, Role, add_user
from api.services import run_linking
from api.settings import Settings, get_settings
from graph import (
    WARM_UP_SAMPLE,
    GraphError,
    GraphLinkStore,
    ImportRefused,
    ManagedNeo4j,
    Neo4jNotRunning,
    apply_migrations,
    default_registry,
    person_profile,
    ping,
    review_events,
    warm_up,
    warm_up_if_possible,
    wipe_graph,
)
from linkage import (
    SOURCES,
    UPLOADABLE,
    Engine,
    LinkageError,
    SourceKind,
    evaluate_linkage,
    ingest,
    list_batches,
    match_weights_chart,
    peak_memory_gb,
    read_truth,
    restore_batch,
    review_label_scores,
    set_aside,
    similarity_jar_location,
    spark_session,
    synthetic_inputs,
    train_model,
)
from linkage.synth import Profile, SynthConfig, generate

log = logging.getLogger("hoso")

app = typer.Typer(no_args_is_help=True, add_completion=False, help="HoSo: the national personal health record core.")
neo4j_app = typer.Typer(no_args_is_help=True, help="The Neo4j server HoSo runs itself (when NEO4J_URI is not set).")
app.add_typer(neo4j_app, name="neo4j")

class CliError(Exception):
    """A command could not do what was asked; the message says why and what to do."""


HANDLED_ERRORS: tuple[type[Exception], ...] = (CliError, GraphError, LinkageError, BackupError, ImportRefused)


class LogLevel(StrEnum):
    """uvicorn's log levels."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"


def _settings() -> Settings:
    return get_settings()


def _ensure_neo4j(settings: Settings) -> bool:
    """With NEO4J_URI unset, HoSo's own Neo4j is started when it is not running (and the command says so);
    True when it was started now."""
    if not settings.managed_neo4j:
        return False
    try:
        neo4j_target(settings)
    except Neo4jNotRunning:
        typer.echo("Neo4j is not running: starting HoSo's own (`hoso neo4j stop` stops it)", err=True)
        state = managed_server(settings).start()
        typer.echo(f"Neo4j {state.version} is up at {state.uri}", err=True)
        return True
    return False


@contextmanager
def _driver(settings: Settings | None = None) -> Iterator[tuple[Driver, str]]:
    """A driver and the database name, closed on exit, after `_ensure_neo4j`."""
    settings = settings or _settings()
    _ensure_neo4j(settings)
    with driver_for(settings) as pair:
        yield pair


@neo4j_app.command("start")
def neo4j_start(
    no_warm_up: Annotated[bool, typer.Option("--no-warm-up", help="Do not warm a server started now up.")] = False,
) -> None:
    """Fetch (first time only) and start the managed Neo4j; wait until it answers, then warm it up on
    the work of a link (`hoso neo4j warm-up`), so that the first batch costs what the next ones do."""
    settings = _settings()
    if not settings.managed_neo4j:
        raise CliError(f"NEO4J_URI is set ({settings.neo4j_uri}): HoSo does not manage that server")
    began = time.monotonic()
    server = managed_server(settings)
    was_running = server.status().process_alive
    state = server.start()
    typer.echo(f"Neo4j {state.version} is up at {state.uri} (pid {state.pid}) after {time.monotonic() - began:.1f} s")
    if not (no_warm_up or was_running):
        for line in _warm_after_start(settings, server):
            typer.echo(line)


def _warm_after_start(settings: Settings, server: ManagedNeo4j) -> list[str]:
    """After a start HoSo made: its store read into the system's file cache (when it fits) while the
    server is warmed up on a link's work; what each did, in words."""
    said = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(server.read_ahead, settings.neo4j_database)
        with driver_for(settings) as (driver, database):
            if done := warm_up_if_possible(driver, database):
                said.append(done.summary())
        try:
            if read := ahead.result():
                said.append(f"read the store ({read[0] / 1e9:.1f} GB) into the system's file cache in {read[1]:.1f} s")
        except OSError as exc:  # only the first queries are slower for it
            log.warning("the store was not read ahead: %s", exc)
    return said


@neo4j_app.command("warm-up")
def neo4j_warm_up(
    records: Annotated[int, typer.Option("--records", min=0, help="Linked records to warm up on.")] = WARM_UP_SAMPLE,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Warm a server up after it started (HoSo's own, or the one NEO4J_URI names): a link's reads and
    writes on a sample of linked records, every write rolled back, so that the first batch after a
    restart costs what the next ones do. The graph is left as it was."""
    try:
        with _driver() as (driver, database):
            done = warm_up(driver, database, sample=records)
    except (Neo4jError, DriverError) as exc:
        raise CliError(f"the warm-up stopped: {exc}") from None
    if as_json:
        typer.echo(json.dumps({"records": done.records, "rounds": done.rounds, "seconds": round(done.seconds, 2),
                               "queries": {k: round(v, 3) for k, v in done.queries.items()}}))
    else:
        typer.echo(done.summary())


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Shut the managed Neo4j down cleanly."""
    settings = _settings()
    if managed_server(settings).stop():
        typer.echo("Neo4j stopped")
    else:
        typer.echo("Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Print the Bolt URI and whether the server answers; exit 1 when it does not."""
    settings = _settings()
    if settings.managed_neo4j:
        status = managed_server(settings).status()
        info = {
            "managed": True,
            "uri": status.uri,
            "pid": status.pid,
            "running": status.process_alive,
            "answering": status.answering,
            "version": status.version,
            "home": str(settings.neo4j_home),
        }
    else:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        answering = ping(str(settings.neo4j_uri), settings.neo4j_user, password)
        info = {"managed": False, "uri": settings.neo4j_uri, "answering": answering}
    if as_json:
        typer.echo(json.dumps(info))
    else:
        state = "answering" if info["answering"] else "not answering"
        typer.echo(f"Neo4j at {info['uri'] or '(never started)'}: {state}")
    if not info["answering"]:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Apply the schema migrations that the graph has not recorded yet."""
    with _driver() as (driver, database):
        done = apply_migrations(driver, database)
    typer.echo(f"applied {len(done)} migration(s)" + (f": {', '.join(done)}" if done else ", schema up to date"))


@app.command()
def reset(yes: Annotated[bool, typer.Option("--yes", help="Confirm: this deletes everything.")] = False) -> None:
    """Empty the graph and the data directory (the managed server's own files stay)."""
    if not yes:
        raise CliError("reset deletes the whole graph and every ingested batch: run `hoso reset --yes` to confirm")
    settings = _settings()
    with _driver(settings) as (driver, database):
        nodes = wipe_graph(driver, database)
    removed = 0
    data = settings.data_path
    if data.exists():
        for child in data.iterdir():
            if child.resolve() == settings.neo4j_home:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
            removed += 1
    typer.echo(f"deleted {nodes} node(s) and {removed} item(s) of {data}")


@app.command("ingest")
def ingest_command(
    kind: Annotated[SourceKind, typer.Argument(help="Source kind (a citizen's report comes through the portal).")],
    paths: Annotated[list[Path], typer.Argument(help="Input files.")],
    mapping: Annotated[Path | None, typer.Option(help="Column mapping (TOML) for kind csv.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
) -> None:
    """Validate files of one source kind and store them as an immutable batch, ready for linking."""
    if not SOURCES[kind].uploadable:
        raise CliError(f"a {kind.value} record cannot be ingested from a file: use one of {', '.join(UPLOADABLE)}")
    summary = ingest(kind, paths, _settings().data_path, mapping=mapping)
    if as_json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    note = " (already ingested: nothing new)" if summary.already_ingested else ""
    dropped = f", values dropped {summary.values_dropped} (in the quarantine)" if summary.values_dropped else ""
    dropped += f", warnings {summary.warnings} (in the quarantine)" if summary.warnings else ""
    typer.echo(f"batch {summary.batch_id}{note}: read {summary.read}, accepted {summary.accepted}, "
               f"quarantined {summary.quarantined}{dropped}")
    for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
        typer.echo(f"  quarantined {count}: {reason}")


@app.command()
def synth(
    persons: Annotated[int, typer.Option(min=1, help="How many persons.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same files.")] = 1,
    profile: Annotated[Profile, typer.Option(help="Error profile.")] = Profile.REALISTIC,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("synth"),
) -> None:
    """Write a synthetic population in all six source formats, with truth.csv and expected.json."""

    began = time.monotonic()
    summary = generate(SynthConfig(persons=persons, seed=seed, profile=profile), out)
    typer.echo(f"{summary['persons']} persons written to {out} in {time.monotonic() - began:.1f} s")
    for source, counts in summary["sources"].items():
        typer.echo(f"  {source}: {counts['records']} records, {counts['quarantined']} invalid on purpose")


@app.command("train")
def train_command(
    chart: Annotated[Path | None, typer.Option(help="Also write the match-weight chart to this HTML file.")] = None,
    with_reviews: Annotated[bool, typer.Option("--with-reviews", help="Also learn from the records reviewers "
                                                                      "put in one person (reads the graph).")]
    = False,
) -> None:
    """Train a new model version on every ingested batch (linking then uses it; `hoso relink` applies it
    to the persons already formed)."""

    settings = _settings()
    labelled: list[tuple[str, str]] | None = None
    if with_reviews:
        with _driver(settings) as (driver, database):
            labelled = GraphLinkStore(driver, database).reviewed_match_pairs()
        typer.echo(f"{len(labelled)} pair(s) of records reviewers put in one person")
    model = train_model(settings.data_path, memory_limit=settings.duckdb_memory_limit, labelled_matches=labelled)
    typer.echo(f"model {model.version} written to {model.path}"
               + (f" (learnt from {model.meta['reviewed_pairs']} reviewed pairs too)"
                  if model.meta.get("reviewed_pairs") else ""))
    if chart is not None:
        match_weights_chart(model, chart)
        typer.echo(f"match-weight chart written to {chart}")


def _run_link(kind: Literal["link", "relink"], engine: Engine, spark_master: str | None, as_json: bool,
              import_files: Path | None = None) -> None:
    settings = _settings()
    spark = _spark_session(spark_master) if engine is Engine.SPARK else None
    began = time.monotonic()

    def progress(step: str) -> None:  # on stderr, so that --json keeps stdout to its one line
        typer.echo(f"[{time.monotonic() - began:7.1f} s] {step}", err=True)

    with _driver(settings) as (driver, database):
        out = run_linking(settings, driver, database, kind, spark, progress=progress, import_files=import_files)
    out["engine"] = {"name": engine.value} | ({"master": spark.sparkContext.master} if spark is not None else {})
    out["peak_memory_gb"] = peak_memory_gb()
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    if "command" in out:
        typer.echo(f"import files of {out['records_new']:,} record(s) written to {out['import_files']}: "
                   f"{out['imported']['nodes']:,} nodes and {out['imported']['relationships']:,} relationships")
        typer.echo("  with the database stopped, import them (this replaces the database):")
        typer.echo(f"    {out['command']}")
        typer.echo("  then start it and run `hoso link`: it builds the schema"
                   + (f" and loads the facts of {len(out['facts_later'])} batch(es) left for it"
                      if out["facts_later"] else "") + ".")
        return
    facts = sum(out["facts"].values())
    typer.echo(f"{kind}: {out['records_new']:,} new record(s) of {len(out['batches'])} batch(es), model "
               f"{out['model_version']}, {out['seconds']['total']:.1f} s in all")
    typer.echo(f"  persons {out['persons']:,}, review items {out['review_items']:,}, facts loaded {facts:,}, "
               f"golden records refreshed {out['persons_refreshed']:,}")
    if out.get("retrained"):
        typer.echo(f"  the model was retrained first: {out['retrained']}")
    for batch_id, reason in out["set_aside"].items():
        typer.echo(f"  set aside: {batch_id}: {reason}")
    steps = ", ".join(f"{k} {v:.1f}" for k, v in out["seconds"].items() if k != "total")
    typer.echo(f"  seconds: {steps}")
    memory = out["peak_memory_gb"]
    typer.echo(f"  engine {engine.value}" + (f" ({out['engine']['master']})" if spark is not None else "")
               + f", peak memory {memory['hoso']} GB"
               + (f" (and {memory['spark_jvm']} GB in Spark's driver JVM)" if "spark_jvm" in memory else ""))


def _spark_session(master: str | None) -> Any:
    return spark_session(master, checkpoint_dir=str(_settings().data_path / "spark-checkpoints"))


@app.command("link")
def link_command(
    engine: Annotated[Engine, typer.Option(help="Where Splink runs.")] = Engine.DUCKDB,
    master: Annotated[str | None, typer.Option(
        help="Spark master URL for --engine spark; default: spark-submit's master, else local[2].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    import_files: Annotated[Path | None, typer.Option(
        help="A first link into an empty graph of a server HoSo does not run: write the graph as "
             "`neo4j-admin database import` files into this new folder and print the command, leaving the "
             "graph alone.")] = None,
) -> None:
    """Link every ingested batch not yet linked against the existing persons, saying each step as it
    begins; then what it did (or, with --json, one JSON object)."""
    _run_link("link", engine, master, as_json, import_files)


@app.command("relink")
def relink_command(
    engine: Annotated[Engine, typer.Option(help="Where Splink runs.")] = Engine.DUCKDB,
    master: Annotated[str | None, typer.Option(
        help="Spark master URL for --engine spark; default: spark-submit's master, else local[2].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rebuild all persons from all batches with the current model, keeping reviewers' decisions and ids."""
    _run_link("relink", engine, master, as_json)


@app.command("spark-app")
def spark_app_command() -> None:
    """Print what spark-submit needs to run HoSo as a Spark application (Splink's jar, then HoSo's
    application file): `spark-submit --master URL $(hoso spark-app) link --engine spark`."""
    typer.echo(f"--jars {similarity_jar_location()} {Path(__file__).with_name('spark_app.py')}")


@app.command("backup")
def backup_command(dest: Annotated[Path, typer.Argument(help="A new (or empty) directory.")]) -> None:
    """Back up the graph (neo4j-admin dump; the server is stopped meanwhile), batches, models, jobs and
    the reviewers' decisions, with a manifest of checksums."""

    manifest = backup(_settings(), dest)
    typer.echo(f"backup written to {dest}: {len(manifest['files'])} file(s), "
               f"{sum(v for k, v in manifest['fingerprint'].items() if k.startswith('label:'))} node label(s), "
               f"{manifest['decisions']['events']} decision event(s)")


@app.command("restore")
def restore_command(source: Annotated[Path, typer.Argument(help="A directory written by `hoso backup`.")],
                    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the graph is replaced.")] = False,
                    ) -> None:
    """Replace the graph, batches, models and jobs with a backup (checked against its manifest)."""

    if not yes:
        raise CliError("restore replaces the whole graph and the data folders: run `hoso restore DIR --yes`")
    manifest = restore(_settings(), source)
    typer.echo(f"restored the backup of {manifest['created_at']}; the graph matches its fingerprint")


@app.command("bench", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench_command(ctx: typer.Context) -> None:
    """Run every benchmark on one synthetic population and print one table (`--persons N`, default 100,000;
    `--no-reference` skips bare Splink). Same as `make bench`."""

    code = subprocess.call([sys.executable, "-m", "bench", *ctx.args])
    if code:
        raise typer.Exit(code)


@app.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help="`statistics` (the indicator report) or an analysis; "
                                            "`hoso report list` names them.")],
    level: Annotated[Level, typer.Option(help="The unit's level (district: pre-2025 units).")] = Level.NATIONAL,
    unit: Annotated[str | None, typer.Option(help="Unit code (none for national).")] = None,
    period: Annotated[str, typer.Option(help="2026-Q3, 2026-07, 2026-W14, 2026 or 2026-01-01..2026-04-01.")] = "",
    fmt: Annotated[ReportFormat, typer.Option("--format", help="The file format.")] = ReportFormat.CSV,
    out: Annotated[Path | None, typer.Option(help="Output file (standard output when not given).")] = None,
    identified: Annotated[bool, typer.Option("--no-suppression", help="Keep cells under 5 (staff use only; "
                                                                     "never for publication).")] = False,
) -> None:
    """Write an analysis or the statistical report for a unit and period."""

    if name == "list":
        typer.echo("statistics: the statistical report (indicators, commune to nation)")
        for analysis in CATALOGUE.values():
            typer.echo(f"{analysis.name}: {analysis.title}")
        return
    if name != "statistics" and name not in CATALOGUE:
        raise CliError(f"no report {name!r}: run `hoso report list`")
    if not period:
        raise CliError("--period is required (for example 2026-Q3)")
    settings = _settings()
    with _driver(settings) as (driver, database):
        try:
            scope, span = resolve_scope(driver, database, level, unit), parse_period(period)
        except ScopeError as exc:
            raise CliError(str(exc)) from exc
        try:
            graph = reader_for(driver, database, settings.data_path, settings.analytics_source)
        except ProjectionError as exc:
            raise CliError(str(exc)) from exc
        if name == "statistics":
            frame = statistical_report(graph, scope, span)
            frame = frame if identified else suppress_report(frame)
        else:
            try:
                frame = run_analysis(graph, name, scope, span, aggregate_only=not identified)
            except ScopeError as exc:
                raise CliError(str(exc)) from exc
    if name == "statistics":
        data = write_statistics(frame, fmt, scope, span)
    else:
        data = write_report(frame, fmt, f"HoSo {name} {level} {scope.name or ''} {span.label}")
    if out is None:
        if fmt == "xlsx":
            raise CliError("xlsx is binary: give --out FILE")
        typer.echo(data.decode("utf-8-sig"))
    else:
        out.write_bytes(data)
        typer.echo(f"{len(frame)} row(s) written to {out}")


analytics_app = typer.Typer(no_args_is_help=True, help="The analytics projection the analyses read.")
app.add_typer(analytics_app, name="analytics")


@analytics_app.command("refresh")
def analytics_refresh_command(
    full: Annotated[bool, typer.Option("--full", help="Read the whole graph again rather than what changed")] = False,
) -> None:
    """Bring the analytics projection up to date with the graph now: the persons changed since it was
    taken (link runs do it themselves; reviewers' decisions wait for this or the next run), or with
    --full the whole graph."""

    settings = _settings()
    with _driver(settings) as (driver, database):
        try:
            info = refresh_projection(driver, database, settings.data_path, full=full)
        except ProjectionError as exc:
            raise CliError(str(exc)) from exc
    typer.echo(json.dumps({"path": str(info.path), "as_of": info.as_of, "mode": info.mode,
                           "persons_read": info.persons_read, "seconds": info.seconds, "rows": info.rows,
                           "table_seconds": info.table_seconds}))


@analytics_app.command("status")
def analytics_status_command() -> None:
    """When the analytics projection was taken from the graph and what it holds."""

    info = projection_info(_settings().data_path)
    if info is None:
        raise CliError("no analytics projection yet: run `hoso analytics refresh` (or `hoso link`)")
    typer.echo(json.dumps({"path": str(info.path), "as_of": info.as_of, "mode": info.mode, "seconds": info.seconds,
                           "rows": info.rows}))


@app.command("evaluate")
def evaluate_command(
    truth: Annotated[Path | None, typer.Option(help="CSV with columns source,record_id,person_id.")] = None,
    reviews: Annotated[bool, typer.Option("--reviews", help="Also score the model against reviewers' "
                                                            "decisions.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compare the persons in the graph with a truth file (precision, recall, F1, blocking recall)
    and/or with reviewers' decisions."""

    settings = _settings()
    if truth is None and not reviews:
        raise CliError("give --truth FILE, --reviews, or both")
    if truth is not None and not truth.is_file():
        raise CliError(f"{truth}: no such truth file")
    result: dict[str, Any] = {}
    truth_of = read_truth(truth) if truth is not None else None  # a file that is no truth fails before Neo4j
    with _driver(settings) as (driver, database):
        store = GraphLinkStore(driver, database)
        if truth_of is not None:
            result |= evaluate_linkage(settings.data_path, store.assignments(), truth_of, store.scored_links())
        if reviews:
            result |= review_label_scores(review_events(driver, database))
        counts = store.counts()
    result |= {"review_items": counts["possible_matches"] + counts["possible_duplicates"],
               "persons": counts["persons"]}
    if as_json:
        typer.echo(json.dumps(result))
        return
    bands = result.pop("calibration", [])
    decided = result.pop("review_calibration", [])
    for key, value in result.items():
        typer.echo(f"{key:>26}: {value:.4f}" if isinstance(value, float) else f"{key:>26}: {value}")
    _print_bands("calibration (automatic links by the model's probability):", bands, "links", "true_share")
    _print_bands("reviewers' decisions on automatic links, by the model's probability:", decided, "decisions",
                 "match_share")


def _print_bands(title: str, bands: list[dict[str, Any]], count: str, share: str) -> None:
    """A table of probability bands: how many in each, the share that were matches, the mean probability."""
    if not bands:
        return
    typer.echo(title)
    typer.echo(f"  probability  {count:>9}  {share.replace('_', ' '):>11}  mean probability")
    for band in bands:
        typer.echo(f"  {band['from']:.1f}–{band['to']:.1f}      {band[count]:>9}  {band[share]:>11.3f}  "
                   f"{band['mean_probability']:>16.3f}")


batch_app = typer.Typer(no_args_is_help=True, help="Ingested batches: list, show, set aside, restore.")
app.add_typer(batch_app, name="batch")


@batch_app.command("list")
def batch_list(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Every ingested batch, oldest first, with its counts and whether it is set aside (and why)."""
    batches = list_batches(_settings().data_path)
    if as_json:
        typer.echo(json.dumps({"data": batches, "count": len(batches)}, ensure_ascii=False))
        return
    for batch in batches:
        summary, note = batch["summary"], batch["set_aside"]
        state = f"set aside: {note['reason']}" if note else "linkable"
        typer.echo(f"{batch['batch_id']}  {summary['created_at']}  accepted {summary['accepted']:>7}, "
                   f"quarantined {summary['quarantined']:>6}  {state}")
    if not batches:
        typer.echo("no batch yet: `hoso ingest KIND FILE...` makes one")


@batch_app.command("show")
def batch_show(batch_id: Annotated[str, typer.Argument(help="A batch id from `hoso batch list`.")]) -> None:
    """One batch: its files, counts, quarantine reasons and, when set aside, why."""
    batch = next((b for b in list_batches(_settings().data_path) if b["batch_id"] == batch_id), None)
    if batch is None:
        raise CliError(f"no batch {batch_id!r}: `hoso batch list` names them")
    typer.echo(json.dumps(batch, ensure_ascii=False, indent=1))


@batch_app.command("set-aside")
def batch_set_aside(batch_id: Annotated[str, typer.Argument(help="A batch id from `hoso batch list`.")],
                    reason: Annotated[str, typer.Option(help="Why, for whoever restores it.")]) -> None:
    """Keep a batch out of linking and fact loading (its files stay) until `hoso batch restore`."""
    set_aside(_settings().data_path, batch_id, reason, by="hoso batch set-aside")
    typer.echo(f"batch {batch_id} set aside; `hoso batch restore {batch_id}` takes it back")


@batch_app.command("restore")
def batch_restore(batch_id: Annotated[str, typer.Argument(help="A batch id from `hoso batch list`.")]) -> None:
    """Take a set-aside batch back: the next `hoso link` links it and loads its facts."""
    restore_batch(_settings().data_path, batch_id)
    typer.echo(f"batch {batch_id} restored: run `hoso link`")


user_app = typer.Typer(no_args_is_help=True, help="API accounts.")
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Account name.")],
    role: Annotated[Role, typer.Option(help="The account's role.")],
    facility: Annotated[str | None, typer.Option(help="Staff: the facility code.")] = None,
    province: Annotated[str | None, typer.Option(help="Staff: the post-2025 province code.")] = None,
    person_id: Annotated[str | None, typer.Option(help="Citizen: their person id.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard "
                                                                           "input.")] = False,
) -> None:
    """Create or update an account (the password is asked for, or read from standard input)."""

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    with _driver() as (driver, database):
        apply_migrations(driver, database)
        try:
            add_user(driver, username, password, role, facility, province, person_id, database)
        except AuthError as exc:
            raise CliError(str(exc)) from exc
    typer.echo(f"account {username} ({role}) saved")



def _account_change(query: str, username: str, done: str) -> None:
    with _driver() as (driver, database):
        if not default_registry().write(driver, query, database=database, username=username):
            raise CliError(f"no account {username!r}: `hoso user list` names them")
    typer.echo(f"account {username} {done}")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Every account with its role, province and whether it is active (never a password hash)."""
    with _driver() as (driver, database):
        rows = [r.data() for r in default_registry().read(driver, "users/list_users", database=database)]
    if as_json:
        typer.echo(json.dumps({"data": rows, "count": len(rows)}, ensure_ascii=False))
        return
    for row in rows:
        state = "active" if row["active"] else "deactivated"
        typer.echo(f"{row['username']:<24} {row['role']:<15} province {row['province'] or '-':<3} {state}")


@user_app.command("deactivate")
def user_deactivate(username: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Stop an account: it cannot sign in, and its tokens stop working within seconds."""
    _account_change("users/deactivate_user", username, "deactivated; its tokens no longer work")


@user_app.command("remove")
def user_remove(username: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Delete an account (the audit trail keeps its name); its tokens stop working within seconds."""
    _account_change("users/remove_user", username, "removed")


@user_app.command("revoke")
def user_revoke(username: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Revoke every token the account holds now (a lost device); it signs in again for a new one."""
    _account_change("users/revoke_tokens", username, "must sign in again: its tokens are revoked")

@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Worker processes (default HOSO_API_WORKERS, 0 there meaning one per core).")] = None,
    log_level: Annotated[LogLevel, typer.Option(help="uvicorn's log level.")] = LogLevel.INFO,
) -> None:
    """Run the HTTP API with uvicorn."""
    import uvicorn  # noqa: PLC0415 - the server's import: only hoso serve pays it

    settings = _settings()
    count = workers or settings.api_workers or os.cpu_count() or 1
    # uvicorn's access log writes paths and query strings (personal ids, names searched for): the app
    # writes its own, with route templates, through uvicorn's access handler and format.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["hoso.access"] = {"handlers": ["access"], "propagate": False,
                                            "level": uvicorn.config.LOG_LEVELS[log_level.value]}
    if _ensure_neo4j(settings):  # started here, or one line now: not a traceback from every worker
        for line in _warm_after_start(settings, managed_server(settings)):  # warm before the first request
            typer.echo(line, err=True)
    typer.echo(f"HoSo on http://{host}:{port}/ui/ (the API's documentation: /docs), {count} worker(s); "
               "Ctrl+C stops it")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level=log_level, workers=count,
                timeout_keep_alive=settings.api_keep_alive_seconds, access_log=False, log_config=log_config,
                proxy_headers=bool(settings.trusted_proxies), forwarded_allow_ips=settings.trusted_proxies or None)


@app.command()
def demo(
    persons: Annotated[int, typer.Option(min=100, help="Size of the synthetic population.")] = 2_000,
) -> None:
    """Start Neo4j, apply the migrations, then synthesise, ingest and link a population and show a person."""

    settings = _settings()
    if settings.managed_neo4j:
        neo4j_start()
    synth_dir = settings.data_path / "demo-synth"
    if not (synth_dir / "truth.csv").exists():
        generate(SynthConfig(persons=persons, seed=1, profile=Profile.REALISTIC), synth_dir)
        typer.echo(f"synthetic population of {persons} persons written to {synth_dir}")
    for kind, files, mapping in synthetic_inputs(synth_dir):
        summary = ingest(kind, files, settings.data_path, mapping=mapping)
        typer.echo(f"ingest {kind.value:<13} read {summary.read:>6}, accepted {summary.accepted:>6}, "
                   f"quarantined {summary.quarantined:>4}")
    with _driver(settings) as (driver, database):
        run = run_linking(settings, driver, database)
        typer.echo(f"linked: {run['persons']} persons, {run['review_items']} review items "
                   f"(model {run['model_version']})")

        scores = evaluate_linkage(settings.data_path, GraphLinkStore(driver, database).assignments(),
                                  read_truth(synth_dir / "truth.csv"))
        typer.echo("against the truth: " + ", ".join(f"{k} {scores[k]:.4f}" for k in (
            "precision", "recall", "f1", "blocking_recall")))
        person_id = default_registry().read(driver, "persons/most_recorded", database=database,
                                            limit=1)[0]["person_id"]
        profile = person_profile(driver, person_id, database)
        admin = profile["administrative"]
        typer.echo(f"a person: {person_id} {admin.get('name')} born {admin.get('birth_date')}, "
                   f"{admin['record_count']} records from {', '.join(admin['sources'])}, "
                   f"{len(profile['visits'])} visits, {len(profile['immunizations'])} doses")
    typer.echo(f"data directory:   {settings.data_path}")
    typer.echo(f"Neo4j home:       {settings.neo4j_home}")
    typer.echo(f"Neo4j jars cache: {settings.cache_dir}")
    typer.echo("next: `hoso neo4j status`, `hoso evaluate --truth " + str(synth_dir / "truth.csv") + "`")


def main() -> None:
    """Entry point of the `hoso` console script: one-line errors and a non-zero exit."""
    try:
        logging.basicConfig(level=get_settings().log_level, format="%(levelname)s %(name)s: %(message)s",
                            stream=sys.stderr)
        if get_settings().log_level != "DEBUG":  # a transaction retried after a deadlock is routine, not news
            logging.getLogger("neo4j").setLevel(logging.ERROR)
        private_files(get_settings())
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"HOSO_{str(first['loc'][0]).upper()}: " if first.get("loc") else ""
        typer.echo(f"hoso: error: bad setting: {where}{first['msg']}", err=True)
        sys.exit(2)
    except HANDLED_ERRORS as exc:
        typer.echo(f"hoso: error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a usage error (click's, or the copy of click typer ships): one line
        message, code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
        if not (callable(message) and isinstance(code, int)):
            raise
        typer.echo(f"hoso: error: {message()} (see `hoso --help`)", err=True)
        sys.exit(code)


if __name__ == "__main__":
    main()
