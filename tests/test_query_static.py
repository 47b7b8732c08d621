"""Province feeds and saved queries' feeds, written by publish (feed.publish.query_static) from a real SQLite store,
read back with feedparser; saved_queries in settings.yaml checked with the file's line."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

from feed.config.settings import load_settings
from feed.config.sources import ConfigError
from feed.publish.publisher import publish
from feed.publish.query_static import province_slug
from feed.publish.snapshots import schema_problems

from .support.feedworld import make_world


def entries(path: Path) -> list[tuple[str, str]]:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return [(e.id, e.title) for e in parsed.entries]


@pytest.mark.reliability("saved-query-unknown-province")
def test_province_and_saved_query_feeds(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    world = make_world(tmp_path)
    sources = [
        s.model_copy(update={"province": "Thanh Hóa"}) if s.slug in ("ldld-mau", "bao-mau") else s
        for s in world.sources
    ]
    saved = {
        "dai-hoi": {"q": "dai hoi"},
        "so-ket-thanh-hoa": {"kind": "so_ket", "province": "thanh hoa"},
        "sai-tinh": {"province": "Atlantis"},
    }
    settings = replace(world.settings, saved_queries=saved)
    with caplog.at_level(logging.WARNING, logger="feed.publish.query_static"):
        publish(world.store, settings, sources)
    feeds = settings.public / "feeds"
    every = dict(entries(feeds / "all.atom"))
    guid_of = {title: guid for guid, title in every.items()}

    province = entries(feeds / "provinces" / "thanh-hoa.atom")
    assert province and all(guid_of[title] == guid for guid, title in province)  # the stories' own guids
    in_province = {t for g, t in every.items() if _source_of(feeds / "all.json", g) in ("ldld-mau", "bao-mau")}
    assert {t for _, t in province} == in_province
    assert feedparser.parse((feeds / "provinces" / "thanh-hoa.atom").read_bytes()).feed.title == (
        "Tin công đoàn Thanh Hóa"
    )

    dai_hoi = entries(feeds / "query-dai-hoi.atom")
    assert [t for _, t in dai_hoi] == ["Đại hội Công đoàn ngành Mẫu lần thứ V, nhiệm kỳ 2026–2031"]
    so_ket = entries(feeds / "query-so-ket-thanh-hoa.rss")
    assert len(so_ket) == 1 and so_ket[0][0] == guid_of[so_ket[0][1]]  # the two copies are one story
    for fmt in ("atom", "rss", "json"):
        assert (feeds / f"query-dai-hoi.{fmt}").is_file()
    assert not (feeds / "query-sai-tinh.atom").exists()
    snapshot = json.loads((settings.public / "snapshots" / "latest.json").read_text(encoding="utf-8"))
    assert {(a["source"], a["province"]) for a in snapshot["articles"]} == {
        ("ldld-mau", "Thanh Hóa"),
        ("bao-mau", "Thanh Hóa"),
        ("cd-nganh-mau", None),
    }
    assert schema_problems(settings.public) == []
    assert "feed query-sai-tinh left out: unknown province 'Atlantis'" in caplog.text


def _source_of(json_feed: Path, guid: str) -> str:
    items = json.loads(json_feed.read_text(encoding="utf-8"))["items"]
    return next(str(i["_unionfeed"]["source"]) for i in items if i["id"] == guid)


def test_province_slugs() -> None:
    assert province_slug("Thanh Hóa") == "thanh-hoa"
    assert province_slug("Bà Rịa – Vũng Tàu") == "ba-ria-vung-tau"
    assert province_slug("Đắk Lắk") == "dak-lak"


def test_saved_queries_in_settings(tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    (tmp_path / "settings.yaml").write_text(
        'feed_limit: 50\nsaved_queries:\n  dai-hoi-thanh-hoa: {q: "đại hội", province: "Thanh Hóa"}\n',
        encoding="utf-8",
    )
    assert load_settings(config).saved_queries == {"dai-hoi-thanh-hoa": {"q": "đại hội", "province": "Thanh Hóa"}}
    (tmp_path / "settings.yaml").write_text(
        "feed_limit: 50\nsaved_queries:\n  dai-hoi: {q: dai hoi, sort: new}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"settings.yaml:2: saved_queries: dai-hoi: unknown keys \['sort'\]"):
        load_settings(config)
    (tmp_path / "settings.yaml").write_text("saved_queries:\n  Đại Hội: {q: dai hoi}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a feed name"):
        load_settings(config)
