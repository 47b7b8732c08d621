"""A real reader: Debian's newsboat subscribes through feeds.opml on a loopback server, reloads, and must have
parsed every feed (checked in its own cache database), and must see exactly one new item after a new article."""

from __future__ import annotations

import calendar
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feed.publish.publisher import publish
from feed.serve.server import serve_in_thread

from .support.feedworld import VN, Art, World, add_article, make_world
from .support.needs import program


@pytest.fixture(autouse=True, scope="module")
def _needs_newsboat() -> None:
    program("newsboat")


@dataclass
class Reader:
    home: Path
    world: World
    base: str

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_DATA_HOME": str(self.home / "data"),
            "TERM": "dumb",
        }
        return subprocess.run(
            [
                "newsboat",
                "-u",
                str(self.home / "urls"),
                "-C",
                str(self.home / "config.txt"),
                "-c",
                str(self.home / "cache.db"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            stdin=subprocess.DEVNULL,
            check=True,
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "cache.db") as db:
            return list(db.execute(sql))


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Reader]:
    public = tmp_path / "public"
    public.mkdir()
    server = serve_in_thread(public)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    world = make_world(tmp_path)
    world.settings = replace(world.settings, site_url=base)
    publish(world.store, world.settings, world.sources)
    home = tmp_path / "newsboat"
    home.mkdir()
    (home / "urls").write_text("", encoding="utf-8")
    (home / "config.txt").write_text("download-retries 1\ndownload-timeout 20\n", encoding="utf-8")
    yield Reader(home, world, base)
    server.shutdown()
    server.server_close()
    world.store.close()


def our_guids(world: World) -> set[str]:
    """Every entry id across the Atom feeds, as feedparser reads them."""
    feeds = (world.settings.public / "feeds").rglob("*.atom")
    return {e.id for p in feeds for e in feedparser.parse(p.read_bytes()).entries}


def test_newsboat_shows_each_story_once_through_the_default_opml(reader: Reader) -> None:
    opml = reader.home / "feeds.opml"
    shutil.copyfile(reader.world.settings.public / "feeds.opml", opml)
    reader.run("-i", str(opml))
    urls = (reader.home / "urls").read_text(encoding="utf-8").split()
    assert [u for u in urls if u.startswith(reader.base)] == [
        f"{reader.base}feeds/meetings.atom",
        f"{reader.base}feeds/other.atom",
    ]
    result = reader.run("-x", "reload", "print-unread")
    feeds: dict[str, str] = dict(reader.query("SELECT rssurl, title FROM rss_feed"))
    assert sorted(feeds.values()) == ["Tin công đoàn khác", "Tin hội nghị, đại hội công đoàn"]
    guids = [g for (g,) in reader.query("SELECT guid FROM rss_item")]
    stories = feedparser.parse((reader.world.settings.public / "feeds" / "all.atom").read_bytes()).entries
    assert sorted(guids) == sorted(e.id for e in stories) and len(guids) == 7  # each story once
    assert result.stdout.strip() == "7 unread articles"


def test_newsboat_reads_every_feed_listed_in_the_full_opml(reader: Reader) -> None:
    opml = reader.home / "feeds-all.opml"
    shutil.copyfile(reader.world.settings.public / "feeds-all.opml", opml)
    reader.run("-i", str(opml))
    urls = (reader.home / "urls").read_text(encoding="utf-8").split()
    assert len([u for u in urls if u.startswith(reader.base)]) == 14
    result = reader.run("-x", "reload", "print-unread")
    feeds: dict[str, str] = dict(reader.query("SELECT rssurl, title FROM rss_feed"))
    assert len(feeds) == 14 and not [t for t in feeds.values() if "unionfeed" in t], feeds
    assert feeds[f"{reader.base}feeds/sources/bao-mau.atom"] == "Báo Mẫu & Đời sống"
    guids = {g for (g,) in reader.query("SELECT guid FROM rss_item")}
    # newsboat keeps one item per guid across feeds: a story in `all`, `meetings` and its sources' feeds (the
    # syndicated copy's too: one GUID registry) is read once.
    assert guids == our_guids(reader.world) and len(guids) == 7
    assert result.stdout.strip() == "7 unread articles"


@pytest.mark.parametrize("name", ["all.rss", "meetings.atom", "sources/bao-mau.rss"])
def test_newsboat_keeps_titles_times_and_links(reader: Reader, name: str) -> None:
    url = f"{reader.base}feeds/{name}"
    (reader.home / "urls").write_text(url + "\n", encoding="utf-8")
    reader.run("-x", "reload")
    items = {row[0]: row[1:] for row in reader.query("SELECT guid, title, url, pubDate, author FROM rss_item")}
    ours = feedparser.parse((reader.world.settings.public / "feeds" / name).read_bytes()).entries
    assert len(items) == len(ours) > 0
    for entry in ours:
        title, link, pub_date, author = items[entry.id]
        assert (title, link, author) == (entry.title, entry.link, entry.author)
        assert pub_date == calendar.timegm(entry.published_parsed)  # the same instant, no 7-hour shift


def test_newsboat_sees_one_new_item_and_no_old_one_again(reader: Reader) -> None:
    (reader.home / "urls").write_text(
        f"{reader.base}feeds/all.atom\n{reader.base}feeds/meetings.rss\n", encoding="utf-8"
    )
    assert reader.run("-x", "reload", "print-unread").stdout.strip() == "7 unread articles"
    before: dict[str, int] = dict(reader.query("SELECT guid, pubDate FROM rss_item"))
    reader.query("UPDATE rss_item SET unread = 0")
    publish(reader.world.store, reader.world.settings, reader.world.sources)  # nothing new: nothing re-announced
    assert reader.run("-x", "reload", "print-unread").stdout.strip() == "0 unread articles"
    fresh = Art(
        "moi",
        "ldld-mau",
        "Hội nghị cán bộ, công chức năm 2026 của Công đoàn tỉnh Mẫu",
        "Sáng 22/7, Công đoàn tỉnh Mẫu tổ chức hội nghị cán bộ, công chức năm 2026.",
        datetime(2026, 7, 22, 8, 0, tzinfo=VN),
        "hoi_nghi_can_bo",
        "Công đoàn tỉnh Mẫu",
    )
    add_article(reader.world.store, fresh, datetime(2026, 7, 22, 9, 0, tzinfo=VN))
    publish(reader.world.store, reader.world.settings, reader.world.sources)
    assert reader.run("-x", "reload", "print-unread").stdout.strip() == "1 unread articles"
    after: dict[str, int] = dict(reader.query("SELECT guid, pubDate FROM rss_item"))
    assert {g: after[g] for g in before} == before and len(after) == len(before) + 1
