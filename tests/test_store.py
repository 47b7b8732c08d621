"""The store on a real SQLite file: upserts, tz-aware times, crawl runs."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feed.models import Extracted, Meeting
from feed.store import Store, content_hash

BODY = "Công đoàn tỉnh tổ chức hội nghị tổng kết năm 2025 với nhiều kết quả."


def article(url: str, body: str = BODY, **kw: object) -> Extracted:
    return Extracted(url=url, title=str(kw.pop("title", "Hội nghị tổng kết")), body_text=body,
                     published_at=kw.pop("published_at", datetime.fromisoformat("2026-01-10T08:00:00+07:00")),
                     **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield s
    s.close()


def test_new_then_unchanged_then_updated(store: Store) -> None:
    first = store.upsert("a", article("https://a.vn/tin/1.html"), Meeting(is_report=True, kind="tong_ket"))
    again = store.upsert("a", article("https://a.vn/tin/1.html?utm_source=fb#top"), Meeting())
    edited = store.upsert("a", article("https://a.vn/tin/1.html", body="Nội dung đã được sửa đổi nhiều."), Meeting())
    assert (first.status, again.status, edited.status) == ("new", "unchanged", "updated")
    assert first.article_id == again.article_id == edited.article_id
    assert store.count() == 1


def test_times_stay_timezone_aware_and_published_never_moves(store: Store) -> None:
    url = "https://a.vn/tin/2.html"
    store.upsert("a", article(url), Meeting())
    store.upsert("a", article(url, body="Bài đã sửa.", published_at=datetime(2026, 3, 1, tzinfo=UTC)), Meeting())
    row = store.articles()[0]
    assert row.published_at == datetime.fromisoformat("2026-01-10T08:00:00+07:00")
    assert row.published_at.utcoffset() is not None and row.fetched_at.utcoffset() is not None


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.upsert("a", article("https://a.vn/3.html", published_at=datetime(2026, 1, 1)), Meeting())


def test_same_article_over_https_and_mobile_edition_is_one_row(store: Store) -> None:
    a = store.upsert("a", article("http://www.a.vn/tin/4.html"), Meeting())
    b = store.upsert("a", article("https://m.a.vn/tin/4.html"), Meeting())
    assert a.article_id == b.article_id and store.count() == 1


def test_store_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    s = Store(url)
    s.upsert("a", article("https://a.vn/5.html"), Meeting(is_report=True, kind="so_ket"))
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
    store.upsert("a", article("https://a.vn/1.html"), Meeting())
    store.upsert("a", article("https://a.vn/2.html", body="Đoàn viên công đoàn cơ sở nhận quà Tết."), Meeting())
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


@pytest.mark.reliability("crawl-publish-concurrent")
def test_processes_starting_on_a_new_database_at_once_all_open_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(6):  # without the write lock around creation, most rounds lose a process
        url, barrier = f"sqlite:///{tmp_path / f'new-{round_}.sqlite'}", context.Barrier(3)
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
