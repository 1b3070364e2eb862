"""Ingestion jobs: an uploaded file is kept on disk, then ingested and linked by a background worker.

A job is a directory `DATA/jobs/<job_id>/` holding the uploaded input and `job.json`, which is
replaced atomically (write, fsync, rename) at every step, so a crash leaves either the old state or
the new one. Jobs whose state is not final when a worker starts (the API was stopped mid-job) are
taken up again from the start: ingestion is content-addressed and linking skips linked batches, so
repeating a step changes nothing.

Only one worker works at a time across processes sharing the data directory (an exclusive `flock`
on `DATA/jobs/worker.lock`); linking itself is serialised with the command line by
`api.services.linking_lock`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from neo4j import Driver

from api.services import run_linking
from graph import default_registry
from linkage import IngestError, SourceKind, batches_dir, exclusive, ingest, prepare

log = logging.getLogger(__name__)
JOBS = "jobs"
JOB_ID = re.compile(r"^job-\d{14}-[0-9a-f]{8}$")
QUARANTINE_SAMPLE = 50
MAX_ATTEMPTS = 3  # a job that fails in a way nobody foresaw is tried this often, then marked failed


class JobState(StrEnum):
    QUEUED = "queued"
    INGESTING = "ingesting"
    LINKING = "linking"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass
class Job:
    """One upload and what became of it."""

    job_id: str
    kind: str
    filename: str
    size: int
    submitted_by: str
    submitted_at: str
    state: JobState = JobState.QUEUED
    updated_at: str = ""
    attempts: int = 0
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    linked: int = 0
    review: int = 0
    batch_id: str | None = None
    already_ingested: bool = False
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    mapping: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"state": self.state.value}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_job_id() -> str:
    """Sortable by submission time: `job-YYYYmmddHHMMSS-<8 hex>`."""
    return f"job-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


QUEUE = "queue"  # under DATA/jobs: an empty file named by each job not yet final


class JobStore:
    """Jobs as directories under `DATA/jobs`, and the jobs still to do as empty files under
    `DATA/jobs/queue`: the worker looks at those, never at every job there ever was (reading each
    job's file cost 32 µs a job at each look, and a portal queues a job per citizen's report)."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / JOBS
        self.queue = self.root / QUEUE

    def path(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id):
            raise KeyError(job_id)
        return self.root / job_id

    def create(self, kind: SourceKind, filename: str, chunks: Iterator[bytes], submitted_by: str,
               max_bytes: int, mapping: bytes | None = None) -> Job:
        """Store an upload and queue it; raises ValueError for an empty or oversized file.

        The upload is written under a temporary name and the job directory appears only once
        complete, so a worker never sees half an upload.
        """
        job_id = new_job_id()
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name).lstrip(".")[:100] or "upload"  # not `..`
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{job_id}"
        (tmp / "input").mkdir(parents=True)
        size = 0
        try:
            with open(tmp / "input" / safe, "wb") as fh:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise ValueError(f"the file is larger than the {max_bytes // (1 << 20)} MB limit")
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if size == 0:
                raise ValueError("the file is empty")
            if mapping is not None:
                (tmp / "mapping.toml").write_bytes(mapping)
            job = Job(job_id=job_id, kind=kind.value, filename=safe, size=size, submitted_by=submitted_by,
                      submitted_at=_now(), updated_at=_now(), mapping="mapping.toml" if mapping else None)
            _write_json(tmp / "job.json", job.as_json())
            self._queued()  # the queue made (from the jobs) before this job is in it
            (self.queue / job_id).touch()  # before the job appears: a crash between leaves a name to drop
            tmp.rename(self.root / job_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            (self.queue / job_id).unlink(missing_ok=True)
            raise
        return job

    def get(self, job_id: str) -> Job:
        try:
            data = json.loads((self.path(job_id) / "job.json").read_text())
        except (OSError, ValueError) as exc:
            raise KeyError(job_id) from exc
        return Job(**{**data, "state": JobState(data["state"])})

    def save(self, job: Job) -> None:
        job.updated_at = _now()
        marker = self.queue / job.job_id
        if not job.state.final:
            self._queued()
            marker.touch()
        _write_json(self.path(job.job_id) / "job.json", job.as_json())
        if job.state.final:
            marker.unlink(missing_ok=True)

    def recent(self, limit: int = 100) -> list[Job]:
        """The newest jobs first."""
        if not self.root.exists():
            return []
        ids = sorted((p.name for p in self.root.iterdir() if JOB_ID.match(p.name)), reverse=True)
        jobs = []
        for job_id in ids[:limit]:
            try:
                jobs.append(self.get(job_id))
            except KeyError:
                continue
        return jobs

    def retry(self, job_id: str) -> Job:
        """Queue a failed or cancelled job again, its attempts counted from zero; ValueError otherwise."""
        job = self.get(job_id)
        if job.state not in (JobState.FAILED, JobState.CANCELLED):
            raise ValueError(f"job {job_id} is {job.state.value}: only a failed or cancelled job is tried again")
        job.state, job.attempts, job.error = JobState.QUEUED, 0, None
        self.save(job)
        return job

    def cancel(self, job_id: str) -> Job:
        """Cancel a job that is queued or failed (its upload is kept); ValueError for one running or done."""
        job = self.get(job_id)
        if job.state not in (JobState.QUEUED, JobState.FAILED):
            raise ValueError(f"job {job_id} is {job.state.value}: only a queued or failed job can be cancelled")
        job.state = JobState.CANCELLED
        self.save(job)
        return job

    def unfinished(self) -> list[Job]:
        """Jobs still to do, oldest first (interrupted ones included)."""
        jobs = []
        for job_id in sorted(p.name for p in self._queued().iterdir() if JOB_ID.match(p.name)):
            try:
                job = self.get(job_id)
            except KeyError:  # being created (its folder not yet named), or its creation failed
                if not (self.root / f".tmp-{job_id}").exists() and not (self.root / job_id).exists():
                    (self.queue / job_id).unlink(missing_ok=True)
                continue
            if job.state.final:  # made final by a process that stopped before it took the name away
                (self.queue / job_id).unlink(missing_ok=True)
                try:
                    job = self.get(job_id)
                except KeyError:
                    continue
                if job.state.final:
                    continue
                (self.queue / job_id).touch()  # queued again (`retry`) meanwhile: its name put back
            jobs.append(job)
        return jobs

    def _queued(self) -> Path:
        """The queue's folder; made from the jobs themselves the first time (jobs queued by a HoSo that
        kept no queue), under a temporary name renamed into place, so that it is never seen half made."""
        if self.queue.is_dir():
            return self.queue
        self.root.mkdir(parents=True, exist_ok=True)
        building = self.root / f".queue-{secrets.token_hex(4)}"
        building.mkdir()
        try:
            for folder in self.root.iterdir():
                if JOB_ID.match(folder.name):
                    try:
                        job = self.get(folder.name)
                    except KeyError:
                        continue
                    if not job.state.final:
                        (building / folder.name).touch()
            building.rename(self.queue)
        except OSError:
            if not self.queue.is_dir():  # not another process's queue made meanwhile: a real failure
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return self.queue

    def quarantine(self, job: Job, limit: int = QUARANTINE_SAMPLE, offset: int = 0) -> list[dict[str, Any]]:
        """Entries of the job's quarantine report (the batch's `quarantine.jsonl`)."""
        if job.batch_id is None:
            return []
        path = batches_dir(self.root.parent) / job.batch_id / "quarantine.jsonl"
        entries: list[dict[str, Any]] = []
        if not path.exists():
            return entries
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh):
                if number < offset:
                    continue
                if len(entries) >= limit:
                    break
                entries.append(json.loads(line))
        return entries


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


