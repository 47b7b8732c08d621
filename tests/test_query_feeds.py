"""Feeds by query from `unionfeed serve` (feed.serve.query) over a real store (SQLite file and PostgreSQL), a
real loopback server and feedparser; and `unionfeed search` in the terminal, in process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest

from feed.app.cli import main
from feed.config.sources import Source
from feed.publish.feed_writer import FeedSite
from feed.records import Extracted, Meeting
from feed.serve.query import QueryFeeds
from feed.serve.server import serve_in_thread
from feed.store.api import Store

SOURCES = [
    Source(
        slug="ldld-th",
        name="LĐLĐ tỉnh Thanh Hóa",
        kind="labour_federation",
        province="Thanh Hóa",
        homepage="https://ldld-th.example.vn/",
    ),
    Source(
        slug="cd-giaoduc", name="Công đoàn Giáo dục Việt Nam", kind="sector_union", homepage="https://cdgd.example.vn/"
    ),
    Source(
        slug="ldld-na",
        name="LĐLĐ tỉnh Nghệ An",
        kind="labour_federation",
        province="Nghệ An",
        homepage="https://ldld-na.example.vn/",
    ),
]
ARTICLES = [
    ("ldld-th", "https://ldld-th.example.vn/tin/dai-hoi.html", "Đại hội Công đoàn tỉnh Thanh Hóa lần thứ XX",
     "Sáng 9/3, Đại hội Công đoàn tỉnh Thanh Hóa khai mạc với 300 đại biểu chính thức.", 9,
     Meeting(is_report=True, kind="dai_hoi", org="Liên đoàn Lao động tỉnh Thanh Hóa")),
    ("cd-giaoduc", "https://cdgd.example.vn/tin/tong-ket.html", "Công đoàn Giáo dục Việt Nam tổng kết năm học",
     "Công đoàn Giáo dục Việt Nam tổ chức hội nghị tổng kết năm học 2025 – 2026 tại Hà Nội.", 8,
     Meeting(is_report=True, kind="tong_ket", org="Công đoàn Giáo dục Việt Nam")),
    ("ldld-na", "https://ldld-na.example.vn/tin/dai-hoi-co-so.html", "Đại hội Công đoàn cơ sở điểm ở Nghệ An",
     "Đại hội Công đoàn cơ sở Trường THPT Đô Lương được chọn làm điểm của tỉnh Nghệ An.", 7,
     Meeting(is_report=True, kind="dai_hoi", org="Công đoàn ngành Giáo dục tỉnh Nghệ An")),
    ("ldld-th", "https://ldld-th.example.vn/tin/qua-tet.html", "Trao quà Tết cho đoàn viên khó khăn",
     "Liên đoàn Lao động tỉnh trao 500 suất quà Tết cho đoàn viên, người lao động.", 5, None),
]  # fmt: skip


def fill(url: str) -> None:
    store = Store(url)
    for slug, link, title, body, day, meeting in ARTICLES:
        art = Extracted(
            url=link,
            title=title,
            lead=body,
            body_text=body,
            published_at=datetime.fromisoformat(f"2026-03-{day:02d}T08:00:00+07:00"),
        )
        stored = store.upsert(slug, art)
        if meeting is not None:
            store.save_meeting(stored.article_id, meeting)
    store.close()


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[str]:
    fill(database_url)
    queries = QueryFeeds(database_url, SOURCES, FeedSite("https://unionfeed.example.vn/", None, "test"))
    srv = serve_in_thread(tmp_path / "public", queries=queries)
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
    queries.close()


@pytest.fixture(scope="module")
def checking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose store does not exist: parameters are checked before any search."""
    folder = tmp_path_factory.mktemp("checking")
    queries = QueryFeeds(f"sqlite:///{folder / 'none.sqlite'}", SOURCES, FeedSite("http://x.vn/", None, "t"))
    srv = serve_in_thread(folder / "public", queries=queries)
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def titles(base: str, query: str, fmt: str = "atom") -> list[str]:
    status, _headers, body = get(f"{base}/feeds/query.{fmt}?{query}")
    assert status == 200, body
    if fmt == "json":  # JSON Feed 1.1, read as such
        return [item["title"] for item in json.loads(body)["items"]]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    return [e.title for e in parsed.entries]


def test_query_feeds_find_without_diacritics_and_filter(served: str) -> None:
    assert titles(served, "q=dai+hoi+cong+doan") == [ARTICLES[0][2], ARTICLES[2][2]]
    assert titles(served, "q=" + quote("Đại hội") + "&province=thanh+hoa") == [ARTICLES[0][2]]
    assert titles(served, "kind=dai_hoi&province=" + quote("Nghệ An"), "rss") == [ARTICLES[2][2]]
    assert titles(served, "org=" + quote("công đoàn giáo dục"), "json") == [ARTICLES[1][2]]  # a phrase
    assert titles(served, "org=giao+duc", "json") == [ARTICLES[1][2], ARTICLES[2][2]]
    assert titles(served, "source=ldld-th") == [ARTICLES[0][2], ARTICLES[3][2]]
    assert titles(served, "q=khong+co") == []
    assert titles(served, "limit=1") == [ARTICLES[0][2]]


def test_a_province_is_named_by_the_slug_of_its_published_feeds(served: str) -> None:
    """feeds/provinces/thanh-hoa.* is "Thanh Hóa": the query feeds take the same slug the index page links to."""
    assert titles(served, "province=thanh-hoa") == [ARTICLES[0][2], ARTICLES[3][2]]
    assert titles(served, "kind=dai_hoi&province=nghe-an", "rss") == [ARTICLES[2][2]]
    status, _headers, body = get(f"{served}/feeds/query.atom?province=thanh")
    assert status == 400 and body.decode().startswith("unknown province 'thanh'")


