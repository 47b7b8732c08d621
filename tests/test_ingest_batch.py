"""The store pipeline in batches: `feed.ingest.ingest_batch` stores, classifies and clusters a batch of pages in
one transaction, with the results page-by-page ingestion gives; one page's own trouble loses only that page."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from feed.config.sources import parse_sources
from feed.ingest import Ingested, Page, ingest, ingest_batch
from feed.records import Extracted
from feed.store.api import ArticleRow, Store

from .test_dedup import COPY, ORIGIN, OTHER_UNION, T0, UNRELATED

REGISTRY = parse_sources(
    {
        "version": 1,
        "sources": [
            {"slug": slug, "name": name, "kind": "union_portal", "homepage": f"https://{host}/"}
            for slug, name, host in (
                ("ldld-thanhhoa", "Liên đoàn Lao động tỉnh Thanh Hóa", "ldld.thanhhoa.gov.vn"),
                ("baothanhhoa", "Báo Thanh Hóa", "baothanhhoa.vn"),
                ("ldld-ninhbinh", "Liên đoàn Lao động tỉnh Ninh Bình", "congdoan.ninhbinh.gov.vn"),
            )
        ],
    }
)
TET = (
    "Sáng 20/1, Công đoàn Khu kinh tế tỉnh Thanh Hóa tổ chức chương trình Tết Sum vầy năm 2027 cho 300 công "
    "nhân lao động đang làm việc tại các doanh nghiệp trong khu kinh tế Nghi Sơn. Tại chương trình, ban tổ chức "
    "trao 300 suất quà, mỗi suất trị giá 800 nghìn đồng, và 50 vé xe đưa công nhân về quê đón Tết.\n"
    "Phát biểu tại chương trình, đồng chí Chủ tịch Công đoàn Khu kinh tế đề nghị các công đoàn cơ sở tiếp tục "
    "chăm lo đời sống, bảo vệ quyền lợi hợp pháp, chính đáng của đoàn viên, người lao động."
)


def pages() -> list[tuple[str, Page]]:
    """A crawl's worth of pages from three sources: an origin, a syndicated copy crediting it, another union's
    report on the same template, unrelated news, the origin again with a corrected title, a page twice."""

    def page(slug: str, url: str, title: str, body: str, minutes: int, credit: str | None = None) -> tuple[str, Page]:
        article = Extracted(
            url=url, title=title, body_text=body, published_at=T0 + timedelta(minutes=minutes), syndicated_from=credit
        )
        return slug, Page(article, T0 + timedelta(hours=1, minutes=minutes))

    origin_url = "https://ldld.thanhhoa.gov.vn/tin-tuc/hoi-nghi-so-ket-6-thang.html"
    return [
        page("ldld-thanhhoa", origin_url, "Hội nghị sơ kết hoạt động công đoàn 6 tháng đầu năm", ORIGIN, 0),
        page(
            "baothanhhoa",
            "https://baothanhhoa.vn/cong-doan/so-ket-cong-doan-6-thang.html",
            "LĐLĐ tỉnh sơ kết hoạt động công đoàn 6 tháng",
            COPY,
            90,
            credit="Liên đoàn Lao động tỉnh Thanh Hóa",
        ),
        page(
            "ldld-ninhbinh",
            "https://congdoan.ninhbinh.gov.vn/tin/so-ket-6-thang.html",
            "Ninh Bình sơ kết công đoàn 6 tháng",
            OTHER_UNION,
            120,
        ),
        page("ldld-thanhhoa", "https://ldld.thanhhoa.gov.vn/tin-tuc/kham-suc-khoe.html", "Khám sức khỏe", UNRELATED, 5),
        page("ldld-thanhhoa", "https://ldld.thanhhoa.gov.vn/tin-tuc/tet-sum-vay.html", "Tết Sum vầy 2027", TET, 7),
        page("ldld-thanhhoa", origin_url, "Hội nghị sơ kết công đoàn 6 tháng đầu năm 2026", ORIGIN, 0),
        page("ldld-thanhhoa", "https://ldld.thanhhoa.gov.vn/tin-tuc/tet-sum-vay.html", "Tết Sum vầy 2027", TET, 7),
    ]


def stored(store: Store) -> dict[str, tuple[Any, ...]]:
    """Everything ingestion decides about each stored article, by URL (cluster ids are article ids)."""
    with store.session() as s:
        rows = list(s.scalars(select(ArticleRow)))
        return {
            r.url: (
                r.id,
                r.title,
                r.content_hash,
                r.cluster_id,
                r.is_canonical,
                r.meeting,
                r.is_meeting_report,
                r.meeting_kind,
                r.first_seen_at,
                r.changed_at,
                r.published_at,
            )
            for r in rows
        }


def by_source(items: list[tuple[str, Page]]) -> list[tuple[str, list[Page]]]:
    """Consecutive pages of one source, as the pipeline's batches are (one crawl is one source)."""
    runs: list[tuple[str, list[Page]]] = []
    for slug, page in items:
        if runs and runs[-1][0] == slug:
            runs[-1][1].append(page)
        else:
            runs.append((slug, [page]))
    return runs


