"""The full-text index (feed.store.search) on a real SQLite file (FTS5) and a real PostgreSQL database (unaccent):
blind to case and diacritics, đ included; kept current by ingest; built on first open of an older store."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from feed.records import Extracted, Meeting
from feed.store import search
from feed.store.api import Store
from feed.store.search import SearchError, SearchQuery

VN = "+07:00"


def article(url: str, title: str, body: str, day: int = 10) -> Extracted:
    return Extracted(
        url=url,
        title=title,
        body_text=body,
        lead=body.split(".")[0] + ".",
        published_at=datetime.fromisoformat(f"2026-03-{day:02d}T08:00:00{VN}"),
    )


DAI_HOI = article(
    "https://congdoan-th.vn/tin/dai-hoi-cong-doan-tinh.html",
    "Đại hội Công đoàn tỉnh Thanh Hóa lần thứ XX, nhiệm kỳ 2023 – 2028",
    "Sáng 9/3, Đại hội Công đoàn tỉnh Thanh Hóa khai mạc trọng thể với 300 đại biểu. "
    "Đồng chí Nguyễn Văn Đức được bầu làm Chủ tịch.",
    day=10,
)
TONG_KET = article(
    "https://congdoan-th.vn/tin/tong-ket-nam.html",
    "Công đoàn Giáo dục tổng kết năm học",
    "Công đoàn Giáo dục tỉnh tổ chức hội nghị tổng kết năm học 2025 – 2026. "
    "Hội nghị ghi nhận nhiều đoàn viên tiêu biểu.",
    day=8,
)
AN_SINH = article(
    "https://ldld-hn.vn/tin/an-sinh.html",
    "Trao quà Tết cho đoàn viên khó khăn",
    "Liên đoàn Lao động thành phố trao 500 suất quà cho đoàn viên, người lao động có hoàn cảnh khó khăn.",
    day=5,
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def found(store: Store, text: str = "", **kw: object) -> list[str]:
    return [h.title for h in search.search(store.engine, SearchQuery(text=text, **kw))]  # type: ignore[arg-type]


def test_words_fold_case_diacritics_and_d_bar() -> None:
    assert search.words("Đại HỘI  công-đoàn") == ["dai", "hoi", "cong", "doan"]


def test_no_diacritics_finds_vietnamese_and_the_reverse(store: Store) -> None:
    for slug, art in (("th", DAI_HOI), ("th", TONG_KET), ("hn", AN_SINH)):
        store.upsert(slug, art)
    assert found(store, "dai hoi cong doan") == [DAI_HOI.title]
    assert found(store, "ĐẠI HỘI công đoàn") == [DAI_HOI.title]
    assert found(store, "van duc") == [DAI_HOI.title]  # "Văn Đức" in the body: đ folded in the index too
    assert found(store, "cong doan") == [DAI_HOI.title, TONG_KET.title]  # newest first
    assert found(store, "doan vien") == [TONG_KET.title, AN_SINH.title]
    assert found(store, "hoi nghi", sources=("hn",)) == []
    assert found(store, "", sources=("hn",)) == [AN_SINH.title]
    assert found(store, "", sources=()) == []
    assert found(store, "", since=datetime.fromisoformat(f"2026-03-07T00:00:00{VN}")) == [
        DAI_HOI.title,
        TONG_KET.title,
    ]
    assert found(store, "khong co tu nay") == []
    assert found(store, '"cong" (doan* -') == [DAI_HOI.title, TONG_KET.title]  # FTS syntax is only words


def test_kept_current_by_ingest_and_by_verdicts(store: Store) -> None:
    first = store.upsert("th", TONG_KET)
    assert found(store, "tong ket") == [TONG_KET.title]
    edited = article(TONG_KET.url, "Công đoàn Giáo dục sơ kết học kỳ I", "Hội nghị sơ kết học kỳ I năm học mới.")
    assert store.upsert("th", edited).status == "updated"
    assert found(store, "tong ket") == []
    assert found(store, "so ket hoc ky") == [edited.title]
    store.save_meeting(first.article_id, Meeting(is_report=True, kind="so_ket", org="Công đoàn Giáo dục tỉnh"))
    assert found(store, "", org="cong doan giao duc") == [edited.title]
    assert found(store, "", org="giao duc cong doan") == []  # the organiser is a phrase
    assert found(store, "hoc ky", kind="so_ket") == [edited.title]
    assert found(store, "hoc ky", kind="dai_hoi") == []


def test_an_updated_article_is_found_by_its_new_words_only_and_indexed_once(store: Store) -> None:
    """An update replaces the article's index row (no DELETE before each insert: a new article is only inserted,
    an updated one replaced); a batch mixing new and updated articles in one flush keeps one row each."""
    store.upsert("th", TONG_KET)
    store.upsert("hn", AN_SINH)
    so_ket = article(TONG_KET.url, "Công đoàn Giáo dục sơ kết học kỳ I", "Hội nghị sơ kết học kỳ I năm học mới.")
    with store.session() as s:  # one transaction, as a crawl's batch: one update, one new article, one more update
        assert store.upsert_in(s, "th", so_ket).status == "updated"
        assert store.upsert_in(s, "th", DAI_HOI).status == "new"
        s.flush()
        moved = article(AN_SINH.url, "Trao quà Tết sớm cho công nhân nhà trọ", "Công nhân ở trọ nhận quà Tết sớm.", 5)
        assert store.upsert_in(s, "hn", moved).status == "updated"
    assert found(store, "tong ket") == [] and found(store, "so ket hoc ky") == [so_ket.title]
    assert found(store, "suat qua") == [] and found(store, "nha tro") == [moved.title]
    assert found(store, "dai hoi") == [DAI_HOI.title]
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"SELECT article_id FROM {search.TABLE}").scalars().all()
        if connection.dialect.name == "sqlite":  # FTS5's own check that every row's words are indexed as stored
            connection.exec_driver_sql(f"INSERT INTO {search.TABLE}({search.TABLE}) VALUES ('integrity-check')")
    assert sorted(rows) == sorted(a.id for a in store.articles())


def test_one_result_per_story_and_bounded(store: Store) -> None:
    for n in range(5):
        store.upsert("th", article(f"https://congdoan-th.vn/tin/{n}.html", f"Hội nghị số {n}", "Hội nghị cán bộ."))
    assert len(found(store, "hoi nghi", limit=3)) == 3
    with pytest.raises(ValueError, match="limit must be between 1 and 200"):
        found(store, "hoi nghi", limit=500)
    with pytest.raises(ValueError, match="more than 16 words"):
        found(store, " ".join(["dai"] * 17))


@pytest.mark.reliability("search-old-store")
def test_an_older_store_gets_its_index_on_first_open(database_url: str) -> None:
    store = Store(database_url)
    store.upsert("th", DAI_HOI)
    store.upsert("hn", AN_SINH)
    with store.engine.begin() as connection:  # as a store made before search existed
        connection.exec_driver_sql(f"DROP TABLE {search.TABLE}")
    store.close()
    reopened = Store(database_url)
    try:
        assert reopened.searchable
        assert found(reopened, "dai hoi") == [DAI_HOI.title]
        assert found(reopened, "qua tet") == [AN_SINH.title]
    finally:
        reopened.close()


def test_the_reader_cannot_write_and_needs_a_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    Store(f"sqlite:///{path}").upsert("th", DAI_HOI)
    reader = search.open_reader(f"sqlite:///{path}")
    assert [h.title for h in search.search(reader, SearchQuery("Thanh Hoa"))] == [DAI_HOI.title]
    with pytest.raises(Exception, match="readonly"), reader.begin() as connection:
        connection.exec_driver_sql("DELETE FROM articles")
    reader.dispose()
    with pytest.raises(SearchError, match="no store at"):
        search.open_reader(f"sqlite:///{tmp_path / 'missing.sqlite'}")
    assert not (tmp_path / "missing.sqlite").exists()


def test_sqlite_index_is_fts5_with_remove_diacritics(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    Store(f"sqlite:///{path}").close()
    sql = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master WHERE name = 'article_search'").fetchone()[0]
    assert "fts5" in sql and "remove_diacritics 2" in sql


@pytest.mark.reliability("search-no-unaccent")
def test_postgresql_without_unaccent_still_stores_and_search_says_why() -> None:
    """A role that may not create extensions, in a database without unaccent: the store opens and stores, search
    answers one plain line; once a superuser creates the extension, the next open builds the index."""
    from sqlalchemy import create_engine, make_url, text

    from .support.databases import postgres_server

    base = make_url(postgres_server())
    name = f"q16_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
        connection.execute(text(f"CREATE ROLE {name} LOGIN NOSUPERUSER"))
    owner = create_engine(base.set(database=name), isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA s AUTHORIZATION {name}"))
        url = base.set(database=name, username=name, query={"options": "-csearch_path=s"})
        store = Store(url.render_as_string(hide_password=False))
        assert not store.searchable
        store.upsert("th", DAI_HOI)
        with pytest.raises(SearchError) as caught:
            search.search(store.engine, SearchQuery("dai hoi"), store.name)
        assert str(caught.value).startswith("search needs the PostgreSQL extension unaccent in ")
        assert "CREATE EXTENSION unaccent" in str(caught.value) and "\n" not in str(caught.value)
        store.close()
        with owner.connect() as connection:
            connection.execute(text("CREATE EXTENSION unaccent SCHEMA s"))
        reopened = Store(url.render_as_string(hide_password=False))
        assert reopened.searchable and found(reopened, "dai hoi cong doan") == [DAI_HOI.title]
        reopened.close()
    finally:
        owner.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


def test_a_huge_body_of_distinct_words_is_stored_and_found(store: Store) -> None:
    """200,000 characters of words that never repeat (a page of codes or a table): the article is stored (a
    tsvector past its limit would fail the upsert's transaction) and its words are found."""
    body = " ".join(f"ma{i:06d}" for i in range(25_000)) + " Đại hội kết thúc"
    stored = store.upsert("th", article("https://congdoan-th.vn/tin/bang-ma.html", "Bảng mã đoàn viên", body))
    assert stored.status == "new"
    assert found(store, "ma000007 bang ma") == ["Bảng mã đoàn viên"]
