"""A publish after a crawl reads what changed, not the archive (feed.store.changes, feed.publish.selection,
feed.publish.incremental), on a real store (SQLite and PostgreSQL): the change numbers every writer leaves, the
few rows a publish reads and the feeds it keeps, a bounded latest.json whose consumer still gets every change
exactly once, and a publish killed between its files and its state in the store announcing nothing twice."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from feed.publish import incremental, selection
from feed.publish.changes import changes_since
from feed.publish.publisher import publish
from feed.records import Meeting
from feed.store.api import ArticleRow
from feed.store.changes import changed_since, last_change

from .support.feedworld import VN, Art, World, add_article, join_cluster
from .support.snapshot_schema import validator

LATE = datetime(2026, 7, 30, 10, 0, tzinfo=VN)


def news(key: str, source: str, day: int) -> Art:
    return Art(
        key,
        source,
        f"Công đoàn cơ sở thăm hỏi công nhân khó khăn đợt {day}",
        f"Ngày {day}/7, Công đoàn cơ sở trao quà cho công nhân có hoàn cảnh khó khăn.\n\nĐợt {day} gồm 40 suất.",
        datetime(2026, 7, day, 8, 0, tzinfo=VN),
    )


def latest(world: World) -> dict[str, Any]:
    return dict(json.loads((world.settings.public / "snapshots" / "latest.json").read_text(encoding="utf-8")))


def test_every_writer_leaves_a_change_number(world: World) -> None:
    with world.store.engine.connect() as conn:
        start = last_change(conn)
    new_id = add_article(world.store, news("so-1", "bao-mau", 21), LATE)  # upsert, then the classifier's verdict
    world.store.save_meetings({world.ids["bch"]: Meeting(is_report=True, score=0.9, kind="hoi_nghi_bch")})
    join_cluster(world.store, world.ids["tin-thuong"], world.ids["khong-ngay"])  # dedup's writes
    with world.store.session() as s:
        s.delete(s.get(ArticleRow, world.ids["hoi-thao"]))
    with world.store.engine.connect() as conn:
        assert last_change(conn) > start
        assert set(changed_since(conn, start)) == {
            new_id,
            world.ids["bch"],
            world.ids["tin-thuong"],
            world.ids["khong-ngay"],
            world.ids["hoi-thao"],  # deleted: its change number stays as a tombstone
        }
        assert changed_since(conn, last_change(conn)) == []


def test_a_publish_after_a_crawl_reads_the_changes_and_keeps_other_feeds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(world.store, world.settings, world.sources)
    public = world.settings.public
    untouched = sorted((public / "feeds" / "sources").glob("cd-nganh-mau.*"))
    before = {p: p.stat().st_mtime_ns for p in untouched}
    seen: list[selection.Selection] = []
    original = selection.select_rows

    def spying(*args: Any, **kwargs: Any) -> selection.Selection:
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr("feed.publish.publisher.select_rows", spying)
    new_id = add_article(world.store, news("so-2", "bao-mau", 22), LATE)
    publish(world.store, world.settings, world.sources)
    chosen = seen[-1]
    assert chosen.sources == {"bao-mau"}  # only the source that changed has its feed rebuilt
    assert [r.id for r in chosen.touched] == [new_id] and chosen.gone == []
    assert {p: p.stat().st_mtime_ns for p in untouched} == before and len(untouched) == 3
    change = json.loads(changes_since(public, chosen_cursor(world, 0)))
    assert [a["id"] for a in change["new"]] == [new_id] and change["updated"] == []
    # The same files as a publish that read every article into a new folder (empty feeds aside: their
    # `updated` is when each folder first saw them empty).
    fresh = replace(world.settings, public_dir=world.settings.public.parent / "fresh")
    publish(world.store, fresh, world.sources)
    for path in sorted((fresh.public / "feeds").rglob("*.*")):
        relative = path.relative_to(fresh.public)
        if path.stem not in ("trien_khai", "hoi_nghi_can_bo", "nguon-im-lang"):
            assert (public / relative).read_bytes() == path.read_bytes(), relative
    again = json.loads((fresh.public / "snapshots" / "latest.json").read_bytes())
    assert latest(world)["articles"] == again["articles"]


def chosen_cursor(world: World, index: int) -> str:
    """The `since` of one change file of the world's folder (0: the first)."""
    doc = json.loads((world.settings.public / "snapshots" / "changes" / "index.json").read_text(encoding="utf-8"))
    return str(doc["changes"][index]["since"])