class JobWorker:
    """Runs queued jobs one at a time in a daemon thread: ingest the file, then link the new batch."""

    def __init__(self, settings: Any, driver: Driver, database: str, poll_seconds: float = 2.0) -> None:
        self.settings = settings
        self.driver = driver
        self.database = database
        self.store = JobStore(settings.data_path)
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hoso-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        try:  # the model read and compiled now, not by the first citizen's report
            prepare(self.settings.data_path)
        except Exception:  # a link reads the model itself, and says what is wrong with it
            log.warning("the job worker could not read the model ahead of its first job", exc_info=True)
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # the worker outlives any one failure; the job records it
                log.exception("job worker")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def run_pending(self) -> int:
        """Run every unfinished job (if no other process's worker is at it); return how many ran."""
        ran = 0
        with exclusive(self.store.root / "worker.lock", wait=False) as mine:
            if not mine:
                return 0
            for job in self.store.unfinished():
                if self._stop.is_set():
                    break
                self._run_guarded(job)
                ran += 1
        return ran

    def _run_guarded(self, job: Job) -> Job:
        """Run one job; a failure nobody foresaw is recorded on the job, which is queued again until it has
        had MAX_ATTEMPTS tries and is then failed: no job blocks the ones behind it."""
        try:
            return self.run(job)
        except Exception as exc:
            log.exception("job %s: attempt %d failed", job.job_id, job.attempts)
            reason = f"{type(exc).__name__}: {exc}"
            if job.attempts >= MAX_ATTEMPTS:
                return self._fail(job, f"failed {job.attempts} times, last: {reason}")
            job.state, job.error = JobState.QUEUED, f"attempt {job.attempts} failed ({reason}); it is tried again"
            self.store.save(job)
            return job

    def run(self, job: Job) -> Job:
        if job.attempts >= MAX_ATTEMPTS:  # it stopped the process itself (killed mid-job) every time
            return self._fail(job, f"stopped {job.attempts} times before it finished")
        job.attempts += 1
        job.error = None
        job.state = JobState.INGESTING
        self.store.save(job)
        folder = self.store.path(job.job_id)
        last_save = [0.0]

        def progress(read: int, accepted: int, quarantined: int) -> None:
            job.read, job.accepted, job.quarantined = read, accepted, quarantined
            if time.monotonic() - last_save[0] > 0.5:
                last_save[0] = time.monotonic()
                self.store.save(job)

        try:
            mapping = folder / job.mapping if job.mapping else None
            summary = ingest(SourceKind(job.kind), [folder / "input" / job.filename], self.settings.data_path,
                             mapping=mapping, progress=progress)
        except IngestError as exc:
            return self._fail(job, str(exc))
        job.batch_id = summary.batch_id
        job.read, job.accepted, job.quarantined = summary.read, summary.accepted, summary.quarantined
        job.reasons = summary.reasons
        job.already_ingested = summary.already_ingested
        job.state = JobState.LINKING
        self.store.save(job)
        try:
            if summary.accepted:
                run_linking(self.settings, self.driver, self.database, "link", with_totals=False)
            linked = batch_link_counts(self.driver, self.database, summary.batch_id)
        except Exception as exc:  # the job keeps the reason; the next start of the worker retries it
            log.exception("job %s: linking failed", job.job_id)
            return self._fail(job, f"linking failed: {type(exc).__name__}: {exc}")
        job.linked, job.review = linked["matched"], linked["review"]
        job.state = JobState.DONE
        self.store.save(job)
        log.info("job %s done: batch %s, %d accepted, %d linked", job.job_id, job.batch_id, job.accepted, job.linked)
        return job

    def _fail(self, job: Job, reason: str) -> Job:
        job.state = JobState.FAILED
        job.error = reason
        self.store.save(job)
        log.warning("job %s failed: %s", job.job_id, reason)
        return job


def batch_link_counts(driver: Driver, database: str, batch_id: str) -> dict[str, int]:
    """How many records of a batch have a MATCH link, and how many wait for review."""
    rows = default_registry().read(driver, "identity/batch_link_counts", database=database, batch_id=batch_id)
    return {"matched": rows[0]["matched"], "review": rows[0]["review"]} if rows else {"matched": 0, "review": 0}
