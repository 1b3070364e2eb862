"""Ingestion jobs: upload a file of a source kind, follow its progress and read its quarantine report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.audit import audit
from api.deps import SettingsDep, require
from api.jobs import JOB_ID, Job, JobState, JobStore
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings
from linkage import (
    ANY_TYPE,
    SOURCES,
    UPLOADABLE,
    IngestError,
    SourceKind,
    list_batches,
    reason_vi,
    restore_batch,
    set_aside,
)

router = APIRouter(tags=["jobs"])
CHUNK = 1 << 20


# The path parameter lists only the kinds the registry lets be uploaded; a citizen's report comes
# through the portal.
UploadKind = Annotated[SourceKind, Path(json_schema_extra={"enum": [kind.value for kind in UPLOADABLE]})]


Staff = Annotated[User, require(Role.ADMIN, may_not="use ingestion jobs")]


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


class JobLinks(BaseModel):
    self: str
    quarantine: str


class JobView(BaseModel):
    """An ingestion job: its state, counts and quarantine reasons (`reasons`: reason -> records)."""

    job_id: str
    kind: str = Field(description="The source kind it was uploaded as")
    filename: str
    size: int
    submitted_by: str
    submitted_at: str
    state: JobState
    updated_at: str
    attempts: int
    read: int
    accepted: int
    quarantined: int
    linked: int
    review: int
    batch_id: str | None
    already_ingested: bool
    reasons: dict[str, int]
    error: str | None
    mapping: str | None
    links: JobLinks


class QuarantineEntry(BaseModel):
    """A rejected record: which file, where in it, why, and a short excerpt."""

    model_config = ConfigDict(extra="allow")

    file: str | None = None
    position: str | None = None
    reason: str
    reason_vi: str | None = Field(None, description="The reason in Vietnamese, where HoSo knows how to say it")
    excerpt: str | None = None


class JobDetail(JobView):
    quarantine_sample: list[QuarantineEntry]


class JobPage(BaseModel):
    data: list[JobView]
    count: int


class QuarantinePage(BaseModel):
    data: list[QuarantineEntry]
    count: int = Field(description="Every quarantined record of the job")
    offset: int


def _said(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quarantine entries with their reason in Vietnamese beside the English one they were written with."""
    return [entry | {"reason_vi": reason_vi(str(entry.get("reason", "")))} for entry in entries]


def _job_view(job: Job) -> dict[str, Any]:
    return job.as_json() | {"links": {"self": f"/jobs/{job.job_id}", "quarantine": f"/jobs/{job.job_id}/quarantine"}}


# The upload is read by the route itself, after the account and the declared size are checked: FastAPI
# would read (and spool to disk) a form parameter's whole body before any dependency runs.
UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The source file."},
        "mapping": {"type": "string", "format": "binary", "description": "Column mapping (TOML), for kind csv."}}}}}}
FORM_OVERHEAD = 1 << 20  # multipart boundaries, part headers and a mapping beside the file


@router.post("/ingest/{kind}", operation_id="submit_ingest_job", status_code=status.HTTP_202_ACCEPTED,
             response_model=JobView, openapi_extra={"requestBody": UPLOAD_BODY},
             responses={400: {}, 403: {}, 411: {}, 413: {}, 415: {}, 422: {}})
