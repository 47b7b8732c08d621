"""A first publish that holds one feed at a time (issue 15, part 6).

Each feed's files go to the stager as soon as they are rendered and let go of their text, and an entry's rendered
fragments are dropped once the last feed showing it is rendered. None of this may change a byte: the same stories
rendered with every fragment kept give the same files. The cyclic collector runs less often while publishing, and
as before once it ends. New story identities are inserted in bulk; a stale row that
puts one article in two stories still gets one identity, which follows the story seen last.
"""

from __future__ import annotations

import gc
import hashlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from feed import __version__
from feed.publish.context import PublishContext
from feed.publish.entries import IdentityCache, build_stories
from feed.publish.feed_writer import GUID_PREFIX, RENDERERS, FeedSite
from feed.publish.guids import issue_identities
from feed.publish.publisher import FORMATS, GC_FIRST_THRESHOLD, _fewer_collections, feed_outputs, feed_specs, publish
from feed.publish.rows import load_rows
from feed.publish.transaction import Output, Stager
from feed.store.api import ArticleRow
from feed.store.schema import FeedIdentityRow

from .support.feedworld import VN, World, make_world

NOW = datetime(2026, 7, 16, 10, 0, tzinfo=VN)


def _context(world: World) -> PublishContext:
    """This world's stories and feeds, as a publish makes them (identities issued into the store)."""
    by_slug = {s.slug: s for s in world.sources}
    stories = build_stories(world.store, load_rows(world.store), by_slug, 50, NOW, IdentityCache())
    ctx = PublishContext(world.store, world.settings, world.sources, world.settings.public, NOW, stories)
    ctx.specs = feed_specs(stories, world.sources, world.settings, lambda path: NOW)
    return ctx


def test_streamed_feeds_are_the_bytes_of_feeds_rendered_whole(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    site = FeedSite(world.settings.site_url, None, __version__)
    try:
        whole = _context(world)
        expected = {f"feeds/{s.path}.{fmt}": RENDERERS[fmt](s, site) for s in whole.specs for fmt in FORMATS}
        ctx = _context(world)
        stager = Stager(ctx.out, {})
        outputs, _, _ = feed_outputs(ctx, site, {}, {}, stager)
        assert outputs.keys() == expected.keys()
        assert all(o.text is None for o in outputs.values())  # handed to the writers and let go
        entries, steps = stager.settle(outputs)
        stager.commit(steps)
    finally:
        world.store.close()
    shown = [i for spec in ctx.specs for i in spec.items]
    assert len({id(i) for i in shown}) < len(shown)  # stories shown by several feeds (all, meetings, kind, source)
    assert any(not i.full_body for i in shown) and any(i.full_body for i in shown)  # briefs and whole bodies
    assert all(not i._xml for i in shown)  # every entry's fragments dropped after its last feed
    for path, text in expected.items():
        assert (ctx.out / path).read_text(encoding="utf-8") == text, path
        assert entries[path]["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest(), path
    assert "Đại hội Công đoàn ngành Mẫu lần thứ V" in (ctx.out / "feeds/kinds/dai_hoi.atom").read_text("utf-8")


def test_a_released_output_is_staged_not_kept(tmp_path: Path) -> None:
    text = "<feed>Công đoàn tỉnh Mẫu tổng kết năm 2025</feed>\n"
    outputs = {"feeds/all.atom": Output(text, 1, 60), "feeds/all.rss": Output(None, 1, 60)}
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds/all.rss").write_text("<rss>Tin cũ</rss>\n", encoding="utf-8")
    stager = Stager(tmp_path, {})
    stager.stage(outputs, release=True)
    assert outputs["feeds/all.atom"].text is None
    entries, steps = stager.settle(outputs)
    assert [s[0] for s in steps] == ["rename"]  # the released one is written; the unchanged one is kept
    assert entries["feeds/all.atom"]["bytes"] == len(text.encode("utf-8"))
    assert entries["feeds/all.rss"]["bytes"] == len("<rss>Tin cũ</rss>\n".encode())
    stager.commit(steps)
    assert (tmp_path / "feeds/all.atom").read_text(encoding="utf-8") == text


def test_a_stale_row_in_two_stories_gets_one_identity(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        origin, copy = world.ids["so-ket"], world.ids["so-ket-ban-sao"]
        with world.store.session() as s:
            for article_id, canonical in ((origin, True), (copy, False)):
                row = s.get(ArticleRow, article_id)
                assert row is not None
                row.cluster_id, row.is_canonical = "cum-so-ket", canonical
        rows = {r.id: r for r in load_rows(world.store)}
        stale = replace(rows[origin], cluster_id=None)  # read before dedup joined it to the cluster
        issued = issue_identities(world.store, [rows[copy], stale], NOW)  # type: ignore[list-item]
        with world.store.session() as s:
            stored = s.scalars(select(FeedIdentityRow).where(FeedIdentityRow.anchor_id == origin)).all()
            cluster_ids = [i.cluster_id for i in stored]
    finally:
        world.store.close()
    assert issued[copy].guid == issued[origin].guid == GUID_PREFIX + origin
    assert (issued[copy].cluster_id, issued[origin].cluster_id) == ("cum-so-ket", origin)
    assert cluster_ids == [origin]  # one row, following the story seen last


def test_the_collector_runs_less_often_only_while_publishing(tmp_path: Path) -> None:
    before = gc.get_threshold()
    world = make_world(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="hỏng giữa chừng"), _fewer_collections():
            assert gc.get_threshold() == (max(GC_FIRST_THRESHOLD, before[0]), *before[1:])
            raise RuntimeError("bản tin hỏng giữa chừng")
        assert gc.get_threshold() == before
        publish(world.store, world.settings, world.sources)
    finally:
        world.store.close()
    assert gc.get_threshold() == before
    assert "Công đoàn tỉnh Mẫu tổng kết năm 2025" in (world.settings.public / "feeds/all.atom").read_text("utf-8")
