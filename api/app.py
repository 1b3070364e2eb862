"""The FastAPI application: clients are built once in the lifespan and reached through `api.deps`."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import AuditLog
from api.fhir import operation_outcome
from api.jobs import JobWorker
from api.messages import VIETNAMESE, Refusal, language, say, validation_text
from api.routes import ROUTERS
from api.runtime import neo4j_target
from api.security import Accounts, SignInLimiter, SlidingWindow
from api.settings import Settings, get_settings
from api.webhooks import WebhookDeliverer
from graph import (
    ConflictError,
    GraphError,
    GraphUnavailable,
    OperationError,
    apply_migrations,
    graph_candidates,
    graph_population,
    open_driver,
)
from linkage import ModelError, ModelStore, RealtimeMatcher, load_admin_units

log = logging.getLogger(__name__)
DOCS_ASSETS = "/docs-assets"  # where Swagger UI's and ReDoc's scripts are served
access_log = logging.getLogger("hoso.access")
# A citizen's reports an hour: each becomes a job that links, so a flood would hold the queue up.
SELF_REPORTS_PER_HOUR = 10
# Requests for a one-time code (registration, password reset) from one client an hour, per API process.
OTP_STARTS_PER_HOUR = 20
# Consent codes one clinician may try an hour, per API process.
CONSENT_TRIES_PER_HOUR = 10


def problem(status: int, code: str, detail: str, request: Request | None = None, *,
            params: dict[str, Any] | None = None) -> JSONResponse:
    """An RFC 9457 problem+json response with a stable `code` and `detail` in the language the request
    prefers (Vietnamese unless it asks for English; `detail` is the English template of `api.messages`,
    filled from `params`); under /fhir, where clients speak FHIR, the same error as an OperationOutcome."""
    lang = language(request)
    text = say(detail, params or {}, lang)
    headers = {"Content-Language": lang}
    if request is not None and (request.url.path == "/fhir" or request.url.path.startswith("/fhir/")):
        return JSONResponse(operation_outcome(status, code, text), status_code=status,
                            media_type="application/fhir+json", headers=headers)
    return JSONResponse(
        {"type": f"urn:hoso:problem:{code}", "title": code.replace("_", " "), "status": status,
         "code": code, "detail": text},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def _matcher_factory(settings: Settings, driver: Any, database: str) -> Callable[[], RealtimeMatcher | None]:
    """The real-time matcher of the current model, rebuilt when a new model version appears or the
    graph's records have grown by a tenth since it was built (its prior follows the population,
    `TrainedModel.among`). The model's pointer file and the graph's count are read at most once a
    second, not at every request."""
    cache: dict[str, RealtimeMatcher] = {}
    seen: dict[str, Any] = {"at": -1.0, "version": None, "population": None}

    store = ModelStore(settings.data_path)
    pointer = store.root / "current"

    def current() -> RealtimeMatcher | None:
        now = time.monotonic()
        if now - seen["at"] >= 1.0:
            try:
                seen["version"] = pointer.read_text().strip()
            except OSError:
                seen["version"] = None
            # Unreachable, the count of the last second stands; the request itself will say what is down.
            with contextlib.suppress(GraphError, Neo4jError, DriverError, OSError):
                seen["population"] = graph_population(driver, database)
            seen["at"] = now
        version, population = seen["version"], seen["population"]
        if version is None:
            return None
        built = cache.get(version)
        if built is None or (population and population >= 1.1 * (built.population or 0)):
            try:
                model = store.current()
            except ModelError:
                return None
            cache.clear()
            cache[model.version] = RealtimeMatcher(model, graph_candidates(driver, database), population=population)
            version = model.version
        return cache[version]

    return current


class RouteAccessLog:
    """The access log, one line per request as uvicorn writes it, but naming the route template
    (`GET /persons/{person_id}`), never the path or the query string: those carry personal ids and
    names searched for. `hoso serve` turns uvicorn's own access log off and shows this one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                client = scope.get("client")
                access_log.info('%s - "%s %s HTTP/%s" %d', f"{client[0]}:{client[1]}" if client else "-",
                                scope["method"], getattr(route, "path", "(no route)"), scope.get("http_version", "1.1"),
                                message["status"])
            await send(message)

        await self.app(scope, receive, logged)