def test_a_batch_stores_classifies_and_clusters_as_page_by_page_ingestion(database_url: str, tmp_path: Path) -> None:
    reference = Store(f"sqlite:///{tmp_path / 'page-by-page.sqlite'}")
    batched = Store(database_url)
    try:
        expected = [
            ingest(reference, slug, page.article, registry=REGISTRY, fetched_at=page.fetched_at)
            for slug, page in pages()
        ]
        got: list[Ingested | Exception] = []
        for slug, batch in by_source(pages()):
            got += ingest_batch(batched, slug, batch, registry=REGISTRY)
        assert got == expected
        assert [r.status for r in expected] == ["new", "new", "new", "new", "new", "updated", "unchanged"]
        want = stored(reference)
        assert stored(batched) == want
        # The copy joined the origin's story, the origin it credits is canonical; the other union stays alone.
        origin, copy, other = (want[p.article.url] for _, p in pages()[:3])
        assert copy[3] == origin[3] == origin[0] and origin[4] and not copy[4]
        assert other[3] != origin[3]
        assert any(row[6] for row in want.values())  # the reports were classified as meeting reports
    finally:
        reference.close()
        batched.close()


def test_a_page_the_store_refuses_loses_only_itself(database_url: str, tmp_path: Path) -> None:
    store = Store(database_url)
    alone = Store(f"sqlite:///{tmp_path / 'good-pages-alone.sqlite'}")
    try:
        good = [p for slug, p in pages()[3:5]]
        naive = datetime(2026, 7, 14, 17, 5)  # no timezone: the store refuses it rather than guess
        refused = Page(Extracted(url="https://ldld.thanhhoa.gov.vn/tin-tuc/loi.html", title="Lỗi", body_text=TET))
        refused = Page(Extracted(**{**refused.article.__dict__, "published_at": naive}), T0)
        results = ingest_batch(store, "ldld-thanhhoa", [good[0], refused, good[1]], registry=REGISTRY)
        assert [type(r).__name__ for r in results] == ["Ingested", "StatementError", "Ingested"]
        assert "naive datetime" in str(results[1])
        ingest_batch(alone, "ldld-thanhhoa", good, registry=REGISTRY)
        assert stored(store) == stored(alone)  # the good pages stored, classified and clustered, the bad one not
        assert refused.article.url not in stored(store)  # so the next poll, not knowing it, fetches it again
    finally:
        store.close()
        alone.close()


def test_an_empty_batch_writes_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        assert ingest_batch(store, "ldld-thanhhoa", []) == []
        assert store.count() == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("value", "expected"), [("", (50, 2.0)), ("4", (4, 2.0)), ("200,0.5", (200, 0.5)), (" 1 , 30 ", (1, 30.0))]
)
def test_batch_bounds_come_from_the_settings_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[int, float]
) -> None:
    from unionfeed_scrapers.pipelines import BATCH_ENV, batch_bounds

    monkeypatch.setenv(BATCH_ENV, value)
    assert batch_bounds() == expected


@pytest.mark.parametrize("value", ["cinquante", "0", "50,0", "50,-1", "20000"])
def test_bad_batch_bounds_are_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from unionfeed_scrapers.pipelines import BATCH_ENV, batch_bounds

    monkeypatch.setenv(BATCH_ENV, value)
    with pytest.raises(ValueError, match=r"UNIONFEED_STORE_BATCH|store batches of") as caught:
        batch_bounds()
    assert "\n" not in str(caught.value)


