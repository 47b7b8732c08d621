"""A reader importing feeds.opml sees each story once: the meetings feed and the "other" feed never overlap and
together hold every story; the overlapping feeds (all, kinds, sources, provinces, saved queries) are listed in
feeds-all.opml instead. Read the way a reader does: parse the OPML, fetch every xmlUrl from the published folder,
parse each feed with feedparser."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feed.publish.publisher import publish

from .support.feedworld import ARTICLES, VN, Art, World, add_article, make_world

LATE = datetime(2026, 8, 1, 9, 0, tzinfo=VN)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.store.close()


def subscribed(world: World, name: str = "feeds.opml") -> dict[str, list[str]]:
    """xmlUrl -> the links of its entries, as a reader importing `name` gets them."""
    root = etree.parse(str(world.settings.public / name)).getroot()
    out = {}
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if url:
            parsed = feedparser.parse((world.settings.public / url.removeprefix(world.settings.site_url)).read_bytes())
            assert not parsed.bozo, (url, parsed.get("bozo_exception"))
            out[url] = [e.link for e in parsed.entries]
    return out


def stories(extra: tuple[Art, ...] = ()) -> set[str]:
    """Every story's link: the syndicated copy is one story with its origin."""
    return {f"http://127.0.0.1:9/{a.source}/{a.key}.html" for a in (*ARTICLES, *extra) if a.key != "so-ket-ban-sao"}


def test_the_default_opml_shows_each_story_exactly_once(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    feeds = subscribed(world)
    base = world.settings.site_url
    assert list(feeds) == [f"{base}feeds/meetings.atom", f"{base}feeds/other.atom"]
    seen = Counter(link for links in feeds.values() for link in links)
    assert set(seen) == stories() and set(seen.values()) == {1}, seen
    reports = {f"http://127.0.0.1:9/{a.source}/{a.key}.html" for a in ARTICLES if a.kind}
    assert set(feeds[f"{base}feeds/other.atom"]).isdisjoint(reports)
    # The overlapping feeds are still offered, in their own list, by group.
    every = subscribed(world, "feeds-all.opml")
    assert len(every) > 2 and f"{base}feeds/all.atom" in every and f"{base}feeds/sources/bao-mau.atom" in every
    groups = [o.get("text") for o in etree.parse(str(world.settings.public / "feeds-all.opml")).getroot()[1]]
    assert groups[:3] == ["Tổng hợp", "Theo loại hội nghị", "Theo nguồn tin"]
    # What the W3C validator asks of an OPML file: a section outline (a folder) carries text only, every outline
    # with more attributes says its type, and the head holds no element OPML 1.0 lacks (<docs>).
    for name in ("feeds.opml", "feeds-all.opml"):
        root = etree.parse(str(world.settings.public / name)).getroot()
        assert [child.tag for child in root.find("head")] == ["title", "ownerName"]
        for outline in root.iter("outline"):
            assert set(outline.attrib) == {"text"} or outline.get("type") == "rss", etree.tostring(outline)
    index = (world.settings.public / "index.html").read_text(encoding="utf-8")
    assert 'href="feeds.opml"' in index and 'href="feeds-all.opml"' in index


def test_a_later_publish_puts_new_news_in_other_once_under_the_same_guid(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    base = world.settings.site_url
    guids_before = {
        e.link: e.id
        for p in ("all", "other")
        for e in feedparser.parse((world.settings.public / f"feeds/{p}.atom").read_bytes()).entries
    }
    new = Art(
        "tham-hoi",
        "bao-mau",
        "Công đoàn Khu công nghiệp Mẫu thăm hỏi công nhân bị tai nạn lao động",
        "Ngày 31/7, Công đoàn Khu công nghiệp Mẫu đã đến thăm hỏi, trao tiền hỗ trợ cho ba công nhân bị tai nạn.\n\n"
        "Mỗi suất hỗ trợ trị giá 2 triệu đồng.",
        datetime(2026, 7, 31, 10, 0, tzinfo=VN),
    )
    add_article(world.store, new, LATE)
    publish(world.store, world.settings, world.sources)  # incremental: only the changed rows are read
    feeds = subscribed(world)
    seen = Counter(link for links in feeds.values() for link in links)
    assert set(seen) == stories((new,)) and set(seen.values()) == {1}, seen
    assert feeds[f"{base}feeds/other.atom"][0] == "http://127.0.0.1:9/bao-mau/tham-hoi.html"
    other = feedparser.parse((world.settings.public / "feeds/other.atom").read_bytes()).entries
    all_ids = {e.link: e.id for e in feedparser.parse((world.settings.public / "feeds/all.atom").read_bytes()).entries}
    assert all(all_ids[e.link] == e.id for e in other)  # one GUID registry for every feed
    assert all(guids_before[e.link] == e.id for e in other if e.link in guids_before)
