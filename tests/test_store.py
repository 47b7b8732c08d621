"""The store on a real SQLite file and a real PostgreSQL database (tests/support/databases.py): upserts,
tz-aware times, crawl runs."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feed.records import Extracted, Meeting
from feed.store.api import Store, content_hash

from .support.databases import ENGINES, new_schema, postgres_server

BODY = "Công đoàn tỉnh tổ chức hội nghị tổng kết năm 2025 với nhiều kết quả."


def article(url: str, body: str = BODY, **kw: object) -> Extracted:
    return Extracted(
        url=url,
        title=str(kw.pop("title", "Hội nghị tổng kết")),
        body_text=body,
        published_at=kw.pop("published_at", datetime.fromisoformat("2026-01-10T08:00:00+07:00")),
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def test_new_then_unchanged_then_updated(store: Store) -> None:
    first = store.upsert("a", article("https://a.vn/tin/1.html"))
    again = store.upsert("a", article("https://a.vn/tin/1.html?utm_source=fb#top"))
    edited = store.upsert("a", article("https://a.vn/tin/1.html", body="Nội dung đã được sửa đổi nhiều."))
    assert (first.status, again.status, edited.status) == ("new", "unchanged", "updated")
    assert first.article_id == again.article_id == edited.article_id
    assert store.count() == 1


def test_times_stay_timezone_aware_and_published_never_moves(store: Store) -> None:
    url = "https://a.vn/tin/2.html"
    store.upsert("a", article(url))
    store.upsert("a", article(url, body="Bài đã sửa.", published_at=datetime(2026, 3, 1, tzinfo=UTC)))
    row = store.articles()[0]
    assert row.published_at == datetime.fromisoformat("2026-01-10T08:00:00+07:00")
    assert row.published_at.utcoffset() is not None and row.fetched_at.utcoffset() is not None


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.upsert("a", article("https://a.vn/3.html", published_at=datetime(2026, 1, 1)))


def test_same_article_over_https_and_mobile_edition_is_one_row(store: Store) -> None:
    a = store.upsert("a", article("http://www.a.vn/tin/4.html"))
    b = store.upsert("a", article("https://m.a.vn/tin/4.html"))
    assert a.article_id == b.article_id and store.count() == 1


def test_a_declared_canonical_is_a_hint_never_a_key(store: Store) -> None:
    shared = "https://a.vn/tin/chung.html"
    results = [
        store.upsert("a", article(f"https://a.vn/tin/{n}.html", body=f"{BODY} Bài số {n}.", canonical_url=shared))
        for n in range(6)
    ]
    assert [r.status for r in results] == ["new"] * 6 and store.count() == 6
    again = [
        store.upsert("a", article(f"https://a.vn/tin/{n}.html", body=f"{BODY} Bài số {n}.", canonical_url=shared))
        for n in range(6)
    ]
    assert [r.status for r in again] == ["unchanged"] * 6
    # A page of source b naming a's article as its canonical: filed under its own URL, a's row untouched.
    theirs = store.upsert(
        "b", article("https://a.vn/b/7.html", body="Khác hẳn.", canonical_url="https://a.vn/tin/0.html")
    )
    assert (theirs.status, theirs.canonical_ignored) == ("new", True)
    assert store.get(results[0].article_id).body_text == f"{BODY} Bài số 0."  # type: ignore[union-attr]


def test_another_sources_article_is_left_alone(store: Store) -> None:
    mine = store.upsert("a", article("https://a.vn/tin/8.html"))
    taken = store.upsert("b", article("https://a.vn/tin/8.html", body="Trang đã chuyển hướng, nội dung khác."))
    edition = store.upsert("b", article("http://m.a.vn/tin/8.html", body="Bản di động, nội dung khác."))
    assert (taken.status, edition.status) == ("foreign", "foreign")
    row = store.get(mine.article_id)
    assert row is not None and (row.source_slug, row.body_text) == ("a", BODY) and store.count() == 1


def test_a_row_filed_under_its_declared_canonical_before_is_found_again(store: Store) -> None:
    """Rows stored when the declared canonical was the key are updated in place, not stored a second time."""
    from feed.lang.urls import article_id
    from feed.store.schema import ArticleRow

    page, declared = "https://a.vn/tin/9.html?id=9", "https://a.vn/tin/bai-9.html"
    old = store.upsert("a", article(declared))
    with store.session() as s:
        row = s.get(ArticleRow, old.article_id)
        assert row is not None
        row.url = page  # as the old upsert left it: the page's URL, filed under the canonical it declared
    again = store.upsert("a", article(page, canonical_url=declared))
    assert (again.status, again.article_id, store.count()) == ("unchanged", article_id(declared), 1)
    other = store.upsert("a", article("https://a.vn/tin/10.html", body="Bài khác.", canonical_url=declared))
    assert other.status == "new" and store.count() == 2


def test_store_survives_reopening(database_url: str) -> None:
    url = database_url
    s = Store(url)
    s.save_meeting(s.upsert("a", article("https://a.vn/5.html")).article_id, Meeting(is_report=True, kind="so_ket"))
    s.close()
    s = Store(url)
    (row,) = s.articles(meetings_only=True, kind="so_ket")
    assert row.meeting["kind"] == "so_ket"
    s.close()


def test_crawl_runs_and_errors(store: Store) -> None:
    run = store.start_run("a")
    store.record_error("a", "https://a.vn/hong.html", "HTTP 500", run)
    store.finish_run(run, pages=3, new=1, updated=0, errors=1, finish_reason="finished", stats={"x": 1})
    (last,) = store.last_runs().values()
    assert (last.pages, last.new, last.errors, last.finish_reason) == (3, 1, 1, "finished")
    assert store.page_errors("a")[0].error == "HTTP 500"


def test_a_run_left_unfinished_is_marked_abandoned_when_its_source_starts_again(store: Store) -> None:
    killed, elsewhere = store.start_run("a"), store.start_run("b")  # their processes then die (kill -9)
    store.upsert("a", article("https://a.vn/1.html"))
    store.upsert("a", article("https://a.vn/2.html", body="Đoàn viên công đoàn cơ sở nhận quà Tết."))
    again = store.start_run("a")
    runs = {run.id: run for run in store.runs()}
    assert (runs[killed].finish_reason, runs[killed].finished_at, runs[killed].new) == ("abandoned", None, 2)
    assert runs[elsewhere].finish_reason is None and runs[again].finish_reason is None  # others may be running
    # Had it been alive after all (one source crawled twice at once), its own end replaces the mark.
    store.finish_run(killed, pages=2, new=2, updated=0, errors=0, finish_reason="finished", stats={})
    assert store.runs("a")[-1].finish_reason == "finished"


def _open_store(url: str, barrier: Any) -> None:
    barrier.wait()  # all at the same instant, on a database that does not exist yet
    Store(url).close()


@pytest.mark.reliability("crawl-publish-concurrent", "postgres-concurrent-create")
@pytest.mark.parametrize("engine", ENGINES)
def test_processes_starting_on_a_new_database_at_once_all_open_it(tmp_path: Path, engine: str) -> None:
    context = multiprocessing.get_context("fork")
    server = postgres_server() if engine == "postgresql" else ""
    for round_ in range(6):  # without the lock around creation, most rounds lose a process
        with ExitStack() as stack:
            if engine == "sqlite":
                url = f"sqlite:///{tmp_path / f'new-{round_}.sqlite'}"
            else:
                url = stack.enter_context(new_schema(server))
            barrier = context.Barrier(3)
            processes = [context.Process(target=_open_store, args=(url, barrier)) for _ in range(3)]
            for process in processes:
                process.start()
            for process in processes:
                process.join(30)
            assert [process.exitcode for process in processes] == [0, 0, 0], round_


def test_content_hash_ignores_spacing_case_and_tone_placement() -> None:
    assert content_hash("t", "Hội nghị  Hoà Bình") == content_hash("t", "hội nghị hòa bình")
    assert content_hash("t", "hội thảo") != content_hash("t", "hội thao")


def test_a_store_in_a_folder_that_does_not_exist_yet_creates_it(tmp_path: Path) -> None:
    """The first command on a fresh data folder may be a publish (the scheduler's), not a crawl."""
    store = Store(f"sqlite:///{tmp_path / 'new' / 'deeper' / 'unionfeed.sqlite'}")
    try:
        assert store.count() == 0 and (tmp_path / "new" / "deeper" / "unionfeed.sqlite").is_file()
    finally:
        store.close()


def test_opening_a_store_creates_every_table_whatever_was_imported(tmp_path: Path) -> None:
    """Dedup, feed identities, health and the crawl's validators find their tables in any fresh database."""
    from sqlalchemy import inspect

    from feed.store.schema import Base

    store = Store(f"sqlite:///{tmp_path / 'all.sqlite'}")
    try:
        assert set(Base.metadata.tables) <= set(inspect(store.engine).get_table_names())
        assert {
            "articles",
            "crawl_runs",
            "page_errors",
            "http_validators",
            "health_events",
            "feed_identities",
            "dedup_docs",
            "dedup_bands",
        } <= set(Base.metadata.tables)
    finally:
        store.close()


def test_a_verdict_is_saved_after_the_article(store: Store) -> None:
    first = store.upsert("a", article("https://a.vn/6.html"))
    second = store.upsert("b", article("https://b.vn/7.html", body="Đoàn viên nhận quà Tết."))
    assert store.get(first.article_id).is_meeting_report is False  # type: ignore[union-attr]
    store.save_meeting(first.article_id, Meeting(is_report=True, kind="tong_ket"))
    store.save_meetings({second.article_id: Meeting(is_report=True, kind="dai_hoi"), "no-such-id": Meeting()})
    assert {(r.id, r.meeting_kind) for r in store.articles(meetings_only=True)} == {
        (first.article_id, "tong_ket"),
        (second.article_id, "dai_hoi"),
    }
    store.save_meeting(first.article_id, Meeting())
    (row,) = store.articles(meetings_only=True)
    assert row.id == second.article_id and store.get(first.article_id).meeting_kind is None  # type: ignore[union-attr]


def test_article_ids_by_time_and_source(store: Store) -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    new = datetime(2026, 6, 1, tzinfo=UTC)
    a = store.upsert("a", article("https://a.vn/8.html", published_at=old), fetched_at=old).article_id
    b = store.upsert("b", article("https://b.vn/9.html", body="Tin khác.", published_at=old), fetched_at=new).article_id
    c = store.upsert("a", article("https://a.vn/10.html", body="Tin mới.", published_at=new), fetched_at=new).article_id
    assert set(store.article_ids()) == {a, b, c}
    assert set(store.article_ids(since=new)) == {b, c}  # b was published long ago but first seen since
    assert store.article_ids(since=new, slugs=["a"]) == [c]
    assert [row.id for row in store.articles_by_id([c, "no-such-id", a])] == [c, a]


def test_http_validators_are_kept_per_source_and_discovery_setup(store: Store) -> None:
    from feed.store.api import Validators

    store.save_validators("a", "f1", {"https://a.vn/rss": Validators('"e1"', None)})
    store.save_validators("a", "f1", {"https://a.vn/rss": Validators('"e2"', "Mon, 01 Jun 2026 00:00:00 GMT")})
    assert store.load_validators("a", "f1") == {"https://a.vn/rss": Validators('"e2"', "Mon, 01 Jun 2026 00:00:00 GMT")}
    assert store.load_validators("a", "f2") == {} and store.load_validators("b", "f1") == {}
