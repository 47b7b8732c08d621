"""The `alerts:` section of config/settings.yaml, checked: a mistake is a ConfigError naming the file, line and key.

    alerts:
      webhooks:
        - url: https://hooks.example.vn/unionfeed
          secret_env: UNIONFEED_WEBHOOK_SECRET   # the variable holding the shared HMAC secret (never the secret)
          timeout: 10                            # seconds per attempt
          retries: 3                             # attempts after the first, with backoff doubling from `backoff`
          queries: [dai-hoi-thanh-hoa]           # optional: only the new meeting reports these saved queries find
      email:
        host: smtp.example.vn
        port: 587
        security: starttls                       # starttls | ssl | none
        username_env: UNIONFEED_SMTP_USER
        password_env: UNIONFEED_SMTP_PASSWORD
        from: "unionfeed <canh-bao@example.vn>"
        to: [van-phong@example.vn]               # a recipient group (optional when `groups` names some)
        queries: [giao-duc]                      # optional, for `to`
        groups:                                  # more recipient groups on the same server, each its own channel
          - to: [tuyen-giao@example.vn]
            queries: [dai-hoi-thanh-hoa, giao-duc]
      max_items: 50                              # meeting reports named in one message at most

Each webhook and each recipient group is a channel. `queries` names saved queries of settings.yaml
(`saved_queries:`): the channel is sent only the new meeting reports one of them finds (feed.alerts.matching); without
`queries` it is sent every new meeting report. Source breakages and recoveries go to every channel. A name that is
not a saved query is a ConfigError naming the channel and the query.

Secrets are read from environment variables named in the file, never written in it; a named variable that is not
set is a ConfigError naming the variable. Nothing here ever prints a secret (the dataclasses hide them from repr).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from feed.config.settings import Settings
from feed.config.sources import ConfigError

SECURITY = ("starttls", "ssl", "none")
_PARENT = re.compile(r"(\[[0-9]+\]|\.[^.\[]*)$")  # "a.b[0].c" -> "a.b[0]" -> "a.b" -> "a"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^<>]*<[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>$")


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str = field(repr=False)
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 2.0  # seconds before the first retry; doubled each time
    queries: tuple[str, ...] = ()  # saved queries followed; () = every new meeting report

    @property
    def channel(self) -> str:
        """How the webhook is named in state, logs and messages: its host and a digest of the whole URL, never its
        path or query (receivers often put a token there) or a user and password."""
        parts = urlsplit(self.url)
        host = f"{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        return f"webhook {parts.scheme}://{host}/… #{hashlib.sha256(self.url.encode('utf-8')).hexdigest()[:10]}"


@dataclass(frozen=True)
class Email:
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 20.0
    retries: int = 2
    backoff: float = 5.0
    queries: tuple[str, ...] = ()  # saved queries followed; () = every new meeting report

    @property
    def channel(self) -> str:
        return f"email {','.join(self.to)}"


@dataclass(frozen=True)
class AlertConfig:
    webhooks: tuple[Webhook, ...] = ()
    emails: tuple[Email, ...] = ()  # one per recipient group, all on the same SMTP server
    max_items: int = 50
    saved_queries: dict[str, dict[str, str]] = field(default_factory=dict)  # the settings' saved queries, by name

    @property
    def channels(self) -> list[Webhook | Email]:
        return [*self.webhooks, *self.emails]


class _Reader:
    """Checks one section, raising ConfigError at the line of the key (or of its nearest written parent)."""

    def __init__(self, origin: str, lines: dict[str, int]) -> None:
        self.origin, self.lines = origin, lines

    def fail(self, key: str, message: str) -> ConfigError:
        probe = key
        while probe and probe not in self.lines:
            shorter = _PARENT.sub("", probe)
            probe = shorter if shorter != probe else ""
        line = self.lines.get(probe)
        return ConfigError(f"{self.origin}{f':{line}' if line else ''}: {key}: {message}")

    def mapping(self, key: str, value: Any, known: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in known)
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}", f"unknown setting (known: {', '.join(sorted(known))})")
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected text, got {value!r}")
        return value.strip()

    def number(self, key: str, value: Any, low: float, high: float, whole: bool = False) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or (whole and value != int(value)):
            raise self.fail(key, f"expected a {'whole ' if whole else ''}number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low:g} and {high:g}, got {value!r}")
        return int(value) if whole else float(value)

    def queries(self, key: str, value: Any, channel: str, saved: dict[str, dict[str, str]]) -> tuple[str, ...]:
        """The saved queries a channel follows, each checked to be one of settings.yaml's `saved_queries`."""
        if value is None:
            return ()
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            raise self.fail(
                key, f"expected one or more saved query names, got {value!r} (leave it out to send every report)"
            )
        out: list[str] = []
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise self.fail(key, f"expected the name of a saved query, got {name!r}")
            if name.strip() not in saved:
                known = ", ".join(sorted(saved)) or "none: settings.yaml has no saved_queries"
                raise self.fail(
                    key, f"channel {channel} follows {name.strip()!r}, which is not a saved query (saved: {known})"
                )
            if name.strip() not in out:
                out.append(name.strip())
        return tuple(out)

    def secret(self, key: str, value: Any, *, required: bool) -> str | None:
        if value is None and not required:
            return None
        name = self.text(key, value)
        if not _ENV_NAME.match(name):
            raise self.fail(key, f"expected the name of an environment variable, got {name!r}")
        found = os.environ.get(name)
        if not found:
            raise self.fail(key, f"the environment variable {name} is not set (the secret is read from it)")
        return found


