"""Cross-site deduplication on a real SQLite store: exact and near copies, near misses, canonical choice,
persistence across restarts, bounded look-ups, and the benchmark's quality floors."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from feed.config.sources import Source
from feed.dedup.clusters import assign_cluster, choose_canonical, cluster_members, credits
from feed.dedup.fingerprints import (
    BANDS,
    JACCARD_MIN,
    facts_agree,
    fingerprint,
    jaccard,
    same_story,
    shingle_set,
    story_text,
)
from feed.records import Extracted
from feed.store.api import ArticleRow, Store

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime.fromisoformat("2026-07-14T17:05:00+07:00")

# One template, as union reporters write them; {slots} differ between unions.
REPORT = "\n".join(
    (
        "Chiều {day}/7, {org} tổ chức Hội nghị sơ kết hoạt động công đoàn 6 tháng đầu năm, triển khai nhiệm "
        "vụ 6 tháng cuối năm 2026. Đồng chí {chair}, Chủ tịch {org} chủ trì Hội nghị.",
        "Dự Hội nghị có các đồng chí trong Ban Thường vụ, Ban Chấp hành {org}; lãnh đạo các ban, đơn vị trực "
        "thuộc và {units} công đoàn cơ sở trực thuộc.",
        "Báo cáo tại Hội nghị cho biết, 6 tháng đầu năm 2026, các cấp công đoàn đã kết nạp mới {members} đoàn"
        " viên, thành lập mới {new_units} công đoàn cơ sở, đạt {share}% kế hoạch năm. Có {dialogues} công "
        "đoàn cơ sở phối hợp tổ chức đối thoại định kỳ tại nơi làm việc.",
        "Hưởng ứng Tháng Công nhân năm 2026, các cấp công đoàn đã tổ chức {events} hoạt động, thăm hỏi, tặng "
        "quà cho {gifts} đoàn viên, người lao động với tổng kinh phí {money} tỷ đồng.",
        "Tuy vậy, Hội nghị cũng chỉ ra việc phát triển đoàn viên tại các doanh nghiệp nhỏ và vừa còn gặp khó "
        "khăn; tình trạng chậm đóng bảo hiểm xã hội vẫn còn ở một số nơi.",
        "Kết luận Hội nghị, đồng chí {chair} yêu cầu các cấp công đoàn tập trung hoàn thành chỉ tiêu phát "
        "triển đoàn viên, nâng cao chất lượng thương lượng tập thể và chuẩn bị chu đáo đại hội công đoàn các "
        "cấp.",
        "Dịp này, {org} đã khen thưởng {teams} tập thể và {people} cá nhân có thành tích xuất sắc.",
    )
)

THANH_HOA = dict(
    day="14",
    org="Liên đoàn Lao động tỉnh Thanh Hóa",
    chair="Trịnh Văn Khải",
    units="42",
    members="7.512",
    new_units="29",
    share="63",
    dialogues="214",
    events="1.460",
    gifts="9.800",
    money="31,2",
    teams="12",
    people="20",
)
NINH_BINH = dict(
    day="16",
    org="Liên đoàn Lao động tỉnh Ninh Bình",
    chair="Đinh Thị Hảo",
    units="35",
    members="4.108",
    new_units="17",
    share="58",
    dialogues="176",
    events="980",
    gifts="6.300",
    money="18,5",
    teams="9",
    people="15",
)
ORIGIN = REPORT.format(**THANH_HOA)
# The newspaper's copy: its own dateline, a photo caption, a credit line, two small edits.
COPY = (
    "(BTH) - "
    + ORIGIN.replace("Chiều 14/7", "Chiều ngày 14/7").replace("khen thưởng", "tặng Bằng khen cho")
    + "\nẢnh: Đồng chí Trịnh Văn Khải phát biểu kết luận Hội nghị.\n(Theo Liên đoàn Lao động tỉnh Thanh Hóa)"
)
OTHER_UNION = REPORT.format(**NINH_BINH)
UNRELATED = (
    "Sáng 3/9, Công đoàn Y tế Việt Nam phối hợp với Bệnh viện Bạch Mai tổ chức chương trình khám sức khỏe miễn "
    "phí cho 500 nhân viên y tế có hoàn cảnh khó khăn. Các bác sĩ đã tư vấn dinh dưỡng, đo huyết áp, xét nghiệm "
    "đường huyết và cấp phát thuốc cho người tham gia. Dịp này, công đoàn trao 120 suất quà, mỗi suất trị giá "
    "một triệu đồng, cho đoàn viên bị ảnh hưởng bởi bão lũ tại các tỉnh miền núi phía Bắc."
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'dedup.sqlite'}")
    yield s
    s.close()


def put(
    store: Store,
    slug: str,
    url: str,
    body: str,
    published: datetime | None = T0,
    credit: str | None = None,
    title: str = "Hội nghị sơ kết 6 tháng đầu năm 2026",
) -> str:
    """Upsert one article the way the pipeline does, then cluster it; returns the article id."""
    art = Extracted(url=url, title=title, body_text=body, published_at=published, syndicated_from=credit)
    result = store.upsert(slug, art)
    assign_cluster(store, result.article_id)
    return result.article_id


def row(store: Store, article_id: str) -> ArticleRow:
    found = store.get(article_id)
    assert found is not None
    return found


# --- the verdict -------------------------------------------------------------------------------------------
def test_story_text_drops_what_copies_rewrite() -> None:
    kept = story_text(COPY)
    assert not kept.startswith("(BTH)") and "Ảnh:" not in kept and "(Theo" not in kept
    assert "Trịnh Văn Khải" in kept


def test_near_copy_is_the_same_story() -> None:
    a, b = fingerprint(ORIGIN), fingerprint(COPY)
    assert a.text_hash != b.text_hash
    assert jaccard(a.shingles, b.shingles) >= JACCARD_MIN
    assert same_story(a, b) and same_story(b, a)


def test_case_and_tone_placement_do_not_break_an_exact_copy() -> None:
    respelled = ORIGIN.replace("Thanh Hóa", "THANH HOÁ").replace("hòa", "hoà")
    assert fingerprint(respelled).text_hash == fingerprint(ORIGIN).text_hash


def test_same_meeting_kind_same_week_other_union_is_not_a_copy() -> None:
    a, b = fingerprint(ORIGIN), fingerprint(OTHER_UNION)
    assert not same_story(a, b)
    assert not facts_agree(a, b)


def test_facts_guard_holds_when_shingles_alone_would_merge() -> None:
    # Only the names and figures differ: the template shares most 5-grams, the facts do not.
    swapped = ORIGIN.replace("Thanh Hóa", "Ninh Bình").replace("Trịnh Văn Khải", "Đinh Thị Hảo")
    for old, new in (("7.512", "4.108"), ("214", "176"), ("31,2", "18,5"), ("1.460", "980"), ("9.800", "6.300")):
        swapped = swapped.replace(old, new)
    a, b = fingerprint(ORIGIN), fingerprint(swapped)
    assert jaccard(a.shingles, b.shingles) >= JACCARD_MIN
    assert not same_story(a, b)


def test_short_texts_match_only_exactly() -> None:
    short = "Công đoàn tỉnh tổ chức hội nghị tổng kết năm 2025."
    assert same_story(fingerprint(short), fingerprint(short + "\n(Theo congdoan.vn)"))
    assert not same_story(fingerprint(short), fingerprint(short.replace("2025", "2024")))


# --- clusters in the store -----------------------------------------------------------------------------------
def test_syndicated_copy_joins_the_origin_and_the_credited_origin_is_canonical(store: Store) -> None:
    # The copy is crawled (and even dated) first; the credit still makes the union's own page canonical.
    copy = put(
        store,
        "baotinh",
        "https://baothanhhoa.vn/cong-doan/ket-nap-7500-doan-vien-2207153.html",
        COPY,
        published=T0 - timedelta(hours=1),
        credit="Liên đoàn Lao động tỉnh Thanh Hóa",
    )
    origin = put(store, "ldld", "https://ldld.thanhhoa.gov.vn/tin-tuc/so-ket-6-thang-11204.html", ORIGIN)
    sources = [
        Source(
            slug="ldld",
            name="Liên đoàn Lao động tỉnh Thanh Hóa",
            kind="labour_federation",
            homepage="https://ldld.thanhhoa.gov.vn/",
            discovery={"feeds": ["https://ldld.thanhhoa.gov.vn/rss"]},
        )
    ]
    cluster = assign_cluster(store, origin, sources=sources)
    assert cluster == row(store, copy).cluster_id == row(store, origin).cluster_id == copy  # first seen names it
    assert row(store, origin).is_canonical and not row(store, copy).is_canonical
    members = cluster_members(store, cluster)
    assert [m.id for m in members] == [origin, copy]


def test_credit_by_domain_needs_no_registry(store: Store) -> None:
    copy = put(
        store,
        "bao",
        "https://baonamdinh.vn/tin/hoi-nghi-so-ket.html",
        COPY,
        published=T0 - timedelta(hours=2),
        credit="ldld.thanhhoa.gov.vn",
    )
    origin = put(store, "ldld", "https://www.ldld.thanhhoa.gov.vn/tin-tuc/so-ket-6-thang-11204.html", ORIGIN)
    assert row(store, origin).is_canonical and not row(store, copy).is_canonical


def test_without_credit_the_earliest_published_is_canonical(store: Store) -> None:
    late = put(store, "a", "https://a.vn/1.html", ORIGIN, published=T0 + timedelta(days=1))
    early = put(store, "b", "https://b.vn/1.html", COPY, published=T0)
    assert row(store, early).is_canonical and not row(store, late).is_canonical


def test_at_equal_times_the_most_complete_is_canonical(store: Store) -> None:
    trimmed = ORIGIN.rsplit("\n", 1)[0]
    short = put(store, "a", "https://a.vn/2.html", trimmed)
    full = put(store, "b", "https://b.vn/2.html", ORIGIN)
    assert row(store, full).is_canonical and not row(store, short).is_canonical
    assert row(store, full).cluster_id == row(store, short).cluster_id


def test_other_union_stays_its_own_story(store: Store) -> None:
    a = put(store, "ldld-th", "https://ldld.thanhhoa.gov.vn/1.html", ORIGIN)
    b = put(store, "ldld-nb", "https://ldld.ninhbinh.gov.vn/1.html", OTHER_UNION, published=T0 + timedelta(days=2))
    c = put(store, "cdyt", "https://congdoanyte.vn/1.html", UNRELATED)
    assert len({row(store, x).cluster_id for x in (a, b, c)}) == 3
    assert all(row(store, x).is_canonical for x in (a, b, c))


def test_a_bridging_copy_merges_two_clusters_under_the_older_id(store: Store) -> None:
    paragraphs = ORIGIN.split("\n")
    first_half, second_half = "\n".join(paragraphs[:4]), "\n".join(paragraphs[3:])
    halves = fingerprint(first_half), fingerprint(second_half)
    assert jaccard(halves[0].shingles, halves[1].shingles) < JACCARD_MIN
    assert min(jaccard(h.shingles, fingerprint(ORIGIN).shingles) for h in halves) >= JACCARD_MIN
    a = put(store, "a", "https://a.vn/3.html", first_half)
    b = put(store, "b", "https://b.vn/3.html", second_half)
    assert row(store, a).cluster_id != row(store, b).cluster_id
    c = put(store, "c", "https://c.vn/3.html", ORIGIN)
    assert row(store, a).cluster_id == row(store, b).cluster_id == row(store, c).cluster_id == a
    assert sum(m.is_canonical for m in cluster_members(store, a)) == 1


def test_index_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.sqlite'}"
    first = Store(url)
    origin = put(first, "ldld", "https://ldld.thanhhoa.gov.vn/4.html", ORIGIN)
    first.close()
    second = Store(url)
    copy = put(second, "bao", "https://baothanhhoa.vn/4.html", COPY, published=T0 + timedelta(hours=3))
    assert row(second, copy).cluster_id == row(second, origin).cluster_id == origin
    second.close()


def test_an_updated_body_is_refiled_not_duplicated(store: Store) -> None:
    url = "https://ldld.thanhhoa.gov.vn/5.html"
    a = put(store, "ldld", url, UNRELATED)
    put(store, "ldld", url, ORIGIN)  # the page was replaced by the report
    with store.session() as s:
        docs = s.execute(text("SELECT count(*) FROM dedup_docs WHERE article_id = :a"), {"a": a}).scalar()
        bands = s.execute(text("SELECT count(*) FROM dedup_bands WHERE article_id = :a"), {"a": a}).scalar()
    assert docs == 1 and bands == BANDS
    copy = put(store, "bao", "https://baothanhhoa.vn/5.html", COPY)
    assert row(store, copy).cluster_id == a


def test_pages_without_text_never_cluster(store: Store) -> None:
    a = put(store, "a", "https://a.vn/loi-1.html", "")
    b = put(store, "b", "https://b.vn/loi-2.html", "")
    assert row(store, a).cluster_id == a and row(store, b).cluster_id == b


def test_pipeline_signature_returns_the_cluster_id(store: Store) -> None:
    result = store.upsert("a", Extracted(url="https://a.vn/6.html", title="T", body_text=ORIGIN))
    assert assign_cluster(store, result.article_id) == result.article_id
    assert assign_cluster(store, "no-such-article") is None


# --- bounded look-ups ------------------------------------------------------------------------------------------
def _fill(store: Store, n: int) -> None:
    for i in range(n):
        body = UNRELATED.replace("500", str(1000 + i)).replace("120", str(i)) + f" Mã tin {i * 7919}."
        put(store, "fill", f"https://fill.vn/{i}.html", body)


def _statements_of_one_add(store: Store, url: str) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        put(store, "probe", url, COPY)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))]


def test_adding_an_article_costs_the_same_few_lookups_at_any_size(store: Store) -> None:
    put(store, "ldld", "https://ldld.thanhhoa.gov.vn/7.html", ORIGIN)
    _fill(store, 20)
    small = _statements_of_one_add(store, "https://probe.vn/a.html")
    _fill(store, 120)
    large = _statements_of_one_add(store, "https://probe.vn/b.html")
    # Depends on what is found, never on how much is stored: the dedup lookups and writes (16 at most), plus the
    # search index's two (feed.store.search) and a change number per article written (feed.store.changes).
    assert max(len(small), len(large)) <= 24
    with store.engine.connect() as conn:
        for statement in {s for s in large if s.lstrip().upper().startswith("SELECT")}:
            qmarks = tuple("x" for _ in range(statement.count("?")))
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", qmarks))
            assert not re.search(r"\bSCAN (articles|dedup_docs|dedup_bands|feed_identities)\b", plan), (statement, plan)


# --- canonical choice and credits, without a store ------------------------------------------------------------
def _member(slug: str, url: str, published: datetime | None, credit: str | None = None, body: str = "x") -> ArticleRow:
    return ArticleRow(
        id=slug,
        source_slug=slug,
        url=url,
        canonical_url=url,
        published_at=published,
        first_seen_at=T0,
        body_text=body,
        syndicated_from=credit,
    )


@pytest.mark.parametrize(
    ("credit", "slug", "url", "names", "expected"),
    [
        ("hcma.vn", "hcma", "https://www.hcma.vn/tin/1.html", {}, True),
        ("www.hcma.vn", "hcma", "https://hcma.vn/tin/1.html", {}, True),
        ("hcma.vn", "laodong", "https://laodong.vn/1.ldo", {}, False),
        ("Báo Lao Động", "laodong", "https://laodong.vn/1.ldo", {}, True),  # the host spells the name
        ("Báo Lao Động", "ld", "https://127.0.0.1:8000/1", {"ld": "Báo Lao Động điện tử"}, True),
        ("LĐLĐ tỉnh Nam Định", "ldnd", "http://127.0.0.1:8001/1", {"ldnd": "Liên đoàn Lao động tỉnh Nam Định"}, True),
        (
            "Liên đoàn Lao động tỉnh Thanh Hóa",
            "th",
            "http://127.0.0.1:1/a",
            {"th": "Liên đoàn Lao động tỉnh Thanh Hóa (trang mẫu)"},
            True,
        ),
        (
            "Liên đoàn Lao động tỉnh Nam Định",
            "nb",
            "http://127.0.0.1:2/a",
            {"nb": "Liên đoàn Lao động tỉnh Ninh Bình"},
            False,
        ),
        ("Công đoàn", "cd", "http://127.0.0.1:3/a", {"cd": "Công đoàn Y tế Việt Nam"}, False),
        ("", "cd", "http://127.0.0.1:3/a", {"cd": "Công đoàn Y tế Việt Nam"}, False),
    ],
)
def test_credits(credit: str, slug: str, url: str, names: dict[str, str], expected: bool) -> None:
    assert credits(credit, _member(slug, url, T0), names) is expected


def test_credit_chains_lead_to_the_root() -> None:
    root = _member("root", "https://hcma.vn/1", T0 + timedelta(days=1))
    middle = _member("mid", "https://congdoan.vn/1", T0, credit="hcma.vn")
    leaf = _member("leaf", "https://laodong.vn/1", T0 - timedelta(days=1), credit="congdoan.vn")
    assert choose_canonical([leaf, middle, root]).id == "root"


def test_known_date_beats_unknown_date() -> None:
    dated = _member("a", "https://a.vn/1", T0 + timedelta(days=3))
    undated = _member("b", "https://b.vn/1", None)
    assert choose_canonical([undated, dated]).id == "a"


# --- the benchmark's quality floors ------------------------------------------------------------------------------
@pytest.mark.timeout(600)
def test_benchmark_quick_meets_quality_floors(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dedup.py"), "--quick", "--no-docs"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=tmp_path,
    ).stdout
    precision = float(re.search(r"precision\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    recall = float(re.search(r"recall\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    near_miss_merges = int(re.search(r"near-miss pairs merged\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    assert precision >= 0.98 and recall >= 0.95, out
    assert near_miss_merges == 0, out


@pytest.mark.parametrize(
    "body",
    [
        "",
        "Sáng 9/3, hội nghị khai mạc.",
        "Sáng 9/3, Liên đoàn Lao động tỉnh Thanh Hóa tổ chức Hội nghị tổng kết công tác công đoàn năm 2025. "
        "Dự hội nghị có đồng chí Nguyễn Văn Bình, Chủ tịch LĐLĐ tỉnh, cùng 250 đại biểu.\n\n"
        "Năm 2025, các cấp công đoàn đã chăm lo cho 12.000 đoàn viên, người lao động.",
    ],
)
def test_shingle_set_is_the_fingerprints_hash_and_shingles(body: str) -> None:
    """The feed identities' cheaper path (feed.publish.guids.body_basis) sees the same text hash and shingles."""
    digest, shingles = shingle_set(body)
    whole = fingerprint(body)
    assert digest == whole.text_hash
    assert shingles.tolist() == whole.shingles.tolist()
