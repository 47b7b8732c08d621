"""Alerts (feed.alerts) against real receivers on loopback: a webhook receiver (http.server) checking the HMAC
signature, and a real SMTP server (aiosmtpd); the news comes from a real publish of a real SQLite store and the
health events it keeps. Retry after a 500, nothing sent twice, nothing skipped after a failure, a hanging receiver
that holds neither the scheduler's publishes nor its crawls, settings checked with the file's line."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from feed.alerts.config import load_alerts
from feed.alerts.run import AlertsWorker, send_alerts
from feed.alerts.state import STATE_FILE
from feed.app.cli import main
from feed.app.scheduler import Runner
from feed.config.settings import AlertsSection, load_settings
from feed.config.sources import ConfigError
from feed.publish.publisher import publish
from feed.store.schema import HealthEvent

from .support.feedworld import VN, Art, World, add_article, make_world

SECRET = "bí-mật-chung-của-công-đoàn"
SECRET_ENV = "UNIONFEED_TEST_HOOK_SECRET"
NEW_MEETING = Art(
    "dai-hoi-co-so",
    "ldld-mau",
    "Đại hội Công đoàn cơ sở Công ty May Mẫu lần thứ III, nhiệm kỳ 2026–2031",
    "Sáng 2/8, Đại hội Công đoàn cơ sở Công ty May Mẫu diễn ra với 120 đại biểu đại diện cho 1.800 đoàn viên.\n\n"
    "Đại hội bầu Ban Chấp hành khóa mới gồm 9 đồng chí.",
    datetime(2026, 8, 2, 11, 0, tzinfo=VN),
    "dai_hoi",
    "Công đoàn cơ sở Công ty May Mẫu",
    held_on="2026-08-02",
    location="Hội trường Công ty May Mẫu",
)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers each POST with the next of `replies` (then 200); while `hold` is
    clear, a request waits for it (a receiver that hangs)."""

    replies: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def __post_init__(self) -> None:
        self.hold.set()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            state.hold.wait(30)
            code = state.replies.pop(0) if state.replies else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    state.hold.set()
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    world = make_world(tmp_path)
    publish(world.store, world.settings, world.sources)
    yield world
    world.store.close()


def with_alerts(world: World, values: dict[str, Any]) -> World:
    return replace(world, settings=replace(world.settings, alerts=AlertsSection(values, "settings.yaml", {})))


def hook(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "secret_env": SECRET_ENV, "timeout": 5, "retries": 2, "backoff": 0.01, **extra}


def add_event(world: World, slug: str, state: str, seq: int) -> None:
    reasons = [{"code": "failing", "text": "the last 3 runs failed", "text_vi": "3 lần thu thập gần nhất đều lỗi"}]
    with world.store.session() as s:
        s.add(HealthEvent(source_slug=slug, seq=seq, at=datetime.now(UTC), state=state, reasons=reasons))


def payloads(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in receiver.requests]


