"""Delivering one message to one channel, with a timeout on every attempt and a bounded number of retries.

Webhook: a JSON POST (UTF-8), signed: `X-Unionfeed-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes
with the shared secret>`, with `X-Unionfeed-Delivery` (the same on every retry of one message, so a receiver can
drop a repeat) and `X-Unionfeed-Event`. Retried after a 5xx, a 429, a timeout or a refused connection, waiting
`backoff` seconds, then twice that, …; any other 4xx is final (retrying a refusal changes nothing).
E-mail: one plain-text UTF-8 message over SMTP (STARTTLS, SSL or none; login when a user is configured), retried
after a temporary failure (4xx replies, timeouts, refused connections).
Every failure is a DeliveryFailed whose message names the channel and the cause, never a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

from feed import __version__
from feed.alerts.config import Email, Webhook

SIGNATURE_HEADER = "X-Unionfeed-Signature"
DELIVERY_HEADER = "X-Unionfeed-Delivery"


class DeliveryFailed(RuntimeError):
    """A message its channel did not accept after every attempt."""


class _Retry(Exception):
    """A failure worth another attempt."""


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _attempts(channel: str, retries: int, backoff: float, once: Callable[[], None], stop: Callable[[], bool]) -> int:
    """Run `once` until it succeeds, at most 1 + retries times; returns the attempts made."""
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            deadline = time.monotonic() + backoff * 2 ** (attempt - 1)
            while time.monotonic() < deadline:
                if stop():
                    raise DeliveryFailed(f"{channel}: stopped before retrying ({last})")
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        try:
            once()
            return attempt + 1
        except _Retry as exc:
            last = str(exc)
    raise DeliveryFailed(f"{channel}: not delivered after {retries + 1} attempts: {last}")


def post_webhook(
    hook: Webhook, payload: dict[str, object], delivery: str, *, stop: Callable[[], bool] = lambda: False
) -> int:
    """POST the payload to the webhook, signed; returns the attempts made, DeliveryFailed when refused."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"unionfeed/{__version__} (alerts)",
        SIGNATURE_HEADER: sign(hook.secret, body),
        DELIVERY_HEADER: delivery,
        "X-Unionfeed-Event": str(payload.get("type", "unionfeed.alert")),
    }

    def once() -> None:
        request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout) as reply:
                reply.read(65536)
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise _Retry(f"HTTP {exc.code}") from None
            raise DeliveryFailed(f"{hook.channel}: refused with HTTP {exc.code} (not retried)") from None
        except TimeoutError:
            raise _Retry(f"no answer within {hook.timeout:g} s") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Retry(f"{type(reason).__name__}: {reason}") from None

    return _attempts(hook.channel, hook.retries, hook.backoff, once, stop)


def send_email(mail: Email, subject: str, text: str, *, stop: Callable[[], bool] = lambda: False) -> int:
    """Send one plain-text message to the configured addresses; returns the attempts made."""
    # MIMEText and Header (base64 words): the modern EmailMessage folds a long Vietnamese subject into encoded
    # words that drop the space between them ("nguồngặp"), which every mail reader then shows.
    message = MIMEText(text, "plain", "utf-8")
    message["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]  # compat32 takes a Header
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="unionfeed.invalid")

    def once() -> None:
        try:
            if mail.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    mail.host, mail.port, timeout=mail.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
            with client:
                if mail.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if mail.username:
                    client.login(mail.username, mail.password or "")
                client.send_message(message)
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Retry(f"SMTP {exc.smtp_code}") from None
            raise DeliveryFailed(f"{mail.channel}: refused with SMTP {exc.smtp_code} (not retried)") from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryFailed(f"{mail.channel}: every recipient was refused (not retried)") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from None

    return _attempts(mail.channel, mail.retries, mail.backoff, once, stop)