async def submit(request: Request, user: Staff, settings: SettingsDep, kind: UploadKind) -> dict[str, Any]:
    """Store the file and queue it; a background worker ingests it and links the new batch.

    Answers at once with the job; follow it at `GET /jobs/{job_id}`. The request must declare its
    length (Content-Length): a body over the upload limit is refused before a byte of it is read.
    """
    source = SOURCES[kind]
    if not source.uploadable:
        raise Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT,
                      "kind: a {kind} record cannot be uploaded: use one of {kinds}", kind=kind.value,
                      kinds=", ".join(UPLOADABLE))
    limit = settings.upload_max_mb << 20
    declared_length = request.headers.get("content-length", "")
    if not declared_length.isdigit():
        raise Refusal(status.HTTP_411_LENGTH_REQUIRED, "send the upload with its Content-Length")
    if int(declared_length) > limit + FORM_OVERHEAD:
        raise Refusal(status.HTTP_413_CONTENT_TOO_LARGE, "the file is larger than the {limit} MB limit",
                      limit=settings.upload_max_mb)
    form = await request.form(max_files=2, max_fields=2)
    file, mapping = form.get("file"), form.get("mapping")
    if not isinstance(file, UploadFile):
        raise Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT,
                      "file: send the source file as the multipart/form-data part `file`")
    declared = (file.content_type or ANY_TYPE).split(";")[0].strip().lower()
    if declared != ANY_TYPE and declared not in source.content_types:
        raise Refusal(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "a {kind} file cannot be {declared}: send {accepted}",
                      kind=kind.value, declared=declared, accepted=", ".join(sorted(source.content_types)))
    if source.needs_mapping and not isinstance(mapping, UploadFile):
        raise Refusal(status.HTTP_400_BAD_REQUEST, "kind {kind} needs its column mapping: add a `mapping` part",
                      kind=kind.value)
    mapping_bytes = mapping.file.read(1 << 20) if isinstance(mapping, UploadFile) else None
    try:
        job = await run_in_threadpool(JobStore(settings.data_path).create, kind, file.filename or "upload",
                                      _chunks(file), user.username, limit, mapping_bytes)
    except ValueError as exc:
        code = status.HTTP_413_CONTENT_TOO_LARGE if "limit" in str(exc) else status.HTTP_400_BAD_REQUEST
        raise HTTPException(code, str(exc)) from exc
    finally:
        await form.close()
    worker = getattr(request.app.state, "jobs", None)
    if worker is not None:
        worker.notify()
    audit(request, settings, user, 202)
    return _job_view(job)