def test_the_pipeline_commits_full_batches_and_the_last_one_at_close(tmp_path: Path) -> None:
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from unionfeed_scrapers.pipelines import StorePipeline
    from unionfeed_scrapers.spiders.generic import GenericSpider

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    crawler = get_crawler(GenericSpider, {"UNIONFEED_DB_URL": url, "UNIONFEED_STORE_BATCH_ITEMS": 3})
    crawler.spider = GenericSpider(source=REGISTRY[0], registry=tuple(REGISTRY))
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider(crawler.spider)
    reader = Store(url)
    try:
        items = [
            {"source": slug, "url": p.article.url, "article": p.article, "fetched_at": p.fetched_at}
            for slug, p in pages()
            if slug == "ldld-thanhhoa"
        ]
        counts = []
        for item in items:
            pipeline.process_item(item)
            counts.append(reader.count())
        assert counts == [0, 0, 3, 3, 3]  # one transaction per full batch of 3; pages 4 and 5 wait
        pipeline.close_spider(crawler.spider)  # the spider closes: the waiting batch is written
        assert reader.count() == 3  # page 4 repeats the origin (updated), page 5 the Tết page (unchanged)
        assert pipeline.counts["new"] == 3 and pipeline.counts["updated"] == 1 and pipeline.counts["unchanged"] == 1
        assert crawler.stats.get_value("unionfeed/articles_new") == 3
        assert not crawler.stats.get_value("unionfeed/store_failed")
    finally:
        reader.close()
        crawler.signals.send_catch_log(signals.engine_stopped)  # the crawl's end releases its shared store handle


def test_a_batch_sees_its_own_earlier_articles_before_its_one_flush(database_url: str, tmp_path: Path) -> None:
    """Copies inside one batch (a site that posts a story twice, a corrected text), written in one flush at the
    commit: each page's clustering reads the batch's earlier rows, texts and clusters from memory, and the outcome
    is page-by-page ingestion's."""
    site = "https://ldld.thanhhoa.gov.vn/tin-tuc"

    def page(path: str, title: str, body: str, minutes: int) -> Page:
        article = Extracted(
            url=f"{site}/{path}", title=title, body_text=body, published_at=T0 + timedelta(minutes=minutes)
        )
        return Page(article, T0 + timedelta(hours=2, minutes=minutes))

    corrected = ORIGIN.replace("Hội nghị", "Hội nghị sơ kết", 1) + "\nBan Thường vụ LĐLĐ tỉnh ghi nhận ý kiến."
    batches = [
        [page("so-ket.html", "Sơ kết công đoàn 6 tháng", ORIGIN, 0)],
        [
            page("so-ket-ban-in.html", "Sơ kết công đoàn 6 tháng (bản in)", COPY, 30),  # joins the stored story
            page("so-ket-lan-2.html", "Sơ kết công đoàn 6 tháng đầu năm", ORIGIN, 40),  # exact copy: hash look-up
            page("ninh-binh.html", "Ninh Bình sơ kết", OTHER_UNION, 50),  # another union's report: alone
            page("tet.html", "Tết Sum vầy 2027", TET, 60),
            page("tet-2.html", "Tết Sum vầy 2027 (ảnh)", TET, 70),  # copy of a row not flushed yet
            page("so-ket.html", "Sơ kết công đoàn 6 tháng", corrected, 0),  # its text corrected: re-filed
            page("tet.html", "Tết Sum vầy 2027", TET, 60),  # again in the batch: unchanged
            page("kham.html", "Khám sức khỏe", UNRELATED, 80),
        ],
    ]
    reference = Store(f"sqlite:///{tmp_path / 'page-by-page.sqlite'}")
    batched = Store(database_url)
    try:
        expected = [
            ingest(reference, "ldld-thanhhoa", p.article, registry=REGISTRY, fetched_at=p.fetched_at)
            for b in batches
            for p in b
        ]
        got = [r for b in batches for r in ingest_batch(batched, "ldld-thanhhoa", b, registry=REGISTRY)]
        assert got == expected
        want = stored(reference)
        assert stored(batched) == want
        clusters = {url.rsplit("/", 1)[1]: row[3] for url, row in want.items()}
        story = clusters["so-ket.html"]
        assert clusters["so-ket-ban-in.html"] == clusters["so-ket-lan-2.html"] == story
        assert clusters["tet-2.html"] == clusters["tet.html"] != story
        assert len({clusters["ninh-binh.html"], clusters["kham.html"], story, clusters["tet.html"]}) == 4
    finally:
        reference.close()
        batched.close()


