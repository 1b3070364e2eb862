"""Text messages to citizens' phones: the one-time codes of self-registration and password reset.

`SmsGateway` is what the API needs of an SMS provider. `HttpSmsGateway` posts each message as JSON to
the provider's endpoint (`HOSO_SMS_URL`, with `HOSO_SMS_TOKEN` as a bearer token): the shape most
Vietnamese brand-name SMS services (and any adapter in front of them) accept. `FileSmsSink` appends
each message to a file under the data directory instead (`DATA/sms/outbox.jsonl`): the development
gateway, and how the suite reads the codes it was sent. Production refuses the file sink; without a
gateway (`none`, production's default) the routes that send codes answer 503.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from api.messages import Refusal
from api.settings import Settings

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The message could not be handed to the gateway."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Hand `text` to the gateway for `phone` (10 digits), or raise SmsError."""


class FileSmsSink:
    """Messages appended as JSON lines to a file (mode 600), one `write(2)` each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": datetime.now(UTC).isoformat(), "phone": phone, "text": text},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


class HttpSmsGateway:
    """Each message POSTed as `{"to": phone, "text": text, "sender": brand}` with a bearer token; any
    answer but 2xx, or no answer within the timeout, is an SmsError."""

    def __init__(self, url: str, token: str, sender: str, timeout: float = 10.0) -> None:
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    def send(self, phone: str, text: str) -> None:
        try:
            answer = httpx.post(self.url, json={"to": phone, "text": text, "sender": self.sender},
                                headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SmsError(f"the SMS gateway did not answer: {type(exc).__name__}") from exc
        if not answer.is_success:
            raise SmsError(f"the SMS gateway answered {answer.status_code}")


class NoSms:
    """No gateway configured: every message is refused (and what needs one answers 503 first)."""

    def send(self, phone: str, text: str) -> None:
        raise SmsError("no SMS gateway is configured (HOSO_SMS_GATEWAY)")


def sms_gateway(settings: Settings) -> SmsGateway:
    """The gateway the settings name."""
    if settings.sms_mode == "none":
        return NoSms()
    if settings.sms_mode == "http":
        assert settings.sms_url is not None and settings.sms_token is not None  # checked by Settings
        return HttpSmsGateway(settings.sms_url, settings.sms_token.get_secret_value(), settings.sms_sender)
    return FileSmsSink(settings.data_path / "sms" / "outbox.jsonl")


def need_sms(settings: Settings) -> None:
    """A 503 when no SMS gateway is configured: a code could not reach anyone."""
    if settings.sms_mode == "none":
        raise Refusal(503, "no SMS gateway is configured: set HOSO_SMS_GATEWAY")


def send_logged(settings: Settings, phone: str, text: str) -> None:
    """Send through the configured gateway after an answer has gone (a background task): a failure is
    logged, as nobody is waiting for it."""
    try:
        sms_gateway(settings).send(phone, text)
    except SmsError as exc:
        log.warning("a text message was not sent: %s", exc)