@pytest.mark.reliability("alert-receiver-fails")
def test_webhook_and_email_digest_once_each(world: World, receiver: Receiver, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    world = with_alerts(
        world,
        {
            "webhooks": [hook(receiver.url)],
            "email": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "from": "unionfeed <canh-bao@mau.vn>",
                "to": ["van-phong@ldld-mau.vn"],
                "timeout": 5,
                "retries": 1,
                "backoff": 0.01,
            },
        },
    )
    # The first alert starts each channel from now: the meetings already published are not announced.
    first = send_alerts(world.settings, world.store)
    assert [o.status for o in first] == ["started", "started"]
    assert receiver.requests == [] and box.messages == []
    # A new meeting report is published and a source breaks.
    add_article(world.store, NEW_MEETING, datetime(2026, 8, 2, 12, 0, tzinfo=VN))
    add_event(world, "bao-mau", "broken", 1)
    publish(world.store, world.settings, world.sources)
    receiver.replies = [500]  # the receiver fails once: the same message is sent again
    sent = send_alerts(world.settings, world.store)
    assert [o.status for o in sent] == ["sent", "sent"], sent
    assert len(receiver.requests) == 2
    (h1, b1), (h2, b2) = receiver.requests
    assert b1 == b2 and h1["x-unionfeed-delivery"] == h2["x-unionfeed-delivery"]
    expected = "sha256=" + hmac.new(SECRET.encode("utf-8"), b1, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h1["x-unionfeed-signature"], expected)
    assert h1["content-type"] == "application/json; charset=utf-8"
    body = json.loads(b1)
    feed = json.loads((world.settings.public / "feeds/meetings.json").read_text(encoding="utf-8"))
    guid = next(i["id"] for i in feed["items"] if i["title"] == NEW_MEETING.title)
    assert [(m["id"], m["title"], m["held_on"], m["location"]) for m in body["meetings"]] == [
        (guid, NEW_MEETING.title, "2026-08-02", "Hội trường Công ty May Mẫu")
    ]
    assert [(h["source"], h["state"]) for h in body["health"]] == [("bao-mau", "broken")]
    assert SECRET not in b1.decode("utf-8")
    (mail,) = box.messages
    assert mail["Subject"] == "unionfeed: 1 tin hội nghị mới, 1 nguồn gặp sự cố"
    text = mail.get_content()
    assert NEW_MEETING.title in text and "bao-mau gặp sự cố" in text and "3 lần thu thập gần nhất đều lỗi" in text
    # Nothing new: nothing sent, on either channel.
    assert [o.status for o in send_alerts(world.settings, world.store)] == ["nothing", "nothing"]
    assert len(receiver.requests) == 2 and len(box.messages) == 1
    # The source recovers: only that is told.
    add_event(world, "bao-mau", "ok", 2)
    assert [o.status for o in send_alerts(world.settings, world.store)] == ["sent", "sent"]
    assert [(h["source"], h["state"]) for h in payloads(receiver)[-1]["health"]] == [("bao-mau", "ok")]
    assert payloads(receiver)[-1]["meetings"] == []
    assert box.messages[-1]["Subject"] == "unionfeed: 1 nguồn hoạt động trở lại"