# Three paragraphs of a report; two rewrites of it, each keeping two of them: each is a copy of the report, not of
# the other (the story is a chain).
OPENING = (
    "Chiều 14/7, Liên đoàn Lao động tỉnh Thanh Hóa tổ chức hội nghị sơ kết hoạt động công đoàn sáu tháng đầu năm. "
    "Dự hội nghị có lãnh đạo Ban Dân vận Tỉnh ủy, đại diện các sở, ngành và chủ tịch công đoàn cấp trên cơ sở. "
    "Báo cáo tại hội nghị cho biết các cấp công đoàn đã tập trung chăm lo đời sống, việc làm cho đoàn viên."
)
DIALOGUE = (
    "Công đoàn các khu công nghiệp phối hợp với doanh nghiệp tổ chức đối thoại định kỳ tại nơi làm việc, giải quyết "
    "kịp thời kiến nghị về tiền lương, bữa ăn ca và điều kiện nhà trọ của công nhân. Nhiều doanh nghiệp cam kết "
    "tăng mức hỗ trợ đi lại, gửi trẻ cho người lao động có con nhỏ."
)
MEMBERS = (
    "Công tác phát triển đoàn viên, thành lập công đoàn cơ sở trong doanh nghiệp ngoài nhà nước tiếp tục được "
    "đẩy mạnh. Các cấp công đoàn đã tuyên truyền pháp luật lao động, tập huấn nghiệp vụ cho cán bộ công đoàn cơ sở "
    "và kiểm tra, giám sát việc thực hiện chế độ bảo hiểm xã hội."
)
CLOSING = (
    "Phát biểu kết luận, đồng chí Chủ tịch Liên đoàn Lao động tỉnh đề nghị các cấp công đoàn bám sát cơ sở, "
    "lắng nghe tâm tư, nguyện vọng của người lao động và chủ động phòng ngừa tranh chấp lao động tập thể, "
    "ngừng việc tập thể trong những tháng cuối năm."
)
AWARDS = (
    "Dịp này, Ban Thường vụ Liên đoàn Lao động tỉnh đã trao bằng khen cho các tập thể, cá nhân có thành tích "
    "xuất sắc trong phong trào thi đua lao động giỏi, lao động sáng tạo; trao quà cho đoàn viên có hoàn cảnh "
    "đặc biệt khó khăn và công nhân bị tai nạn lao động."
)


def test_a_batch_finds_the_members_of_a_story_it_has_not_flushed(database_url: str, tmp_path: Path) -> None:
    """A page that copies one member of a story joins all of it, the members only the batch holds included: the
    earliest (the batch's unflushed rewrite) stays the one canonical member."""
    site = "https://ldld.thanhhoa.gov.vn/tin-tuc"

    def page(path: str, body: str, minutes: int) -> Page:
        title = "Sơ kết hoạt động công đoàn 6 tháng đầu năm"
        article = Extracted(
            url=f"{site}/{path}", title=title, body_text=body, published_at=T0 + timedelta(minutes=minutes)
        )
        return Page(article, T0 + timedelta(hours=2, minutes=minutes))

    report = page("so-ket.html", "\n".join([OPENING, DIALOGUE, MEMBERS]), 0)
    first = page("so-ket-ket-luan.html", "\n".join([OPENING, DIALOGUE, CLOSING]), -30)  # copies the report only
    second = page("so-ket-khen-thuong.html", "\n".join([DIALOGUE, MEMBERS, AWARDS]), 40)  # copies the report only
    reference = Store(f"sqlite:///{tmp_path / 'page-by-page.sqlite'}")
    batched = Store(database_url)
    try:
        for p in (report, first, second):
            ingest(reference, "ldld-thanhhoa", p.article, registry=REGISTRY, fetched_at=p.fetched_at)
        for b in ([report], [first, second]):
            ingest_batch(batched, "ldld-thanhhoa", b, registry=REGISTRY)
        want = stored(reference)
        assert stored(batched) == want
        assert len({row[3] for row in want.values()}) == 1  # one story
        assert [url for url, row in want.items() if row[4]] == [first.article.url]  # one canonical: the earliest
    finally:
        reference.close()
        batched.close()
