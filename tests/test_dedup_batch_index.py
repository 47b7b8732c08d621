"""A batch's near-duplicate index (feed.dedup.batch_index): read in one round before the batch's first page, written
in one round at its end, with the index, the clusters and the canonical members page-by-page ingestion gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

from feed.ingest import Page, ingest, ingest_batch
from feed.records import Extracted
from feed.store.api import ArticleRow, Store

from .test_dedup import COPY, ORIGIN, OTHER_UNION, T0, UNRELATED
from .test_ingest_batch import AWARDS, CLOSING, DIALOGUE, MEMBERS, OPENING, REGISTRY, TET, stored

SITE = "https://ldld.thanhhoa.gov.vn/tin-tuc"
PIECES = (OPENING, DIALOGUE, MEMBERS, CLOSING, AWARDS)


def page(path: str, body: str, minutes: int, title: str = "Sơ kết hoạt động công đoàn") -> Page:
    article = Extracted(url=f"{SITE}/{path}", title=title, body_text=body, published_at=T0 + timedelta(minutes=minutes))
    return Page(article, T0 + timedelta(hours=3, minutes=minutes))


def crawl() -> list[list[Page]]:
    """Batches of a site's pages: rewrites of one report sharing three of five paragraphs (chains of copies across
    batches and inside them), exact copies, stories of their own, a corrected text, a short notice posted twice,
    and inside one batch a page seen twice with two texts (its second one the batch's read-ahead did not foresee)."""
    rewrites = [
        page(f"so-ket-{i}.html", "\n".join(PIECES[(i + j) % 5] for j in range(3)), 10 * i - 60) for i in range(10)
    ]
    others = [
        page("goc.html", ORIGIN, 5),
        page("ban-sao.html", COPY, 15),
        page("ban-sao-2.html", ORIGIN, 25),  # an exact copy
        page("ninh-binh.html", OTHER_UNION, 35),
        page("tet.html", TET, 45),
        page("kham.html", UNRELATED, 55),
    ]
    corrected = page("so-ket-3.html", "\n".join([DIALOGUE, MEMBERS, CLOSING, AWARDS]), -30)
    unforeseen = UNRELATED + "\nẢnh: Ban Tuyên giáo Liên đoàn Lao động tỉnh."
    twice = [page("tet-anh.html", TET + "\nẢnh: Ban Tuyên giáo.", 65), page("tet-anh.html", unforeseen, 66)]
    notice = "Liên đoàn Lao động tỉnh thông báo lịch tiếp đoàn viên, người lao động tháng 7/2026."  # short: exact only
    notices = [page("thong-bao.html", notice, 70, "Thông báo"), page("thong-bao-lich.html", notice, 71, "Thông báo")]
    return [
        rewrites[:4] + others[:2] + notices,
        rewrites[4:8] + others[2:] + twice,
        [*rewrites[8:], corrected, others[0]],
    ]


def index_tables(store: Store) -> tuple[list[Any], list[Any]]:
    with store.session() as s:
        docs = sorted(tuple(r) for r in s.execute(text("SELECT * FROM dedup_docs")))
        bands = sorted(tuple(r) for r in s.execute(text("SELECT key, article_id FROM dedup_bands")))
        return docs, bands


def test_a_batch_files_and_clusters_what_page_by_page_ingestion_does(database_url: str, tmp_path: Path) -> None:
    reference = Store(f"sqlite:///{tmp_path / 'page-by-page.sqlite'}")
    batched = Store(database_url)
    try:
        for b in crawl():  # after every batch: clusters only grow, so a later batch could hide an earlier miss
            expected = [
                ingest(reference, "ldld-thanhhoa", p.article, registry=REGISTRY, fetched_at=p.fetched_at) for p in b
            ]
            assert ingest_batch(batched, "ldld-thanhhoa", b, registry=REGISTRY) == expected
            want = stored(reference)
            assert stored(batched) == want
            assert index_tables(batched) == index_tables(reference)
        clusters = {url.rsplit("/", 1)[1]: row[3] for url, row in want.items()}
        assert len({clusters[f"so-ket-{i}.html"] for i in range(10)}) == 1  # one story, chained through batches
        assert clusters["thong-bao.html"] == clusters["thong-bao-lich.html"]  # one batch's exact copies, by hash
        assert clusters["goc.html"] == clusters["ban-sao.html"] == clusters["ban-sao-2.html"]
        assert clusters["tet-anh.html"] == clusters["kham.html"] == clusters["tet.html"]  # its two texts' stories
    finally:
        reference.close()
        batched.close()


def test_a_batch_reads_the_index_in_one_round_and_writes_it_in_one(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    first, second, _ = crawl()
    ingest_batch(store, "ldld-thanhhoa", first, registry=REGISTRY)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "dedup_" in statement:
            seen.append(statement.lstrip().split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        new = second[:-2]  # ten new pages, copies of stored ones among them
        ingest_batch(store, "ldld-thanhhoa", new, registry=REGISTRY)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    # Page by page this was five statements or more a page: here the buckets, the documents, then the two writes.
    assert seen == ["SELECT", "SELECT", "INSERT", "INSERT"]
    with store.session() as s:
        assert len(list(s.scalars(select(ArticleRow.id)))) == len(first) + len(new)
    store.close()
