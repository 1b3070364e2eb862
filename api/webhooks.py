"""Webhooks: the change feed pushed to the connected systems that registered an address.

An admin registers an address and a province (`POST /webhooks`); the answer holds the webhook's secret,
shown that once. A deliverer thread (one per data directory: an exclusive `flock` on
`DATA/webhooks.lock`, as the job worker has) posts each webhook the events of its province after its
cursor, up to `BATCH` at a time, as JSON:

    {"webhook": "wh-…", "events": [{"seq": 41, "type": "record_linked", …}, …]}

with `X-HoSo-Signature: sha256=<HMAC-SHA256 of the body with the secret>` and `X-HoSo-Delivery` (an id
per attempt). A 2xx answer moves the cursor past the batch; anything else (an error status, a refused
connection, a timeout) leaves it where it was and waits before the next try, twice as long after each
failure up to an hour. Delivery is at least once: a system drops an event whose `seq` it has applied.
Each delivered person is in the audit trail, as the account `webhook:<id>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import uuid
from typing import Any

import httpx
from neo4j import Driver

from api.audit import AuditLog, person_hash
from api.settings import Settings
from graph import default_registry, feed_after
from linkage import exclusive

log = logging.getLogger(__name__)
BATCH = 100
ROUNDS = 50  # full batches delivered to one webhook in one pass, before the others get their turn
TIMEOUT_SECONDS = 10.0
MAX_DELAY_SECONDS = 3600
SIGNATURE_HEADER = "X-HoSo-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`: what a receiver recomputes with the secret it was given."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(failures: int) -> int:
    """Seconds before the next try after `failures` failures in a row: 2, 4, 8, … up to an hour."""
    return int(min(MAX_DELAY_SECONDS, 2 ** min(failures, 12)))


class WebhookDeliverer:
    """Delivers due webhooks in a daemon thread, every `poll_seconds`."""

    def __init__(self, settings: Settings, driver: Driver, database: str, audit_log: AuditLog,
                 poll_seconds: float = 2.0) -> None:
        self.settings = settings
        self.driver = driver
        self.database = database
        self.audit_log = audit_log
        self.poll_seconds = poll_seconds
        self.queries = default_registry()
        self._lock_path = settings.data_path / "webhooks.lock"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hoso-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # the deliverer outlives any one failure; each webhook records its own
                log.exception("webhook deliverer")
            self._stop.wait(self.poll_seconds)

    def deliver_due(self) -> int:
        """Deliver to each due webhook with events waiting, batch after batch while it is behind (if no other
        process delivers); returns how many deliveries were acknowledged."""
        delivered = 0
        with exclusive(self._lock_path, wait=False) as mine:
            if not mine:
                return 0
            for row in self.queries.read(self.driver, "webhooks/due", database=self.database):
                if self._stop.is_set():
                    break
                hook = dict(row)
                for _ in range(ROUNDS):  # a webhook that is behind catches up batch after batch
                    sent, hook["after"] = self._deliver(hook)
                    delivered += bool(sent)
                    hook["failures"] = 0 if sent else hook["failures"]
                    if sent < BATCH:
                        break
        return delivered

    def _deliver(self, hook: dict[str, Any]) -> tuple[int, int]:
        """Post the next batch of `hook`'s events; returns how many were acknowledged and the cursor."""
        events = feed_after(self.driver, hook["after"], BATCH, hook["province"], self.database)
        if not events:
            return 0, hook["after"]
        body = json.dumps({"webhook": hook["webhook_id"], "events": events}, ensure_ascii=False,
                          separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(hook["secret"], body),
                   "X-HoSo-Delivery": str(uuid.uuid4()), "User-Agent": "HoSo-webhooks"}
        try:
            answer = self._client.post(hook["url"], content=body, headers=headers)
            error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        if error is not None:
            self.queries.write(self.driver, "webhooks/failed", database=self.database, webhook_id=hook["webhook_id"],
                               error=error, delay_seconds=retry_delay(hook["failures"] + 1))
            log.warning("webhook %s: delivery failed (%s)", hook["webhook_id"], error)
            return 0, hook["after"]
        after = int(events[-1]["seq"])
        self.queries.write(self.driver, "webhooks/delivered", database=self.database, webhook_id=hook["webhook_id"],
                           after=after)
        persons = dict.fromkeys(p for e in events for p in (e["person_id"], e.get("other_person_id")) if p)
        for person in persons:
            self.audit_log.record({"username": f"webhook:{hook['webhook_id']}", "role": "system", "method": "POST",
                                   "endpoint": "webhook", "status": 200,
                                   "person_hash": person_hash(person, self.settings), "client": None})
        return len(events), after