def load_alerts(settings: Settings) -> AlertConfig | None:
    """The alerts configured in settings (None when there are none); ConfigError for any mistake."""
    section = settings.alerts
    if section is None or not section.values:
        return None
    r = _Reader(section.origin, section.lines)
    saved = settings.saved_queries
    raw = r.mapping("alerts", section.values, {"webhooks", "email", "max_items"})
    webhooks = []
    hooks = raw.get("webhooks") or []
    if not isinstance(hooks, list):
        raise r.fail("alerts.webhooks", f"expected a list of webhooks, got {type(hooks).__name__}")
    for n, hook in enumerate(hooks):
        key = f"alerts.webhooks[{n}]"
        hook = r.mapping(key, hook, {"url", "secret_env", "timeout", "retries", "backoff", "queries"})
        url = r.text(f"{key}.url", hook.get("url"))
        if not url.startswith(("http://", "https://")):
            raise r.fail(f"{key}.url", f"expected an http(s) URL, got {url!r}")
        made = Webhook(
            url,
            r.secret(f"{key}.secret_env", hook.get("secret_env"), required=True) or "",
            r.number(f"{key}.timeout", hook.get("timeout", 10), 0.1, 300),
            r.number(f"{key}.retries", hook.get("retries", 3), 0, 10, whole=True),
            r.number(f"{key}.backoff", hook.get("backoff", 2.0), 0, 600),
        )
        webhooks.append(replace(made, queries=r.queries(f"{key}.queries", hook.get("queries"), made.channel, saved)))
    emails = _emails(r, raw["email"], saved) if raw.get("email") is not None else []
    max_items = r.number("alerts.max_items", raw.get("max_items", 50), 1, 1000, whole=True)
    if not webhooks and not emails:
        raise r.fail("alerts", "names no webhook and no e-mail: remove the section or add one")
    seen: set[str] = set()
    channels: list[Webhook | Email] = [*webhooks, *emails]
    for channel in channels:
        if channel.channel in seen:
            raise r.fail("alerts", f"two channels are both {channel.channel!r}: give each webhook or group once")
        seen.add(channel.channel)
    used = {name for channel in channels for name in channel.queries}
    return AlertConfig(tuple(webhooks), tuple(emails), max_items, {k: v for k, v in saved.items() if k in used})


def _emails(r: _Reader, value: Any, saved: dict[str, dict[str, str]]) -> list[Email]:
    """One Email channel per recipient group: `to` (with its `queries`) and each of `groups`."""
    known = {
        "host",
        "port",
        "security",
        "username_env",
        "password_env",
        "from",
        "to",
        "queries",
        "groups",
        "timeout",
        "retries",
        "backoff",
    }
    mail = r.mapping("alerts.email", value, known)
    sender = r.text("alerts.email.from", mail.get("from"))
    if not _ADDRESS.match(sender):
        raise r.fail("alerts.email", f"not an e-mail address: {sender!r}")
    security = mail.get("security", "starttls")
    if security not in SECURITY:
        raise r.fail("alerts.email.security", f"expected one of {', '.join(SECURITY)}, got {security!r}")
    username = r.secret("alerts.email.username_env", mail.get("username_env"), required=False)
    password = r.secret("alerts.email.password_env", mail.get("password_env"), required=username is not None)
    server = Email(
        r.text("alerts.email.host", mail.get("host")),
        sender,
        (),
        r.number("alerts.email.port", mail.get("port", 587), 1, 65535, whole=True),
        security,
        username,
        password,
        r.number("alerts.email.timeout", mail.get("timeout", 20), 0.1, 300),
        r.number("alerts.email.retries", mail.get("retries", 2), 0, 10, whole=True),
        r.number("alerts.email.backoff", mail.get("backoff", 5.0), 0, 600),
    )
    written: list[tuple[str, Any, Any]] = []  # (key, to, queries) of each recipient group
    groups = mail.get("groups")
    if groups is not None and (not isinstance(groups, list) or not groups):
        raise r.fail("alerts.email.groups", f"expected a list of recipient groups ({{to, queries}}), got {groups!r}")
    if mail.get("to") is not None or not groups:
        written.append(("alerts.email", mail.get("to"), mail.get("queries")))
    elif mail.get("queries") is not None:
        raise r.fail("alerts.email.queries", "names saved queries for no `to`: put them in a group, beside its `to`")
    for n, group in enumerate(groups or []):
        key = f"alerts.email.groups[{n}]"
        group = r.mapping(key, group, {"to", "queries"})
        written.append((key, group.get("to"), group.get("queries")))
    out = []
    for key, to, queries in written:
        addresses = _addresses(r, f"{key}.to", to)
        channel = replace(server, to=addresses)
        out.append(replace(channel, queries=r.queries(f"{key}.queries", queries, channel.channel, saved)))
    return out


def _addresses(r: _Reader, key: str, value: Any) -> tuple[str, ...]:
    to = [value] if isinstance(value, str) else value
    if not isinstance(to, list) or not to:
        raise r.fail(key, f"expected one or more addresses, got {value!r}")
    addresses = tuple(r.text(key, a) for a in to)
    for address in addresses:
        if not _ADDRESS.match(address):
            raise r.fail(key, f"not an e-mail address: {address!r}")
    return addresses