def test_latest_is_a_window_and_a_consumer_still_gets_every_change_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection, "WINDOW", 3)
    publish(world.store, world.settings, world.sources)
    first = latest(world)
    total = first["total"]
    assert first["count"] == 3 and total == len(world.ids) and len(first["articles"]) == 3
    validator().validate(first)
    added = [add_article(world.store, news(f"dot-{d}", "bao-mau", d), LATE) for d in (23, 24)]
    publish(world.store, world.settings, world.sources)
    old = world.ids["dai-hoi"]  # far outside the window: its change still travels
    world.store.save_meetings({old: Meeting(is_report=True, score=0.95, kind="dai_hoi", org="Công đoàn ngành Mẫu")})
    with world.store.session() as s:
        s.delete(s.get(ArticleRow, added[0]))
    publish(world.store, world.settings, world.sources)
    publish(world.store, world.settings, world.sources)  # nothing changed: nothing announced again
    now = latest(world)
    assert now["count"] == 3 and now["total"] == total + 1
    assert now["articles"][0]["id"] == added[1]
    # A consumer at the first cursor, replaying change file after change file as docs/snapshots.md says.
    index = json.loads((world.settings.public / "snapshots" / "changes" / "index.json").read_text(encoding="utf-8"))
    told: list[tuple[str, str]] = []
    for entry in index["changes"]:
        doc = json.loads((world.settings.public / entry["path"]).read_text(encoding="utf-8"))
        validator("changes").validate(doc)
        told += [(kind, item["id"]) for kind in ("new", "updated", "deleted") for item in doc[kind]]
    assert sorted(told) == sorted([("new", added[0]), ("new", added[1]), ("updated", old), ("deleted", added[0])])
    assert index["changes"][0]["since"] == first["cursor"] and index["cursor"] == now["cursor"]


@pytest.mark.reliability("publish-state-after-commit")
def test_a_publish_killed_before_its_state_reached_the_store_announces_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(world.store, world.settings, world.sources)
    new_id = add_article(world.store, news("so-3", "bao-mau", 25), LATE)
    original = incremental.apply_pending
    monkeypatch.setattr("feed.publish.publisher.apply_pending", lambda store, out: None)  # "killed" after commit
    publish(world.store, world.settings, world.sources)
    pending = world.settings.public / incremental.PENDING
    assert pending.is_file()  # the files are published, the store does not know it yet
    monkeypatch.setattr("feed.publish.publisher.apply_pending", original)
    publish(world.store, world.settings, world.sources)  # copies the state first, then finds nothing new
    assert not pending.exists()
    index = json.loads((world.settings.public / "snapshots" / "changes" / "index.json").read_text(encoding="utf-8"))
    assert [c["counts"]["new"] for c in index["changes"]] == [1]
    merged = json.loads(changes_since(world.settings.public, index["changes"][0]["since"]))
    assert [a["id"] for a in merged["new"]] == [new_id]


def contents(text: str, fmt: str) -> str:
    """Every entry's content (HTML, as the file holds it) of one feed file."""
    if fmt == "json":
        return "\n".join(item["content_html"] for item in json.loads(text)["items"])
    element = "content" if fmt == "atom" else "content:encoded"
    return "\n".join(re.findall(rf"<{element}[^>]*>(.*?)</{element}>", text, re.S))


def test_the_whole_body_travels_once_in_the_feeds(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    feeds = world.settings.public / "feeds"
    second = "Đại hội bầu Ban Chấp hành gồm 25 đồng chí."  # the second paragraph of the congress report
    opening = "Ngày 20/5, Đại hội Công đoàn ngành Mẫu khai mạc với 180 đại biểu chính thức."
    for fmt in ("atom", "rss", "json"):
        own = contents((feeds / f"sources/cd-nganh-mau.{fmt}").read_text(encoding="utf-8"), fmt)
        assert second in own and opening in own, fmt  # the source's feed: the whole body
        for aggregate in ("all", "meetings", "kinds/dai_hoi"):
            text = contents((feeds / f"{aggregate}.{fmt}").read_text(encoding="utf-8"), fmt)
            assert opening in text and second not in text, (aggregate, fmt)  # the opening and the links only
