"""Per-source feeds take their GUIDs from the registry the other feeds use: after an article's URL changes (the
site edits its slug: the store keeps both rows, dedup puts them in one story), its source's feed keeps one entry
under one GUID, the GUID the aggregate feeds give the story."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import feedparser

from feed.dedup.clusters import assign_cluster
from feed.publish.publisher import publish

from .support.feedworld import ARTICLES, VN, add_article, make_world


def entries(public: Path, name: str) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse((public / "feeds" / f"{name}.atom").read_bytes())
    assert not parsed.bozo, name
    return list(parsed.entries)


def test_a_moved_article_keeps_one_entry_and_one_guid_in_its_source_feed(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        assign_cluster(world.store, world.ids["tong-ket"])  # filed in the dedup index, as ingest does
        publish(world.store, world.settings, world.sources)
        public = world.settings.public
        original = next(a for a in ARTICLES if a.key == "tong-ket")
        before = [e for e in entries(public, "sources/ldld-mau") if e.title == original.title]
        assert len(before) == 1
        story_guid = next(e.id for e in entries(public, "all") if e.title == original.title)
        assert before[0].id == story_guid  # the same registry from the first publish on
        # The site moves the page to a new slug: a second row, same text, clustered with the first by dedup.
        moved = replace(original, key="cong-doan-tinh-mau-tong-ket-nam-2025")
        moved_id = add_article(world.store, moved, datetime(2026, 8, 2, 9, 0, tzinfo=VN))
        assign_cluster(world.store, moved_id)
        publish(world.store, world.settings, world.sources)
        after = [e for e in entries(public, "sources/ldld-mau") if e.title == original.title]
        assert [e.id for e in after] == [story_guid], [(e.id, e.link) for e in after]
        assert [e.id for e in entries(public, "all") if e.title == original.title] == [story_guid]
    finally:
        world.store.close()


def test_source_entries_are_updated_when_their_text_changed_not_when_fetched(tmp_path: Path) -> None:
    """One crawl stores every article in the same second: entries then all said `updated` = that second (the W3C
    validator warns of entries sharing atom:updated). An entry's `updated` is its published time until its text
    changes after it was first stored."""
    world = make_world(tmp_path)  # every article stored at one fetch time
    try:
        publish(world.store, world.settings, world.sources)
        public = world.settings.public
        for source in world.sources:
            parsed = entries(public, f"sources/{source.slug}")
            updated = [e.updated for e in parsed]
            assert len(updated) == len(set(updated)), (source.slug, updated)
            assert all(e.updated == e.published for e in parsed), source.slug
        original = next(a for a in ARTICLES if a.key == "tin-thuong")
        edited = replace(original, body=original.body + "\n\nDanh sách công nhân nhận quà được niêm yết công khai.")
        later = datetime(2026, 8, 3, 14, 5, 9, tzinfo=VN)
        add_article(world.store, edited, later)  # the same page re-crawled with a new paragraph
        publish(world.store, world.settings, world.sources)
        entry = next(e for e in entries(public, "sources/bao-mau") if e.link.endswith("/tin-thuong.html"))
        assert entry.updated == "2026-08-03T14:05:09+07:00" and entry.published == "2026-01-25T07:15:00+07:00"
    finally:
        world.store.close()