@pytest.mark.reliability("alert-receiver-fails")
def test_a_failed_alert_is_sent_later_not_skipped(world: World, receiver: Receiver) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    alerting = with_alerts(world, {"webhooks": [hook(dead, retries=1)]})
    send_alerts(alerting.settings, alerting.store)
    add_article(world.store, NEW_MEETING, datetime(2026, 8, 2, 12, 0, tzinfo=VN))
    publish(world.store, world.settings, world.sources)
    (failed,) = send_alerts(alerting.settings, alerting.store)
    assert failed.status == "failed" and "not delivered after 2 attempts" in failed.detail
    # The receiver refuses with a 4xx: final for this run, kept for the next.
    refusing = with_alerts(world, {"webhooks": [hook(receiver.url)]})
    state = json.loads((world.settings.data / STATE_FILE).read_text(encoding="utf-8"))
    old_key, new_key = (load_alerts(w.settings).webhooks[0].channel for w in (alerting, refusing))  # type: ignore[union-attr]
    assert receiver.url not in new_key and new_key.startswith("webhook http://127.0.0.1:")  # no path: tokens live there
    state["channels"][new_key] = state["channels"].pop(old_key)
    (world.settings.data / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    receiver.replies = [403]
    (refused,) = send_alerts(refusing.settings, refusing.store)
    assert refused.status == "failed" and "HTTP 403 (not retried)" in refused.detail and len(receiver.requests) == 1
    (sent,) = send_alerts(refusing.settings, refusing.store)
    assert sent.status == "sent"
    assert [m["title"] for m in payloads(receiver)[-1]["meetings"]] == [NEW_MEETING.title]
    assert send_alerts(refusing.settings, refusing.store)[0].status == "nothing"


@pytest.mark.reliability("alert-receiver-hangs")
def test_a_hanging_receiver_holds_no_publish(world: World, receiver: Receiver) -> None:
    alerting = with_alerts(world, {"webhooks": [hook(receiver.url, timeout=30)]})
    settings = alerting.settings
    config = load_alerts(settings)
    assert config is not None
    send_alerts(settings, world.store, config)  # the channel starts from now

    def publish_here(settings_: Any, stop: threading.Event) -> int:
        publish(world.store, settings_, world.sources)
        return 0

    runner = Runner(settings, world.sources, publish=publish_here)
    runner.alerts = AlertsWorker(settings, runner.store, config, runner.stopping)
    thread = runner.alerts.start()
    try:
        receiver.hold.clear()  # the receiver takes requests and never answers, until released
        add_article(world.store, NEW_MEETING, datetime(2026, 8, 2, 12, 0, tzinfo=VN))
        runner.publish()
        while not receiver.requests:  # the alerts thread is now waiting on the receiver
            receiver.hold.wait(0.02)
        runner.publish()  # publishing goes on meanwhile, twice
        assert runner.counts["published"] == 2 and runner.alerts.rounds == 0
        feed = json.loads((settings.public / "feeds/meetings.json").read_text(encoding="utf-8"))
        assert NEW_MEETING.title in {i["title"] for i in feed["items"]}
        receiver.replies = [503]
        receiver.hold.set()  # the receiver answers 503, then accepts the retry
        while runner.alerts.rounds == 0:
            receiver.hold.wait(0.02)
        assert runner.alerts.recent[0].status == "sent"  # the round the second publish asked for may follow
        assert len(receiver.requests) == 2 and receiver.requests[0][1] == receiver.requests[1][1]  # 503, then 200
        assert [m["title"] for m in payloads(receiver)[-1]["meetings"]] == [NEW_MEETING.title]
    finally:
        receiver.hold.set()
        runner.stopping.set()
        thread.join(10)
        runner.close()


def test_settings_are_checked_with_their_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
    settings_file = tmp_path / "settings.yaml"

    def load(text: str) -> Any:
        settings_file.write_text(text, encoding="utf-8")
        return load_alerts(load_settings(tmp_path / "sources.yaml"))

    monkeypatch.delenv(SECRET_ENV, raising=False)
    text = f"feed_limit: 50\nalerts:\n  webhooks:\n    - url: http://127.0.0.1:9/hook\n      secret_env: {SECRET_ENV}\n"
    with pytest.raises(
        ConfigError, match=rf"settings.yaml:3: alerts.webhooks\[0\].secret_env: .*{SECRET_ENV} is not set"
    ):
        load(text)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = load(text)
    assert config is not None and config.webhooks[0].secret == SECRET and SECRET not in repr(config)
    with pytest.raises(ConfigError, match=r"settings.yaml:3: alerts.webhooks\[0\].url: expected an http\(s\) URL"):
        load("alerts:\n  email: null\n  webhooks:\n    - url: ftp://x\n      secret_env: X\n")
    with pytest.raises(ConfigError, match=r"settings.yaml:2: alerts.email.security: expected one of starttls, ssl"):
        load("alerts:\n  email: {host: smtp.mau.vn, from: a@mau.vn, to: b@mau.vn, security: tls}\n")
    with pytest.raises(ConfigError, match=r"settings.yaml:1: alerts: expected a mapping"):
        load("alerts: [1]\n")
    assert load("feed_limit: 50\n") is None


def test_alerts_test_command(world: World, receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    config = world.settings.data / "config"
    config.mkdir()
    (config / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
    (config / "settings.yaml").write_text(
        f"alerts:\n  webhooks:\n    - {{url: '{receiver.url}', secret_env: {SECRET_ENV}, backoff: 0.01}}\n",
        encoding="utf-8",
    )
    args = ["alerts", "test", "--config", str(config / "sources.yaml"), "--data", str(world.settings.data)]
    assert main(args) == 0
    assert payloads(receiver) == [
        {"type": "unionfeed.test", "site": "http://localhost:8080/", "meetings": [], "health": []}
    ]
    assert ": sent (1 attempt(s))" in capsys.readouterr().out
    receiver.replies = [500, 500, 500, 500]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "not delivered after 4 attempts: HTTP 500" in err and SECRET not in err
    (config / "settings.yaml").write_text("feed_limit: 50\n", encoding="utf-8")
    assert main(args) == 2
    assert "no `alerts:` section" in capsys.readouterr().err
