"""Stable feed identity through every kind of churn, on a real SQLite store built with Store.upsert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feed.dedup.clusters import assign_cluster
from feed.publish.guids import (
    FeedIdentity,
    body_basis,
    cluster_members,
    is_material,
    issue_identities,
)
from feed.records import Extracted
from feed.store.api import Store

PUBLISHED = datetime.fromisoformat("2026-01-12T09:30:00+07:00")
NOW = datetime.fromisoformat("2026-01-12T12:00:00+07:00")
BODY = "\n".join(
    (
        "Sáng 10/1, Công đoàn Viên chức tỉnh Hà Nam tổ chức Hội nghị tổng kết hoạt động công đoàn năm 2025, triển "
        "khai nhiệm vụ năm 2026. Dự hội nghị có đồng chí Phạm Quang Vinh, Phó Chủ tịch Liên đoàn Lao động tỉnh.",
        "Năm 2025, Công đoàn Viên chức tỉnh đã chỉ đạo 61 công đoàn cơ sở tổ chức hội nghị cán bộ, công chức, "
        "viên chức đúng quy định; kết nạp 318 đoàn viên mới; trao 46 Mái ấm Công đoàn cho đoàn viên khó khăn.",
        "Phong trào thi đua Giỏi việc nước, đảm việc nhà được hưởng ứng rộng rãi với 2.140 nữ đoàn viên tham gia; "
        "có 27 sáng kiến được công nhận cấp tỉnh, làm lợi hàng trăm triệu đồng cho các cơ quan, đơn vị.",
        "Phát biểu tại hội nghị, đồng chí Phạm Quang Vinh đề nghị Công đoàn Viên chức tỉnh tiếp tục đổi mới nội "
        "dung hoạt động, chăm lo tốt hơn đời sống của đoàn viên và chuẩn bị tốt đại hội công đoàn cơ sở.",
        "Dịp này, Công đoàn Viên chức tỉnh tặng Bằng khen cho 15 tập thể và 32 cá nhân có thành tích xuất sắc.",
    )
)
NEW_PARAGRAPH = (
    "Cũng tại hội nghị, các đại biểu đã thảo luận sôi nổi về giải pháp phát triển đoàn viên trong khối trường "
    "học ngoài công lập, nơi tỉ lệ người lao động chưa tham gia công đoàn còn cao so với bình quân chung toàn "
    "tỉnh, và kiến nghị Liên đoàn Lao động tỉnh hỗ trợ kinh phí tập huấn cho cán bộ công đoàn cơ sở mới."
)
URL = "http://cdvc.hanam.gov.vn/tin-tuc/hoi-nghi-tong-ket-nam-2025-123.html"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'identity.sqlite'}")
    yield s
    s.close()


def crawl(
    store: Store,
    url: str,
    body: str = BODY,
    *,
    slug: str = "cdvc-hanam",
    title: str | None = None,
    published: datetime = PUBLISHED,
    credit: str | None = None,
    at: datetime | None = None,
) -> str:
    """What the pipeline does with one fetched page: upsert, then cluster when new or changed."""
    art = Extracted(
        url=url,
        title=title or "Hội nghị tổng kết công đoàn năm 2025",
        body_text=body,
        published_at=published,
        syndicated_from=credit,
    )
    result = store.upsert(slug, art, fetched_at=at)
    if result.status != "unchanged":
        assign_cluster(store, result.article_id)
    return result.article_id


def publish(store: Store, now: datetime = NOW) -> dict[str, FeedIdentity]:
    """What the publisher does: identities for the canonical member of every story."""
    rows = [r for r in store.articles() if r.is_canonical]
    return issue_identities(store, rows, now)


def only(identities: dict[str, FeedIdentity]) -> FeedIdentity:
    distinct = set(identities.values())
    assert len(distinct) == 1, distinct
    return distinct.pop()


def test_first_issue(store: Store) -> None:
    article = crawl(store, URL)
    ident = only(publish(store))
    assert ident.guid == f"urn:unionfeed:{article}"
    assert ident.link == URL
    assert ident.published_at == PUBLISHED == ident.updated_at
    assert ident.cluster_id == article


def test_scheme_change(store: Store) -> None:
    crawl(store, URL)
    before = only(publish(store))
    crawl(store, URL.replace("http://", "https://www."))
    assert store.count() == 1
    assert only(publish(store, NOW + timedelta(hours=1))) == before


def test_slug_edit_keeps_the_story(store: Store) -> None:
    crawl(store, URL)
    before = only(publish(store))
    moved = crawl(
        store,
        URL.replace("hoi-nghi-tong-ket-nam-2025", "cong-doan-vien-chuc-tong-ket-nam-2025"),
        at=datetime.fromisoformat("2026-01-12T15:00:00+07:00"),
    )
    assert store.count() == 2
    after = publish(store, NOW + timedelta(hours=4))
    assert only(after) == before
    assert moved in {m.id for m in cluster_members(store, before.cluster_id)}


def test_title_edit(store: Store) -> None:
    crawl(store, URL)
    before = only(publish(store))
    crawl(store, URL, title="Công đoàn Viên chức tỉnh tổng kết năm 2025, triển khai nhiệm vụ năm 2026")
    assert store.articles()[0].title.startswith("Công đoàn Viên chức")
    assert only(publish(store, NOW + timedelta(hours=1))) == before


def test_recrawl_of_the_same_page(store: Store) -> None:
    crawl(store, URL)
    before = only(publish(store))
    for hours in (1, 2, 3):
        crawl(store, URL, at=NOW + timedelta(hours=hours))
        assert only(publish(store, NOW + timedelta(hours=hours))) == before


def test_same_article_through_feed_and_listing(store: Store) -> None:
    from_feed = crawl(store, URL + "?utm_source=rss&utm_medium=feed")
    before = only(publish(store))
    from_listing = crawl(store, URL.replace("http://", "http://m.") + "#top")
    assert from_feed == from_listing and store.count() == 1
    assert only(publish(store, NOW + timedelta(hours=1))) == before
    assert before.link == URL


def test_canonical_member_changes_after_publication(store: Store) -> None:
    # The newspaper's copy is crawled and published first; the union's own page turns up a day later and,
    # credited by the copy, becomes canonical. The story keeps the guid, link and time it was first shown with.
    copy_url = "https://baohanam.vn/cong-doan/hoi-nghi-tong-ket-cong-doan-vien-chuc-5531.html"
    copy_body = "(BHN) - " + BODY.replace("Sáng 10/1", "Sáng ngày 10/1") + "\n(Theo cdvc.hanam.gov.vn)"
    copy = crawl(
        store,
        copy_url,
        copy_body,
        slug="baohanam",
        published=PUBLISHED + timedelta(hours=5),
        credit="cdvc.hanam.gov.vn",
    )
    before = only(publish(store))
    assert before.guid == f"urn:unionfeed:{copy}" and before.link == copy_url

    origin = crawl(store, URL)
    members = cluster_members(store, before.cluster_id)
    assert [m.id for m in members] == [origin, copy] and members[0].is_canonical
    after = publish(store, NOW + timedelta(days=1))
    assert only(after) == before  # same guid, link, published; the bodies differ only by copy edits
    assert set(after) == {origin}


def test_updated_moves_only_on_a_material_change(store: Store) -> None:
    crawl(store, URL)
    first = only(publish(store))
    crawl(store, URL, BODY.replace("318 đoàn viên mới", "318 đoàn viên mới,"))  # punctuation
    crawl(store, URL, BODY.replace("sôi nổi", "sôi nổi").replace("46 Mái ấm", "46 mái ấm"))  # case
    crawl(store, URL, BODY.replace("hàng trăm triệu đồng", "hàng trăm triệu đồng mỗi năm"))  # small edit
    typo = only(publish(store, NOW + timedelta(hours=1)))
    assert typo == first

    later = NOW + timedelta(hours=2)
    crawl(store, URL, BODY + "\n" + NEW_PARAGRAPH)
    grown = only(publish(store, later))
    assert grown.updated_at == later
    assert (grown.guid, grown.link, grown.published_at) == (first.guid, first.link, first.published_at)
    assert only(publish(store, later + timedelta(hours=1))) == grown  # no change since: no new updated


def test_identity_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.sqlite'}"
    first = Store(url)
    crawl(first, URL)
    before = only(publish(first))
    first.close()
    second = Store(url)
    crawl(second, URL.replace("http://", "https://"))
    assert only(publish(second, NOW + timedelta(days=3))) == before
    second.close()


def test_two_stories_get_two_identities(store: Store) -> None:
    a = crawl(store, URL)
    other = BODY.replace("Hà Nam", "Nam Định").replace("Phạm Quang Vinh", "Trần Thị Lan")
    for old, new in (("61", "74"), ("318", "402"), ("2.140", "2.915"), ("27", "33"), ("46", "51")):
        other = other.replace(old, new)
    b = crawl(store, "https://cdvc.namdinh.gov.vn/tin/tong-ket-2025-88.html", other, slug="cdvc-namdinh")
    identities = publish(store)
    assert identities[a].guid != identities[b].guid


def test_material_judgement() -> None:
    basis = body_basis(BODY)
    assert not is_material(basis, body_basis(BODY))
    assert not is_material(basis, body_basis(BODY.replace("sáng kiến", "sáng kiến kỹ thuật")))
    assert is_material(basis, body_basis(BODY + "\n" + NEW_PARAGRAPH))
    assert is_material(basis, body_basis(BODY.split("\n", 1)[1]))  # the opening paragraph is gone
    assert is_material(body_basis("Tin ngắn."), body_basis("Tin ngắn đã sửa."))


def test_naive_now_is_refused(store: Store) -> None:
    crawl(store, URL)
    with pytest.raises(ValueError, match="tz-aware"):
        issue_identities(store, store.articles(), datetime(2026, 1, 12, 12, 0))


def test_a_large_publish_costs_a_few_lookups_per_chunk(store: Store) -> None:
    from sqlalchemy import event

    for i in range(1100):
        body = f"Công đoàn cơ sở số {i} tổ chức hội nghị người lao động năm 2026 với {i * 3 + 7} đại biểu."
        store.upsert(
            "many",
            Extracted(url=f"https://many.vn/tin/{i}.html", title=f"Tin {i}", body_text=body, published_at=PUBLISHED),
        )
    rows = store.articles()
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    first = issue_identities(store, rows, NOW)
    assert len(statements) <= 20  # not one per story: look-ups go by chunks of ids
    assert len({i.guid for i in first.values()}) == 1100
    again = issue_identities(store, rows, NOW + timedelta(hours=1))
    assert again == first
