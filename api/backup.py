"""`hoso backup DIR` and `hoso restore DIR`: the graph through neo4j-admin dump and load, the batches,
models and jobs as files, and the reviewers' decisions as JSON beside them (readable without Neo4j).

Backups need the managed server (Community edition dumps only a stopped database): the server is
stopped for the dump and started again. Runs of linking and the job worker are held off by their locks
while the backup is taken. A manifest lists every file with its SHA-256 and the graph's fingerprint
(nodes per label, relationships per type); restore checks both.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics import refresh_projection, remove_projection
from api.runtime import driver_for, managed_server
from api.settings import Settings
from graph import default_registry, plain, warm_up_if_possible
from linkage import exclusive, sha256_file

FOLDERS = ("batches", "models", "jobs")


class BackupError(Exception):
    """A backup or restore that cannot be done; nothing was changed."""


def fingerprint(settings: Settings) -> dict[str, int]:
    with driver_for(settings) as (driver, database):
        rows = default_registry().read(driver, "system/fingerprint", database=database)
    return {f"{r['kind']}:{r['name']}": r["count"] for r in rows}


def _decisions(settings: Settings) -> dict[str, Any]:
    with driver_for(settings) as (driver, database):
        row = default_registry().read(driver, "system/decisions", database=database)[0]
    return {"links": [plain(dict(x)) for x in row["links"]], "events": [plain(dict(x)) for x in row["events"]]}


def backup(settings: Settings, dest: Path) -> dict[str, Any]:
    """Write a complete backup to `dest` (which must be new or empty); returns the manifest."""
    if not settings.managed_neo4j:
        raise BackupError("NEO4J_URI names an external server: back it up with its own neo4j-admin")
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: choose a new directory")
    data = settings.data_path
    server = managed_server(settings)
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with exclusive(data / "linking.lock"), exclusive(data / "jobs" / "worker.lock"):
        was_running = server.status().answering
        if not was_running:
            server.start()
        prints, decisions = fingerprint(settings), _decisions(settings)
        server.stop()
        try:
            tmp.mkdir(parents=True)
            server.dump(settings.neo4j_database, tmp / "graph")
            for folder in FOLDERS:
                if (data / folder).exists():
                    shutil.copytree(data / folder, tmp / folder,
                                    ignore=shutil.ignore_patterns("*.lock", ".tmp-*", "*.tmp"))
        finally:
            if was_running:
                server.start()
    if was_running:  # as it was, and warm: the dump restarted it
        with driver_for(settings) as (driver, database):
            warm_up_if_possible(driver, database)
    (tmp / "decisions.json").write_text(json.dumps(decisions, ensure_ascii=False, indent=1))
    files = {str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"), "database": settings.neo4j_database,
                "neo4j_version": settings.neo4j_version, "fingerprint": prints, "files": files,
                "decisions": {"links": len(decisions["links"]), "events": len(decisions["events"])}}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if dest.exists():
        dest.rmdir()
    tmp.rename(dest)
    return manifest


def restore(settings: Settings, source: Path) -> dict[str, Any]:
    """Replace the graph and the data folders with the backup in `source`; returns the manifest."""
    if not settings.managed_neo4j:
        raise BackupError("NEO4J_URI names an external server: restore it with its own neo4j-admin")
    try:
        manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} holds no readable backup manifest") from exc
    for name, digest in manifest["files"].items():
        path = source / name
        if not path.is_file() or sha256_file(path) != digest:
            raise BackupError(f"{source}: {name} is missing or changed since the backup: nothing restored")
    data = settings.data_path
    server = managed_server(settings)
    with exclusive(data / "linking.lock"), exclusive(data / "jobs" / "worker.lock"):
        server.stop()
        server.load(manifest["database"], source / "graph")
        for folder in FOLDERS:
            target = data / folder
            aside = data / f".{folder}.before-restore"
            shutil.rmtree(aside, ignore_errors=True)
            if target.exists():
                target.rename(aside)
            if (source / folder).exists():
                shutil.copytree(source / folder, target)
            shutil.rmtree(aside, ignore_errors=True)
        shutil.rmtree(data / "linkage" / "standardised", ignore_errors=True)  # a cache, rebuilt from the batches
        remove_projection(data)  # it described the graph that was replaced
        server.start()
    restored = fingerprint(settings)
    if restored != manifest["fingerprint"]:
        raise BackupError("the restored graph differs from the backup's fingerprint")
    with driver_for(settings) as (driver, database):
        if settings.analytics_refresh:
            refresh_projection(driver, database, data)
        warm_up_if_possible(driver, database)
    return manifest
