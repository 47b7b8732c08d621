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
