"""Alerts filtered by saved queries (feed.alerts.matching), on real parts: a real store (SQLite, and PostgreSQL when
UNIONFEED_TEST_DATABASE_URL is set) with meeting reports from two provinces and two topics, a real publish, a
webhook receiver (http.server) and a real SMTP server (aiosmtpd) on loopback. Each channel gets exactly the reports
its queries find, written without diacritics; a report two queries find is listed once, under both names; a channel
without queries gets every report; source changes go to every channel; an unknown query is a config error."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from feed.alerts.config import load_alerts
from feed.alerts.digest import published_meetings
from feed.alerts.matching import match_reports
from feed.alerts.run import send_alerts
from feed.alerts.state import STATE_FILE
from feed.app.cli import main
from feed.config.settings import AlertsSection, load_settings
from feed.config.sources import ConfigError, Source
from feed.publish.publisher import publish
from feed.store.search import MAX_LIMIT, SearchQuery, search

from .support.databases import database_url, postgres_url  # noqa: F401  (fixtures)
from .support.feedworld import SOURCES, VN, Art, World, add_article, join_cluster, make_world
from .test_alerts import SECRET, SECRET_ENV, Mailbox, Receiver, add_event, hook, mailbox, payloads, receiver  # noqa: F401

SAVED = {  # written without diacritics, as people type them
    "dai-hoi-thanh-hoa": {"q": "dai hoi", "province": "thanh hoa"},
    "giao-duc": {"org": "cong doan giao duc"},
}
PROVINCES = {"ldld-mau": "Thanh Hóa", "bao-mau": "Thanh Hóa", "cd-nganh-mau": "Nghệ An"}
BOTH = Art(  # đại hội, in Thanh Hóa, organised by an education union: both queries find it
    "dh-lam-son",
    "ldld-mau",
    "Đại hội Công đoàn Trường THPT chuyên Lam Sơn lần thứ X, nhiệm kỳ 2026–2031",
    "Sáng 12/9, Đại hội Công đoàn Trường THPT chuyên Lam Sơn diễn ra với 95 đoàn viên tham dự.\n\n"
    "Đại hội bầu Ban Chấp hành khóa X gồm 7 đồng chí, thông qua chương trình chăm lo đời sống nhà giáo.",
    datetime(2026, 9, 12, 10, 0, tzinfo=VN),
    "dai_hoi",
    "Công đoàn Giáo dục tỉnh Thanh Hóa",
    held_on="2026-09-12",
    location="Hội trường Trường THPT chuyên Lam Sơn",
)
THANH_HOA = Art(  # đại hội in Thanh Hóa, not education
    "dh-nghi-son",
    "bao-mau",
    "Đại hội Công đoàn Khu kinh tế Nghi Sơn lần thứ IV thành công tốt đẹp",
    "Ngày 10/9, Đại hội Công đoàn Khu kinh tế Nghi Sơn và các khu công nghiệp tỉnh khai mạc với 150 đại biểu.\n\n"
    "Đại hội đề ra mục tiêu phát triển 5.000 đoàn viên mới trong nhiệm kỳ.",
    datetime(2026, 9, 10, 9, 0, tzinfo=VN),
    "dai_hoi",
    "Công đoàn Khu kinh tế Nghi Sơn",
    held_on="2026-09-10",
    location="Thị xã Nghi Sơn",
)
EDUCATION = Art(  # education, in Nghệ An, not a congress
    "bch-giao-duc-nghe-an",
    "cd-nganh-mau",
    "Hội nghị Ban Chấp hành Công đoàn Giáo dục Nghệ An bàn về chế độ cho giáo viên mầm non",
    "Chiều 11/9, Ban Chấp hành Công đoàn Giáo dục tỉnh Nghệ An họp phiên thường kỳ quý III.\n\n"
    "Hội nghị thống nhất kiến nghị tăng phụ cấp cho giáo viên mầm non ngoài công lập.",
    datetime(2026, 9, 11, 15, 0, tzinfo=VN),
    "hoi_nghi_bch",
    "Công đoàn Giáo dục tỉnh Nghệ An",
    held_on="2026-09-11",
)
NEITHER = Art(  # đại hội, but in Nghệ An and not education
    "dh-y-te-nghe-an",
    "cd-nganh-mau",
    "Đại hội Công đoàn ngành Y tế Nghệ An nhiệm kỳ 2026–2031",
    "Sáng 9/9, Đại hội Công đoàn ngành Y tế tỉnh Nghệ An khai mạc tại thành phố Vinh.",
    datetime(2026, 9, 9, 8, 0, tzinfo=VN),
    "dai_hoi",
    "Công đoàn ngành Y tế Nghệ An",
    held_on="2026-09-09",
)
NEWS = Art(  # names a congress in Thanh Hóa, but it is not a meeting report: never an alert
    "tin-dai-hoi",
    "bao-mau",
    "Thanh Hóa chuẩn bị đại hội công đoàn các cấp",
    "Các công đoàn cơ sở trong tỉnh đang chuẩn bị văn kiện đại hội.",
    datetime(2026, 9, 12, 11, 0, tzinfo=VN),
)


def with_provinces(world: World) -> list[Source]:
    return [s.model_copy(update={"province": PROVINCES.get(s.slug)}) for s in world.sources]


def mail_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "unionfeed <canh-bao@ldld-thanhhoa.vn>",
        "timeout": 5,
        "retries": 1,
        "backoff": 0.01,
        **extra,
    }


def alerting(world: World, values: dict[str, Any], saved: dict[str, dict[str, str]] = SAVED) -> World:
    section = AlertsSection(values, "settings.yaml", {})
    return replace(world, settings=replace(world.settings, saved_queries=saved, alerts=section))


def mail_to(box: Mailbox, address: str) -> list[tuple[str, str]]:
    """(subject, text) of each message to the address."""
    return [(str(m["Subject"]), m.get_content()) for m in box.messages if address in str(m["To"])]


def titles_in(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("* ") and "lúc" not in line]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[World]:  # noqa: F811
    monkeypatch.setenv(SECRET_ENV, SECRET)
    world = make_world(tmp_path, db_url=database_url)
    world = replace(world, sources=with_provinces(world))
    publish(world.store, world.settings, world.sources)
    yield world
    world.store.close()


def publish_new(world: World, *arts: Art) -> None:
    for art in arts:
        add_article(world.store, art, datetime(2026, 9, 12, 12, 0, tzinfo=VN))
    publish(world.store, world.settings, world.sources)


def test_each_channel_gets_what_its_queries_find(
    world: World,
    receiver: Receiver,  # noqa: F811
    mailbox: tuple[Mailbox, int],  # noqa: F811
) -> None:
    box, port = mailbox
    world = alerting(
        world,
        {
            "webhooks": [hook(receiver.url, queries=["dai-hoi-thanh-hoa"])],
            "email": mail_settings(
                port,
                to=["van-phong@ldld-thanhhoa.vn"],  # no queries: every report, as before
                groups=[
                    {"to": ["tuyen-giao@ldld-thanhhoa.vn"], "queries": ["dai-hoi-thanh-hoa", "giao-duc"]},
                    {"to": "giao-duc@ldld-thanhhoa.vn", "queries": "giao-duc"},
                ],
            ),
        },
    )
    assert [o.status for o in send_alerts(world.settings, world.store, sources=world.sources)] == ["started"] * 4
    publish_new(world, BOTH, THANH_HOA, EDUCATION, NEITHER, NEWS)
    add_event(world, "bao-mau", "broken", 1)
    receiver.replies = [500, 500, 500]  # the webhook fails this round (1 + 2 attempts): its reports wait
    outcomes = send_alerts(world.settings, world.store, sources=world.sources)
    assert [o.status for o in outcomes] == ["failed", "sent", "sent", "sent"] and "HTTP 500" in outcomes[0].detail
    outcomes = send_alerts(world.settings, world.store, sources=world.sources)
    assert [o.status for o in outcomes] == ["sent", "nothing", "nothing", "nothing"]
    assert outcomes[0].detail.startswith("2 meeting reports, 1 source changes")

    # The webhook: the two đại hội reports of Thanh Hóa, each with the query that found it, and the broken source.
    body = payloads(receiver)[-1]
    assert [(m["title"], m["queries"]) for m in body["meetings"]] == [
        (BOTH.title, ["dai-hoi-thanh-hoa"]),
        (THANH_HOA.title, ["dai-hoi-thanh-hoa"]),
    ]
    assert set(body["meetings"][0]) == {
        "id", "title", "url", "published", "source", "kind", "kind_label", "org", "held_on", "location", "queries"
    }  # fmt: skip
    assert [(h["source"], h["state"]) for h in body["health"]] == [("bao-mau", "broken")]
    assert len(payloads(receiver)) == 4 and payloads(receiver)[0] == body  # the failed body, sent again whole

    # The group following both queries: each report once, under the names of the queries that found it.
    ((subject, text),) = mail_to(box, "tuyen-giao@")
    assert subject == "unionfeed: 3 tin hội nghị mới, 1 nguồn gặp sự cố"
    assert unicodedata.is_normalized("NFC", text) and "Hội trường Trường THPT chuyên Lam Sơn" in text
    headings = [line for line in text.splitlines() if line.startswith("TIN HỘI NGHỊ MỚI")]
    assert headings == [
        "TIN HỘI NGHỊ MỚI khớp truy vấn “dai-hoi-thanh-hoa” (Tìm “dai hoi” · Thanh Hóa)",
        "TIN HỘI NGHỊ MỚI khớp truy vấn “dai-hoi-thanh-hoa” (Tìm “dai hoi” · Thanh Hóa) "
        "và “giao-duc” (cong doan giao duc)",
        "TIN HỘI NGHỊ MỚI khớp truy vấn “giao-duc” (cong doan giao duc)",
    ]
    assert titles_in(text) == [THANH_HOA.title, BOTH.title, EDUCATION.title]
    assert "bao-mau gặp sự cố" in text
    # The education group: its two reports; the office (no queries): all four, under one heading, as before.
    ((_, text),) = mail_to(box, "giao-duc@")
    assert titles_in(text) == [BOTH.title, EDUCATION.title]
    ((subject, text),) = mail_to(box, "van-phong@")
    assert subject == "unionfeed: 4 tin hội nghị mới, 1 nguồn gặp sự cố"
    assert titles_in(text) == [BOTH.title, EDUCATION.title, THANH_HOA.title, NEITHER.title]
    assert [line for line in text.splitlines() if line.startswith("TIN HỘI NGHỊ")] == ["TIN HỘI NGHỊ MỚI"]

    # Nothing new: nothing sent to anyone. A report no query finds is decided once (told to no one following queries).
    assert {o.status for o in send_alerts(world.settings, world.store, sources=world.sources)} == {"nothing"}
    state = json.loads((world.settings.data / STATE_FILE).read_text(encoding="utf-8"))["channels"]
    assert all(len(channel["meetings"]) == len(state["email van-phong@ldld-thanhhoa.vn"]["meetings"])
               for channel in state.values())  # fmt: skip
    # A source recovers: every channel hears it, whatever its queries.
    add_event(world, "bao-mau", "ok", 2)
    assert [o.status for o in send_alerts(world.settings, world.store, sources=world.sources)] == ["sent"] * 4
    assert [(h["source"], h["state"]) for h in payloads(receiver)[-1]["health"]] == [("bao-mau", "ok")]
    assert payloads(receiver)[-1]["meetings"] == []
    assert [s for s, _ in mail_to(box, "giao-duc@")][-1] == "unionfeed: 1 nguồn hoạt động trở lại"


@pytest.mark.reliability("alert-query-cannot-run")
def test_a_query_that_cannot_run_holds_its_reports_not_the_source_news(
    world: World,
    receiver: Receiver,  # noqa: F811
) -> None:
    broken = {**SAVED, "sai-tinh": {"q": "dai hoi", "province": "Atlantis"}}
    stuck = alerting(world, {"webhooks": [hook(receiver.url, queries=["sai-tinh", "giao-duc"])]}, broken)
    send_alerts(stuck.settings, stuck.store, sources=stuck.sources)
    publish_new(stuck, BOTH)
    add_event(stuck, "bao-mau", "broken", 1)
    (held,) = send_alerts(stuck.settings, stuck.store, sources=stuck.sources)
    assert held.status == "failed"
    assert "0 meeting reports, 1 source changes" in held.detail
    assert "saved query 'sai-tinh' cannot be run: unknown province 'Atlantis'" in held.detail
    assert [h["state"] for h in payloads(receiver)[-1]["health"]] == ["broken"]
    assert payloads(receiver)[-1]["meetings"] == []
    (again,) = send_alerts(stuck.settings, stuck.store, sources=stuck.sources)  # still held, nothing else to send
    assert again.status == "failed" and len(receiver.requests) == 1
    # The saved query is fixed: the held report goes out, once.
    fixed = alerting(world, stuck.settings.alerts.values, {**broken, "sai-tinh": {"q": "dai hoi"}})  # type: ignore[union-attr]
    (sent,) = send_alerts(fixed.settings, fixed.store, sources=fixed.sources)
    assert sent.status == "sent"
    assert [(m["title"], m["queries"]) for m in payloads(receiver)[-1]["meetings"]] == [
        (BOTH.title, ["sai-tinh", "giao-duc"])
    ]
    assert send_alerts(fixed.settings, fixed.store, sources=fixed.sources)[0].status == "nothing"


def test_unknown_saved_query_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    (tmp_path / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
    saved = "saved_queries:\n  giao-duc: {org: Công đoàn Giáo dục}\n"

    def load(text: str) -> Any:
        (tmp_path / "settings.yaml").write_text(saved + text, encoding="utf-8")
        return load_alerts(load_settings(tmp_path / "sources.yaml"))

    hook_text = f"alerts:\n  webhooks:\n    - url: https://hooks.mau.vn/a/b?token=x\n      secret_env: {SECRET_ENV}\n"
    with pytest.raises(ConfigError) as caught:
        load(hook_text + "      queries: [giao-duc, dai-hoi-thanh-hoa]\n")
    line = str(caught.value)
    assert "\n" not in line and "token" not in line
    where = f"{tmp_path / 'settings.yaml'}:4: alerts.webhooks[0].queries:"
    assert line.startswith(f"{where} channel webhook https://hooks.mau.vn/… #")
    assert line.endswith("follows 'dai-hoi-thanh-hoa', which is not a saved query (saved: giao-duc)")
    mail = "alerts:\n  email:\n    host: smtp.mau.vn\n    from: a@mau.vn\n    groups:\n"
    with pytest.raises(ConfigError, match=r"alerts.email.groups\[1\].queries: channel email c@mau.vn follows 'y-te'"):
        load(mail + "      - {to: b@mau.vn, queries: [giao-duc]}\n      - {to: c@mau.vn, queries: [y-te]}\n")
    with pytest.raises(ConfigError, match=r"alerts.email.queries: expected one or more saved query names, got \[\]"):
        load(mail.replace("    groups:\n", "    to: b@mau.vn\n    queries: []\n"))
    with pytest.raises(ConfigError, match=r"two channels are both 'email b@mau.vn'"):
        load(mail + "      - {to: b@mau.vn}\n      - {to: b@mau.vn, queries: giao-duc}\n")
    config = load(mail + "      - {to: b@mau.vn, queries: [giao-duc, giao-duc]}\n      - {to: [c@mau.vn]}\n")
    assert [(e.channel, e.queries) for e in config.emails] == [
        ("email b@mau.vn", ("giao-duc",)),
        ("email c@mau.vn", ()),
    ]
    assert load(hook_text).webhooks[0].queries == ()


def test_alerts_send_command_reads_queries_and_provinces_from_the_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    world = make_world(tmp_path, db_name="unionfeed.sqlite")  # the store `--data tmp_path` names
    config = tmp_path / "config"
    config.mkdir()
    sources = json.loads(json.dumps(SOURCES))
    for entry in sources["sources"]:
        entry["province"] = PROVINCES.get(entry["slug"])
    (config / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    settings_text = (
        f"saved_queries:\n  dai-hoi-thanh-hoa: {{q: dai hoi, province: thanh hoa}}\nalerts:\n  webhooks:\n"
        f"    - {{url: '{receiver.url}', secret_env: {SECRET_ENV}, backoff: 0.01, queries: [dai-hoi-thanh-ho]}}\n"
    )
    (config / "settings.yaml").write_text(settings_text, encoding="utf-8")
    args = ["alerts", "send", "--config", str(config / "sources.yaml"), "--data", str(tmp_path)]
    assert main(args) == 2  # a typo in the query's name: nothing is sent, one line says which
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "unionfeed: configuration error:" and len(err) == 2
    assert "follows 'dai-hoi-thanh-ho', which is not a saved query (saved: dai-hoi-thanh-hoa)" in err[1]
    (config / "settings.yaml").write_text(settings_text.replace("thanh-ho]", "thanh-hoa]"), encoding="utf-8")
    world = replace(world, sources=with_provinces(world))
    publish(world.store, world.settings, world.sources)
    assert main(args) == 0 and ": started (" in capsys.readouterr().out
    publish_new(world, THANH_HOA, NEITHER)
    world.store.close()
    assert main(args) == 0 and ": sent (1 meeting reports, 0 source changes" in capsys.readouterr().out
    assert [m["title"] for m in payloads(receiver)[-1]["meetings"]] == [THANH_HOA.title]


def test_matching_is_the_query_feeds_rule(world: World) -> None:
    """What a saved query finds among the new reports is what its published feed shows of them, story by story: a
    report from Nghệ An whose copy in a Thanh Hóa paper is in its story is found by the Thanh Hóa query, as in the
    feed; and nothing outside the stories asked about is looked at."""
    copy = Art(
        "dh-y-te-ban-sao",
        "bao-mau",
        "Nghệ An: Đại hội Công đoàn ngành Y tế nhiệm kỳ 2026–2031",
        NEITHER.body,
        datetime(2026, 9, 9, 14, 0, tzinfo=VN),
        "dai_hoi",
        NEITHER.org,
    )
    ids = {art.key: add_article(world.store, art, datetime(2026, 9, 12, tzinfo=VN)) for art in (NEITHER, copy)}
    join_cluster(world.store, ids[NEITHER.key], ids[copy.key])
    settings = replace(world.settings, saved_queries=SAVED)
    publish_new(replace(world, settings=settings), BOTH, THANH_HOA, EDUCATION, NEWS)
    reports = [m for m in published_meetings(settings.public) if m["published"] >= "2026-09"]
    assert sorted(m["title"] for m in reports) == sorted(a.title for a in (BOTH, THANH_HOA, EDUCATION, NEITHER))
    matches = match_reports(world.store, world.sources, SAVED, SAVED, reports)
    assert not matches.failed
    for name in SAVED:
        feed = json.loads((settings.public / f"feeds/query-{name}.json").read_text(encoding="utf-8"))
        assert matches.found[name] == {i["id"] for i in feed["items"]} & {m["id"] for m in reports}, name
    story = next(m for m in reports if m["title"] == NEITHER.title)
    assert story["id"] in matches.found["dai-hoi-thanh-hoa"]  # found through its Thanh Hóa copy
    assert matches.titles == {"dai-hoi-thanh-hoa": "Tìm “dai hoi” · Thanh Hóa", "giao-duc": "cong doan giao duc"}
    # The search among named stories: those and no other; none named, none found; too many, refused.
    only = search(world.store.engine, SearchQuery(text="đại hội", stories=(story["cluster_id"],)), world.store.name)
    assert [(h.cluster_id, h.title) for h in only] == [(story["cluster_id"], NEITHER.title)]
    assert search(world.store.engine, SearchQuery(text="dai hoi", stories=()), world.store.name) == []
    with pytest.raises(ValueError, match=f"stories names more than {MAX_LIMIT} stories"):
        search(world.store.engine, SearchQuery(stories=("x",) * (MAX_LIMIT + 1)), world.store.name)
