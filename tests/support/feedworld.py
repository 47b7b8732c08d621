"""A small store of invented union articles for the publishing tests: clusters, meetings, awkward text, runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from feed.config.settings import Settings
from feed.config.sources import Source, parse_sources
from feed.records import Extracted, Meeting, Official
from feed.store.api import ArticleRow, Store

VN = timezone(timedelta(hours=7))
SOURCES: dict[str, Any] = {
    "version": 1,
    "sources": [
        {
            "slug": "ldld-mau",
            "name": "Liên đoàn Lao động tỉnh Mẫu",
            "kind": "labour_federation",
            "homepage": "http://127.0.0.1:9/ldld/",
            "discovery": {"feeds": ["http://127.0.0.1:9/ldld/rss.xml"]},
            "interval": 30,
        },
        {
            "slug": "bao-mau",
            "name": "Báo Mẫu & Đời sống",
            "kind": "provincial_paper",
            "homepage": "http://127.0.0.1:9/bao/",
            "discovery": {"feeds": ["http://127.0.0.1:9/bao/rss.xml"]},
        },
        {
            "slug": "cd-nganh-mau",
            "name": "Công đoàn ngành Mẫu",
            "kind": "sector_union",
            "homepage": "http://127.0.0.1:9/nganh/",
            "discovery": {"sitemaps": ["http://127.0.0.1:9/nganh/s.xml"]},
            "interval": 120,
        },
        {
            "slug": "nguon-im-lang",
            "name": "Nguồn chưa thu thập",
            "kind": "other",
            "homepage": "http://127.0.0.1:9/im/",
            "discovery": {"feeds": ["http://127.0.0.1:9/im/rss.xml"]},
        },
    ],
}


@dataclass(frozen=True)
class Art:
    key: str
    source: str
    title: str
    body: str
    published: datetime | None
    kind: str | None = None
    org: str | None = None
    lead: str | None = None
    author: str | None = None
    held_on: str | None = None
    location: str | None = None


ARTICLES = (
    Art(
        "tong-ket",
        "ldld-mau",
        "Công đoàn tỉnh Mẫu tổng kết năm 2025, đặt mục tiêu 2026",
        "Sáng 10/1, Liên đoàn Lao động tỉnh Mẫu tổ chức hội nghị tổng kết công tác công đoàn năm 2025.\n\n"
        "Năm qua, công đoàn các cấp đã phát triển thêm 4.210 đoàn viên mới & thành lập 12 công đoàn cơ sở.\n\n"
        "Hội nghị đề ra 5 nhiệm vụ trọng tâm cho năm 2026.",
        datetime(2026, 1, 10, 9, 30, tzinfo=VN),
        "tong_ket",
        "Liên đoàn Lao động tỉnh Mẫu",
        lead="Năm 2025 ghi dấu nhiều kết quả nổi bật.",
        author="Minh Châu",
        held_on="2026-01-10",
        location="Hội trường tỉnh Mẫu",
    ),
    Art(
        "so-ket",
        "ldld-mau",
        "Sơ kết 6 tháng: chăm lo <việc làm> cho người lao động",
        "Chiều 15/7, Liên đoàn Lao động tỉnh Mẫu sơ kết hoạt động 6 tháng đầu năm.\n\n"
        "Các cấp công đoàn đã thăm hỏi 1.350 đoàn viên khó khăn.",
        datetime(2026, 7, 15, 16, 0, tzinfo=VN),
        "so_ket",
        "Liên đoàn Lao động tỉnh Mẫu",
        held_on="2026-07-15",
    ),
    Art(
        "so-ket-ban-sao",
        "bao-mau",
        "Tỉnh Mẫu: công đoàn chăm lo việc làm cho người lao động",
        "Chiều 15/7, Liên đoàn Lao động tỉnh Mẫu sơ kết hoạt động 6 tháng đầu năm.\n\n"
        "Các cấp công đoàn đã thăm hỏi 1.350 đoàn viên khó khăn.",
        datetime(2026, 7, 16, 8, 0, tzinfo=VN),
        "so_ket",
        "Liên đoàn Lao động tỉnh Mẫu",
    ),
    Art(
        "dai-hoi",
        "cd-nganh-mau",
        "Đại hội Công đoàn ngành Mẫu lần thứ V, nhiệm kỳ 2026–2031",
        "Ngày 20/5, Đại hội Công đoàn ngành Mẫu khai mạc với 180 đại biểu chính thức.\n\n"
        "Đại hội bầu Ban Chấp hành gồm 25 đồng chí.",
        datetime(2026, 5, 20, 10, 0, tzinfo=VN),
        "dai_hoi",
        "Công đoàn ngành Mẫu",
        location="Hà Nội",
    ),
    Art(
        "bch",
        "cd-nganh-mau",
        'Hội nghị Ban Chấp hành lần thứ 3 bàn về "thỏa ước" lao động',
        "Hội nghị Ban Chấp hành Công đoàn ngành Mẫu lần thứ 3 thảo luận dự thảo thỏa ước lao động tập thể.",
        datetime(2026, 6, 2, 14, 0, tzinfo=VN),
        "hoi_nghi_bch",
        "Công đoàn ngành Mẫu",
    ),
    Art(
        "tin-thuong",
        "bao-mau",
        "Tặng 300 suất quà Tết cho công nhân\x0b khó khăn",
        "Công đoàn các khu công nghiệp trao 300 suất quà\x01 cho công nhân không về quê đón Tết.\u200f",
        datetime(2026, 1, 25, 7, 15, tzinfo=VN),
    ),
    Art(
        "khong-ngay",
        "bao-mau",
        "Hỏi đáp: quyền lợi khi nghỉ thai sản",
        "Người lao động nữ được nghỉ thai sản 6 tháng theo quy định của Bộ luật Lao động.",
        None,
    ),
    Art(
        "hoi-thao",
        "ldld-mau",
        "Hội thảo về an toàn lao động trong mùa nắng nóng",
        "Liên đoàn Lao động tỉnh Mẫu tổ chức hội thảo an toàn, vệ sinh lao động.",
        datetime(2026, 7, 1, 8, 0, tzinfo=VN),
        "other_meeting",
        None,
    ),
)


@dataclass
class World:
    store: Store
    settings: Settings
    sources: list[Source]
    ids: dict[str, str]  # Art.key -> article id

    def url(self, key: str) -> str:
        art = next(a for a in ARTICLES if a.key == key)
        return f"http://127.0.0.1:9/{art.source}/{art.key}.html"


def article_url(art: Art) -> str:
    return f"http://127.0.0.1:9/{art.source}/{art.key}.html"


def add_article(store: Store, art: Art, fetched_at: datetime) -> str:
    """Store one invented article through the real upsert."""
    meeting = Meeting()
    if art.kind:
        meeting = Meeting(
            is_report=True,
            score=0.9,
            kind=art.kind,
            org=art.org,
            held_on=art.held_on,
            location=art.location,
            officials=[Official("Nguyễn Văn Mẫu", "Chủ tịch")],
            cues=["tổ chức hội nghị"],
        )
    extracted = Extracted(
        url=article_url(art),
        title=art.title,
        published_at=art.published,
        author=art.author,
        lead=art.lead,
        body_text=art.body,
    )
    article_id = store.upsert(art.source, extracted, fetched_at=fetched_at).article_id
    store.save_meeting(article_id, meeting)
    return article_id


def join_cluster(store: Store, canonical: str, copy: str) -> None:
    """Mark copy as a duplicate of canonical, as the dedup stage does."""
    with store.session() as s:
        for article_id, is_canonical in ((canonical, True), (copy, False)):
            row = s.get(ArticleRow, article_id)
            assert row is not None
            row.cluster_id, row.is_canonical = canonical, is_canonical


def add_runs(store: Store) -> None:
    """One healthy run, one run with a page error, none for the silent source."""
    ok = store.start_run("ldld-mau")
    store.finish_run(ok, pages=5, new=4, updated=0, errors=0, finish_reason="finished", stats={})
    bad = store.start_run("bao-mau")
    store.record_error("bao-mau", "http://127.0.0.1:9/bao-mau/hong.html", "ValueError: trang bị cắt <giữa chừng>", bad)
    store.finish_run(bad, pages=4, new=3, updated=0, errors=1, finish_reason="finished", stats={})
    store.finish_run(
        store.start_run("cd-nganh-mau"), pages=2, new=2, updated=0, errors=0, finish_reason="finished", stats={}
    )


def make_world(
    tmp: Path,
    *,
    hub: str | None = None,
    site_url: str = "http://127.0.0.1:8080/",
    db_name: str = "feeds.sqlite",
    db_url: str | None = None,
) -> World:
    """A store with ARTICLES, the syndicated copy in its origin's cluster, and crawl runs (in a SQLite file
    db_name in tmp, or the database at db_url: tests/support/databases.py)."""
    store = Store(db_url or f"sqlite:///{tmp / db_name}")
    fetched = datetime(2026, 7, 16, 9, 0, tzinfo=VN)
    ids = {art.key: add_article(store, art, fetched) for art in ARTICLES}
    join_cluster(store, ids["so-ket"], ids["so-ket-ban-sao"])
    add_runs(store)
    settings = replace(
        Settings(),
        data=tmp,
        public_dir=tmp / "public",
        site_url=site_url,
        websub_hub=hub,
        feed_limit=50,
        snapshot_retention_days=30,
    )
    return World(store, settings, parse_sources(SOURCES), ids)


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    """The store of make_world on each engine (database_url), closed after the test: import it as a fixture."""
    made = make_world(tmp_path, db_url=database_url)
    yield made
    made.store.close()