@router.get("/jobs", operation_id="list_jobs", response_model=JobPage, responses={403: {}})
def list_jobs(request: Request, user: Staff, settings: SettingsDep,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """The newest ingestion jobs first."""
    jobs = [_job_view(j) for j in JobStore(settings.data_path).recent(limit)]
    return {"data": jobs, "count": len(jobs)}


JobId = Annotated[str, Path(pattern=JOB_ID.pattern, description="A job id as returned by POST /ingest/{kind}.")]


def _get(settings: Settings, job_id: str) -> Job:
    try:
        return JobStore(settings.data_path).get(job_id)
    except KeyError as exc:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no job {job_id}", job_id=job_id) from exc


@router.get("/jobs/{job_id}", operation_id="get_job", response_model=JobDetail, responses={403: {}, 404: {}})
def get_job(request: Request, user: Staff, settings: SettingsDep,
            job_id: JobId) -> dict[str, Any]:
    """A job's state and counts (read, accepted, quarantined, linked, waiting for review), with the
    quarantine reasons and the first quarantined records."""
    job = _get(settings, job_id)
    return _job_view(job) | {"quarantine_sample": _said(JobStore(settings.data_path).quarantine(job))}


@router.get("/jobs/{job_id}/quarantine", operation_id="get_job_quarantine", response_model=QuarantinePage,
            responses={403: {}, 404: {}})
def get_quarantine(request: Request, user: Staff, settings: SettingsDep, job_id: JobId,
                   offset: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The job's quarantine report, paged: file, position, reason and excerpt of each rejected record."""
    job = _get(settings, job_id)
    entries = JobStore(settings.data_path).quarantine(job, limit=limit, offset=offset)
    audit(request, settings, user, 200)  # the excerpts are raw records: their reading is on the trail
    return {"data": _said(entries), "count": job.quarantined, "offset": offset}


@router.post("/jobs/{job_id}/retry", operation_id="retry_job", response_model=JobView,
             responses={403: {}, 404: {}, 409: {"description": "The job is neither failed nor cancelled"}})
def retry_job(request: Request, user: Staff, settings: SettingsDep, job_id: JobId) -> dict[str, Any]:
    """Queue a failed or cancelled job again (after its cause was fixed, e.g. Neo4j back up)."""
    job = _change(settings, job_id, JobStore(settings.data_path).retry)
    worker = getattr(request.app.state, "jobs", None)
    if worker is not None:
        worker.notify()
    audit(request, settings, user, 200)
    return _job_view(job)


@router.post("/jobs/{job_id}/cancel", operation_id="cancel_job", response_model=JobView,
             responses={403: {}, 404: {}, 409: {"description": "The job is running or done"}})
def cancel_job(request: Request, user: Staff, settings: SettingsDep, job_id: JobId) -> dict[str, Any]:
    """Cancel a queued or failed job: the worker leaves it; its upload is kept."""
    job = _change(settings, job_id, JobStore(settings.data_path).cancel)
    audit(request, settings, user, 200)
    return _job_view(job)


def _change(settings: Settings, job_id: str, change: Callable[[str], Job]) -> Job:
    try:
        return change(job_id)
    except KeyError as exc:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no job {job_id}", job_id=job_id) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


class SetAside(BaseModel):
    reason: str
    by: str | None = None
    at: str | None = None


class BatchView(BaseModel):
    """An ingested batch: its kind, counts and, when set aside, why (it then neither links nor loads)."""

    batch_id: str
    kind: str
    created_at: str
    read: int
    accepted: int
    quarantined: int
    set_aside: SetAside | None


class BatchPage(BaseModel):
    data: list[BatchView]
    count: int


class SetAsideIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")


BatchId = Annotated[str, Path(pattern=r"^[a-z0-9]+-[0-9a-f]{8,64}$", description="A batch id from GET /batches.")]


def _batch_view(batch: dict[str, Any]) -> dict[str, Any]:
    summary = batch["summary"]
    return {"batch_id": batch["batch_id"], "kind": batch["kind"], "created_at": summary["created_at"],
            "read": summary["read"], "accepted": summary["accepted"], "quarantined": summary["quarantined"],
            "set_aside": batch["set_aside"]}


@router.get("/batches", operation_id="list_batches", response_model=BatchPage, responses={403: {}})
def batches(request: Request, user: Staff, settings: SettingsDep) -> dict[str, Any]:
    """Every ingested batch, newest first, with whether it is set aside and why."""
    found = [_batch_view(b) for b in reversed(list_batches(settings.data_path))]
    audit(request, settings, user, 200)
    return {"data": found, "count": len(found)}


@router.post("/batches/{batch_id}/set-aside", operation_id="set_aside_batch", response_model=BatchView,
             responses={403: {}, 404: {}})
def set_aside_batch(request: Request, user: Staff, settings: SettingsDep, batch_id: BatchId,
                    body: SetAsideIn) -> dict[str, Any]:
    """Keep a batch out of linking and fact loading until it is restored."""
    _change_batch(lambda: set_aside(settings.data_path, batch_id, body.reason, by=user.username))
    audit(request, settings, user, 200)
    return _batch_by_id(settings, batch_id)


@router.post("/batches/{batch_id}/restore", operation_id="restore_batch", response_model=BatchView,
             responses={403: {}, 404: {}, 409: {"description": "The batch is not set aside"}})
def restore_set_aside_batch(request: Request, user: Staff, settings: SettingsDep, batch_id: BatchId,
                            ) -> dict[str, Any]:
    """Take a set-aside batch back: the next link run links it and loads its facts."""
    _change_batch(lambda: restore_batch(settings.data_path, batch_id))
    audit(request, settings, user, 200)
    return _batch_by_id(settings, batch_id)


def _change_batch(change: Callable[[], object]) -> None:
    try:
        change()
    except IngestError as exc:
        code = status.HTTP_404_NOT_FOUND if str(exc).startswith("no batch") else status.HTTP_409_CONFLICT
        raise HTTPException(code, str(exc)) from exc


def _batch_by_id(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _batch_view(next(b for b in list_batches(settings.data_path) if b["batch_id"] == batch_id))
