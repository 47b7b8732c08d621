"""Record fingerprints from the stored values (feed.publish.snapshots.record_fingerprint), on a real store (SQLite
and PostgreSQL): a first publish encodes only the records a file shows, a re-fetch that moves only fetched_at is
no change, and a store whose fingerprints were filed by the older scheme (a digest of the encoded record) announces,
after the upgrade, exactly the records that changed: none when nothing did, one when one article did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from feed.config.sources import parse_sources
from feed.publish import incremental, snapshots
from feed.publish.entries import group_clusters
from feed.publish.publisher import publish
from feed.publish.rows import PubRow, load_rows
from feed.records import Extracted
from feed.store.schema import PublishedRecord, PublishState

from .support.feedworld import ARTICLES, SOURCES, VN, World, article_url
from .support.snapshot_schema import validator


def _pinned_row(article_id: str, url: str, canonical: bool) -> PubRow:
    meeting = (
        '{"is_report": true, "score": 0.91, "kind": "tong_ket", "org": "Liên đoàn Lao động tỉnh Mẫu", '
        '"held_on": "2026-01-10", "officials": [{"name": "Nguyễn Văn Mẫu", "role": "Chủ tịch"}], '
        '"cues": ["tổ chức hội nghị"]}'
    )
    return PubRow(
        article_id,
        url,
        url,
        "ldld-mau",
        "Hội nghị tổng kết công tác công đoàn năm 2025",
        "Năm 2025 ghi dấu nhiều kết quả.",
        "Minh Châu",
        datetime(2026, 1, 10, 2, 30, tzinfo=UTC),
        None,
        datetime(2026, 1, 10, 5, 0, tzinfo=UTC),
        datetime(2026, 1, 10, 4, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 1, 10, 4, 0, tzinfo=UTC),
        "vi",
        ["http://127.0.0.1:9/anh/1.jpg"],
        None,
        "c0ffee",
        "a1",
        canonical,
        meeting,
        True,
        "tong_ket",
        "sig",
        None,  # type: ignore[arg-type]  # the body is given: no store to read it from
        _body="Sáng 10/1, Liên đoàn Lao động tỉnh Mẫu tổ chức hội nghị tổng kết.\n\nHội nghị đề ra 5 nhiệm vụ.",
    )


def test_the_legacy_fingerprint_is_the_one_older_publishes_filed() -> None:
    """The values below were computed by the publisher before 2026-12-08 (its `_fingerprinted`) for these rows:
    the upgrade compares with exactly what older stores hold."""
    # feedworld's first source, with a province (only its name and province reach a record)
    source = parse_sources({"version": 1, "sources": [{**SOURCES["sources"][0], "province": "Thanh Hóa"}]})[0]
    a = _pinned_row("a1", "http://127.0.0.1:9/ldld/a1.html", True)
    b = _pinned_row("b2", "http://127.0.0.1:9/bao/b2.html", False)
    legacy = [snapshots.legacy_fingerprint(snapshots._bare_record(r, source, [a, b])) for r in (a, b)]
    assert legacy == ["460234ea869e06d3f172145f", "932182eebb7ff21b888391d4"]
    new = [snapshots.record_fingerprint(r, source, [a, b]) for r in (a, b)]
    assert all(not snapshots.is_legacy(f) and len(f) <= 32 for f in new) and new[0] != new[1]
    assert all(snapshots.is_legacy(f) for f in legacy)
    # fetched_at alone is not part of a record's fingerprint; everything the record shows is.
    a.fetched_at += timedelta(days=3)
    assert snapshots.record_fingerprint(a, source, [a, b]) == new[0]
    a.lead = "Năm 2025 ghi dấu nhiều kết quả nổi bật."
    assert snapshots.record_fingerprint(a, source, [a, b]) != new[0]
    assert snapshots.record_fingerprint(b, source, [b]) != new[1]  # its duplicates changed


def _file_legacy_fingerprints(world: World) -> int:
    """Replace the folder's fingerprints by those a publish before 2026-12-08 filed for the stored articles (the
    digest of each encoded record), as a store published by the older code holds them."""
    rows = load_rows(world.store)
    clusters = group_clusters(rows)
    sources = {s.slug: s for s in world.sources}
    folder = incremental.folder_key(world.settings.public)
    with world.store.session() as s:
        for row in rows:
            members = clusters[row.cluster_id or row.id]
            bare = snapshots._bare_record(row, sources.get(row.source_slug), members)
            s.execute(
                update(PublishedRecord)
                .where(PublishedRecord.folder == folder, PublishedRecord.article_id == row.id)
                .values(fingerprint=snapshots.legacy_fingerprint(bare))
            )
    return len(rows)


def _fingerprints(world: World) -> dict[str, str]:
    folder = incremental.folder_key(world.settings.public)
    query = select(PublishedRecord.article_id, PublishedRecord.fingerprint).where(PublishedRecord.folder == folder)
    with world.store.engine.connect() as conn:
        return {a: f for a, f in conn.execute(query)}


def _change_files(world: World) -> list[dict[str, Any]]:
    public = world.settings.public
    index = json.loads((public / "snapshots" / "changes" / "index.json").read_text(encoding="utf-8"))
    docs = [json.loads((public / c["path"]).read_text(encoding="utf-8")) for c in index["changes"]]
    for doc in docs:
        validator("changes").validate(doc)
    return docs


def test_an_upgraded_store_announces_only_what_changed(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    assert _file_legacy_fingerprints(world) == len(world.ids)
    # A crawl: the copy of a story re-fetched unchanged (only fetched_at moves), its origin's text edited, another
    # page re-fetched unchanged. All three are read again and fingerprinted; only the edit is a change.
    later = datetime(2026, 7, 20, 9, 0, tzinfo=VN)
    for key, extra in (("so-ket-ban-sao", ""), ("so-ket", "\n\nHội nghị phát động thi đua đợt cao điểm."), ("bch", "")):
        art = next(a for a in ARTICLES if a.key == key)
        page = Extracted(url=article_url(art), title=art.title, published_at=art.published, body_text=art.body + extra)
        assert world.store.upsert(art.source, page, fetched_at=later).status == ("updated" if extra else "unchanged")
    publish(world.store, world.settings, world.sources)
    docs = _change_files(world)
    assert len(docs) == 1
    assert [a["id"] for a in docs[0]["updated"]] == [world.ids["so-ket"]]
    assert docs[0]["new"] == docs[0]["removed_from_cluster"] == docs[0]["deleted"] == []
    filed = _fingerprints(world)
    upgraded = {i for i, f in filed.items() if not snapshots.is_legacy(f)}
    assert upgraded == {world.ids["so-ket"], world.ids["so-ket-ban-sao"], world.ids["bch"]}  # the rest: as they were
    # A publish that reads every article (its state from an older version: no change number) compares the records
    # still filed the old way: nothing changed, so nothing is announced, and every fingerprint is now new.
    with world.store.session() as s:
        s.execute(
            delete(PublishState).where(
                PublishState.folder == incremental.folder_key(world.settings.public), PublishState.name == "seq"
            )
        )
    cursor = json.loads((world.settings.public / "snapshots" / "latest.json").read_bytes())["cursor"]
    publish(world.store, world.settings, world.sources)
    assert len(_change_files(world)) == 1
    assert json.loads((world.settings.public / "snapshots" / "latest.json").read_bytes())["cursor"] == cursor
    assert not any(snapshots.is_legacy(f) for f in _fingerprints(world).values())
    assert len(_fingerprints(world)) == len(world.ids)
    # Then one article changed: exactly one change.
    art = next(a for a in ARTICLES if a.key == "dai-hoi")
    page = Extracted(
        url=article_url(art), title=art.title + " (cập nhật)", published_at=art.published, body_text=art.body
    )
    world.store.upsert(art.source, page, fetched_at=later + timedelta(hours=1))
    publish(world.store, world.settings, world.sources)
    docs = _change_files(world)
    assert len(docs) == 2
    assert [a["id"] for a in docs[1]["updated"]] == [world.ids["dai-hoi"]]
    assert docs[1]["updated"][0]["title"] == art.title + " (cập nhật)"
    assert docs[1]["new"] == docs[1]["removed_from_cluster"] == docs[1]["deleted"] == []


def test_a_first_publish_encodes_only_the_records_a_file_shows(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from feed.publish import selection

    monkeypatch.setattr(selection, "WINDOW", 3)
    encoded: list[str] = []
    original = snapshots._bare_record

    def counting(row: PubRow, *args: Any) -> str:
        encoded.append(row.id)
        return original(row, *args)

    monkeypatch.setattr(snapshots, "_bare_record", counting)
    publish(world.store, world.settings, world.sources)
    latest = json.loads((world.settings.public / "snapshots" / "latest.json").read_bytes())
    assert sorted(encoded) == sorted(a["id"] for a in latest["articles"]) and len(encoded) == 3
    assert len(_fingerprints(world)) == len(world.ids)  # yet every article's fingerprint is filed
    # A re-fetch that moves only fetched_at, outside the window: read again, not announced, not encoded.
    art = next(a for a in ARTICLES if a.key == "tong-ket")
    page = Extracted(url=article_url(art), title=art.title, published_at=art.published, body_text=art.body)
    world.store.upsert(art.source, page, fetched_at=datetime(2026, 7, 21, 9, 0, tzinfo=UTC))
    encoded.clear()
    publish(world.store, world.settings, world.sources)
    assert encoded == []
    assert list((world.settings.public / "snapshots" / "changes").glob("2*.json")) == []