class SecurityHeaders:
    """Headers every answer carries: nothing of a person is cached by a browser or a proxy, nothing is
    sniffed into another type, no page is framed, and what a page may load is HoSo's own (the pages'
    scripts and styles are inline, so those stay allowed; the API's JSON may load nothing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.api = {"cache-control": "no-store", "x-content-type-options": "nosniff", "x-frame-options": "DENY",
                    "referrer-policy": "no-referrer",
                    "content-security-policy": "default-src 'none'; frame-ancestors 'none'"}
        self.pages = {**self.api, "cache-control": "no-cache",
                      "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                                 "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                                 "frame-ancestors 'none'"}
        self.docs = self.pages  # Swagger UI, its scripts served from DOCS_ASSETS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = path.startswith(("/docs", DOCS_ASSETS))
        extra = self.pages if path.startswith("/ui") else self.docs if docs else self.api

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(
                    (name.encode(), value.encode()) for name, value in extra.items() if name.encode() not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; migrations are applied at start-up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Route handlers are synchronous and run in anyio's thread pool. A few threads keep the two
        # cores busy; dozens (anyio's default is 40) only fight over the GIL and the driver's pool:
        # measured at 50 clients, 4 threads answer 1.6x the requests of 40 at less CPU each.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        target = neo4j_target(settings)
        driver = open_driver(target.uri, target.user, target.password, connection_timeout=3, retry_seconds=3)
        try:
            apply_migrations(driver, target.database)
            app.state.settings = settings
            app.state.driver = driver
            app.state.accounts = Accounts(driver, target.database, settings.auth_cache_seconds)
            app.state.sign_ins = SignInLimiter()
            app.state.self_reports = SlidingWindow(limit=SELF_REPORTS_PER_HOUR, window=3600.0)
            app.state.otp_starts = SlidingWindow(limit=OTP_STARTS_PER_HOUR, window=3600.0)
            app.state.consent_tries = SlidingWindow(limit=CONSENT_TRIES_PER_HOUR, window=3600.0)
            app.state.matcher = _matcher_factory(settings, driver, target.database)
            # The administrative units (both code lists, ~1.5 s to load) standardise every matched record:
            # loaded now, so the first /match after a start is not the one that waits for them.
            await anyio.to_thread.run_sync(load_admin_units)
            app.state.audit = AuditLog(settings, driver, target.database)
            app.state.audit.start()
            app.state.jobs = None
            if settings.jobs_worker:
                app.state.jobs = JobWorker(settings, driver, target.database, settings.jobs_poll_seconds)
                app.state.jobs.start()
            app.state.webhooks = None
            if settings.webhooks_worker:
                app.state.webhooks = WebhookDeliverer(settings, driver, target.database, app.state.audit,
                                                      settings.webhook_poll_seconds)
                app.state.webhooks.start()
            yield
        finally:
            if getattr(app.state, "webhooks", None) is not None:
                app.state.webhooks.stop()
            if getattr(app.state, "jobs", None) is not None:
                app.state.jobs.stop()
            if getattr(app.state, "audit", None) is not None:
                app.state.audit.stop()
            driver.close()

    # The API documentation (/docs, Swagger UI) with its scripts served by the application: it works without
    # internet, and under the same content policy as the pages. No ReDoc: its bundle fetches its logo from
    # its maker's CDN.
    app = FastAPIOffline(title="HoSo", version="0.1.0", lifespan=lifespan, static_url=DOCS_ASSETS,
                         redoc_url=None)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RouteAccessLog)
    app.add_middleware(SecurityHeaders)

    app.mount("/ui", StaticFiles(directory=Path(__file__).parent / "ui", html=True), name="ui")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    favicon = (Path(__file__).parent / "ui" / "favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    async def icon() -> Response:  # what browsers ask for when a page names none (the API's /docs)
        return Response(favicon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_input",
                 429: "too_many_requests"}
        code = codes.get(exc.status_code, "error")
        if isinstance(exc, Refusal):
            response = problem(exc.status_code, code, exc.template, request, params=exc.params)
        else:  # relayed from the engine, or Starlette's own: a known text is translated, any other kept
            response = problem(exc.status_code, code, "{reason}", request, params={"reason": exc.detail})
            if str(exc.detail) in VIETNAMESE:
                response = problem(exc.status_code, code, str(exc.detail), request)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        return problem(422, "invalid_input", "{reason}", request,
                       params={"reason": validation_text(first, language(request))})

    @app.exception_handler(ServiceUnavailable)
    @app.exception_handler(SessionExpired)
    async def neo4j_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("Neo4j unavailable: %s", type(exc).__name__)
        response = problem(503, "graph_unavailable", "the graph database is not reachable: try again shortly", request)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(RecursionError)
    async def nested_too_deeply(request: Request, exc: RecursionError) -> JSONResponse:
        """A body nested deeper than any parser goes (JSON of 100,000 `[`): the caller's input, not a fault."""
        return problem(400, "bad_request", "the request body is nested too deeply", request)

    @app.exception_handler(GraphError)
    async def graph_error(request: Request, exc: GraphError) -> JSONResponse:
        """A graph error by its kind: the server away (503, try again), the person changed meanwhile (409,
        reload), an operation that does not apply (422); any other is HoSo's own fault (500)."""
        if isinstance(exc, GraphUnavailable):
            log.warning("Neo4j unavailable: %s", type(exc).__name__)
            response = problem(503, "graph_unavailable", "the graph database is not reachable: try again shortly",
                               request)
            response.headers["Retry-After"] = "5"
            return response
        if isinstance(exc, ConflictError):
            return problem(409, "conflict", "{reason}: reload and decide again", request, params={"reason": exc})
        if isinstance(exc, OperationError):
            return problem(422, "invalid_operation", "{reason}", request, params={"reason": exc})
        log.error("graph error: %s", type(exc).__name__, exc_info=exc)
        return problem(500, "internal_error", "HoSo failed on this request; the error is logged for its operators",
                       request)

    return app