def test_query_feed_entries_are_updated_when_published_not_when_fetched(served: str) -> None:
    """The store fetched every article in the same second; entries claiming that second would all share one
    `atom:updated` (the W3C validator warns). An article unchanged since it was stored is updated when published,
    as in the source feeds (feed.publish.feed_writer.article_updated)."""
    status, _headers, body = get(f"{served}/feeds/query.atom?q=dai+hoi")
    assert status == 200
    entries = feedparser.parse(body).entries
    assert [e.updated for e in entries] == ["2026-03-09T08:00:00+07:00", "2026-03-07T08:00:00+07:00"]
    assert all(e.updated == e.published for e in entries)


def test_query_feed_is_a_good_feed_with_its_own_self_link_and_304(served: str) -> None:
    status, headers, body = get(f"{served}/feeds/query.atom?q=dai+hoi&province=thanh+hoa")
    assert status == 200 and headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(body)
    assert parsed.feed.title == "Tìm “dai hoi” · Thanh Hóa"
    self_link = next(link.href for link in parsed.feed.links if link.rel == "self")
    assert self_link == "https://unionfeed.example.vn/feeds/query.atom?q=dai+hoi&province=thanh+hoa"
    assert parsed.entries[0].link == ARTICLES[0][1] and parsed.entries[0].id.startswith("urn:unionfeed:")
    again = get(f"{served}/feeds/query.atom?q=dai+hoi&province=thanh+hoa", **{"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[2] == b""
    doc = json.loads(get(f"{served}/feeds/query.json?q=dai+hoi")[2])
    assert doc["feed_url"] == "https://unionfeed.example.vn/feeds/query.json?q=dai+hoi"
    assert [i["_unionfeed"]["meeting"]["kind"] for i in doc["items"]] == ["dai_hoi", "dai_hoi"]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("kind=hop_mat", "unknown kind 'hop_mat'"),
        ("province=Atlantis", "unknown province 'Atlantis' (known: Nghệ An, Thanh Hóa)"),
        ("source=nope", "unknown source 'nope'"),
        ("q=a&q=b", "parameter 'q' is given 2 times"),
        ("sort=new", "unknown parameter 'sort'"),
        ("limit=500", "limit must be a whole number from 1 to 50"),
        ("limit=-1", "limit must be a whole number from 1 to 50"),
        ("q=%C4", "the query is not UTF-8"),
        ("q=" + "+".join(["dai"] * 17), "query has more than 16 words"),
        ("q=" + "a" * 3000, "the query is longer than 2048 characters"),
        ("org=%21%21", "org has no letters or digits"),
    ],
)
@pytest.mark.reliability("query-feed-bad-parameters")
def test_bad_parameters_get_400_with_one_plain_line(checking: str, query: str, said: str) -> None:
    status, headers, body = get(f"{checking}/feeds/query.atom?{query}")
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    text = body.decode("utf-8")
    assert text.count("\n") == 1 and said in text


def test_other_formats_are_not_found(checking: str) -> None:
    assert get(f"{checking}/feeds/query.html?q=a")[0] == 404
    assert get(f"{checking}/feeds/query.xml")[0] == 404


@pytest.mark.reliability("query-feed-no-store")
def test_a_server_without_a_store_says_so_and_creates_none(checking: str) -> None:
    status, _, body = get(f"{checking}/feeds/query.atom?q=dai+hoi")
    assert status == 503 and b"no store at" in body
    assert get(f"{checking}/feeds/query.atom?q=dai+hoi")[0] == 503


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config" / "sources.yaml"
    config.parent.mkdir()
    lines = ["sources:"]
    for s in SOURCES:
        lines += [f"  - slug: {s.slug}", f'    name: "{s.name}"', f"    kind: {s.kind}", f"    homepage: {s.homepage}"]
        if s.province:
            lines.append(f'    province: "{s.province}"')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def test_search_command_prints_vietnamese_and_exits_by_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, data = write_config(tmp_path), tmp_path / "data"
    fill(f"sqlite:///{(data / 'unionfeed.sqlite').resolve()}")
    common = ["--config", str(config), "--data", str(data)]
    assert main(["search", "dai hoi cong doan", *common]) == 0
    out = capsys.readouterr().out
    assert "09/03/2026  Đại hội Công đoàn tỉnh Thanh Hóa lần thứ XX" in out
    assert "LĐLĐ tỉnh Thanh Hóa · Đại hội" in out and out.rstrip().endswith("2 kết quả")
    assert main(["search", "dai hoi", "--province", "nghe an", "--json", *common]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["title"], r["source"], r["kind"]) for r in records] == [(ARTICLES[2][2], "ldld-na", "dai_hoi")]
    assert main(["search", "", "--since", "2026-03-08", "--source", "ldld-th", *common]) == 0
    assert capsys.readouterr().out.count("\n            https://") == 1
    assert main(["search", "hop bao", *common]) == 1
    assert "Không tìm thấy bài viết nào." in capsys.readouterr().out
    assert main(["search", "x", "--kind", "hop_mat", *common]) == 2
    assert capsys.readouterr().err.startswith("unionfeed search: unknown kind 'hop_mat'")
    assert main(["search", "x", "--since", "hôm qua", *common]) == 2
    assert "is not a date" in capsys.readouterr().err
