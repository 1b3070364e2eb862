"""The audit trail: every read of a person's record and every decision, refused ones included.

Entries name the account, role, facility, endpoint (its route template, never the concrete URL), status and
client; the person appears only as a keyed hash (HMAC-SHA256 with the signing key), so the log can
be searched by person without holding ids in clear.

A request does not wait for a graph transaction to record its entry: the entry is appended to this
process's spool file (`DATA/audit/<uuid>.jsonl`, one `write(2)` on an append-only descriptor, so it
survives a crash of the API process) and a shipper thread moves spooled entries into the graph in
batches, every `audit_flush_seconds`. Each entry has an id and is merged on it, so a batch shipped
twice (a crash between the commit and the removal of the shipped file) is recorded once. Spools left
by a dead process (their lock is free) are shipped by the next process that starts; entries wait in
the spool while Neo4j is down and are shipped when it is back.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi import status as http_status
from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

from api.messages import Refusal
from api.security import Role, User, signing_key
from api.settings import Settings
from graph import GraphError, default_registry

log = logging.getLogger(__name__)
SHIP_BATCH = 2_000


def person_hash(person_id: str, settings: Settings) -> str:
    return hmac.new(signing_key(settings).encode(), person_id.encode(), hashlib.sha256).hexdigest()[:32]


class AuditLog:
    """This process's audit spool and the thread that ships it into the graph."""

    def __init__(self, settings: Settings, driver: Driver, database: str) -> None:
        self.driver = driver
        self.database = database
        self.interval = settings.audit_flush_seconds
        self.root = settings.data_path / "audit"
        self.root.mkdir(parents=True, exist_ok=True)
        self._name = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._ship_lock = threading.Lock()
        self._rotations = 0
        self._pending = 0
        self._fd = self._open()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _path(self) -> Path:
        return self.root / f"{self._name}.jsonl"

    def _open(self) -> int:
        """A new spool, locked (which tells other processes it is alive) before it gets its name,
        so no other process can take it for an orphan."""
        creating = self.root / f".{self._name}.creating"
        fd = os.open(creating, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(creating, self._path)
        return fd

    def record(self, entry: dict[str, Any]) -> None:
        """Spool one entry (durable against a crash of this process once this returns)."""
        line = json.dumps({"id": uuid.uuid4().hex, "at": datetime.now(UTC).isoformat(), **entry},
                          separators=(",", ":")).encode() + b"\n"
        with self._lock:
            os.write(self._fd, line)
            self._pending += 1

    def _rotate(self) -> None:
        """Hand the current spool to the shipper and start a new one."""
        with self._lock:
            if self._pending == 0:
                return
            self._rotations += 1
            shipped = self.root / f"{self._name}-{self._rotations}.shipping"
            os.rename(self._path, shipped)
            os.close(self._fd)
            self._fd = self._open()
            self._pending = 0

    def _adopt_orphans(self) -> None:
        """Spools of processes that died: their lock is free, so they become shipments."""
        for path in self.root.glob("*.jsonl"):
            if path.stem == self._name:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                path.rename(path.with_name(f"{path.stem}-orphan.shipping"))
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)

    def flush(self) -> int:
        """Ship everything spooled so far (this process's and orphans'); the number of entries
        shipped. Raises the graph's error when it is unreachable; nothing is lost then."""
        with self._ship_lock:
            self._rotate()
            self._adopt_orphans()
            shipped = 0
            for path in sorted(self.root.glob("*.shipping")):
                try:
                    lines = path.read_bytes().splitlines()
                except FileNotFoundError:
                    continue
                rows = [json.loads(line) for line in lines if line.strip()]
                for start in range(0, len(rows), SHIP_BATCH):
                    default_registry().write(self.driver, "audit/record_many", database=self.database,
                                             rows=rows[start:start + SHIP_BATCH])
                path.unlink(missing_ok=True)
                shipped += len(rows)
            return shipped

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hoso-audit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            try:
                self.flush()
            except (ServiceUnavailable, SessionExpired, GraphError, Neo4jError, OSError) as exc:
                log.warning("audit entries wait in the spool: %s", type(exc).__name__)

    def stop(self) -> None:
        """Ship what is left (best effort: what cannot be shipped stays spooled) and close."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.flush()
        except (ServiceUnavailable, SessionExpired, GraphError, Neo4jError, OSError) as exc:
            log.warning("audit entries left in the spool for the next start: %s", type(exc).__name__)
        with self._lock:
            os.close(self._fd)
            if self._pending == 0:
                self._path.unlink(missing_ok=True)


def audit(request: Request, settings: Settings, user: User, status: int, person_id: str | None = None) -> None:
    """Spool one entry in this API process's audit log (see `AuditLog`)."""
    route = request.scope.get("route")
    request.app.state.audit.record({
        "username": user.username, "role": user.role.value, "facility": user.facility, "method": request.method,
        "endpoint": getattr(route, "path", "?"), "status": status,
        "person_hash": person_hash(person_id, settings) if person_id else None,
        "client": request.client.host if request.client else None})


def require_role(request: Request, settings: Settings, user: User, roles: Role | tuple[Role, ...],
                 may_not: str) -> None:
    """Refuse, with a 403 that goes to the audit trail too, a user whose role is not one of `roles`; the
    message reads "the <their role> role may not <may_not>"."""
    if user.role not in (roles if isinstance(roles, tuple) else (roles,)):
        audit(request, settings, user, 403)
        raise Refusal(http_status.HTTP_403_FORBIDDEN, "the {role} role may not {action}", role=user.role.value,
                      action=may_not)
