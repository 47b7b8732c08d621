"""Every published feed, parsed with feedparser and lxml, against the rules the W3C Feed Validation Service
applies: RFC 4287 (Atom), RSS 2.0, JSON Feed 1.1; plus ours: +07:00 times, stable unique ids, newest first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feed.lang.dates import VN_TZ
from feed.publish.feed_writer import RENDERERS, Category, FeedItem, FeedSite, FeedSpec, ItemDetails
from feed.publish.publisher import publish
from feed.records import Meeting

from .support.feedworld import ARTICLES, World, make_world

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} \+0700$"
)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = make_world(tmp_path_factory.mktemp("feeds"), hub="http://127.0.0.1:9/hub")
    publish(world.store, world.settings, world.sources)
    yield world
    world.store.close()


def feed_files(world: World, ext: str) -> list[Path]:
    return sorted((world.settings.public / "feeds").rglob(f"*.{ext}"))


def expected_paths(world: World) -> set[str]:
    kinds = {
        f"kinds/{k}"
        for k in ("tong_ket", "so_ket", "trien_khai", "dai_hoi", "hoi_nghi_can_bo", "hoi_nghi_bch", "other_meeting")
    }
    return {"all", "meetings", "other", *kinds, *(f"sources/{s.slug}" for s in world.sources)}


def test_every_feed_exists_in_three_formats(world: World) -> None:
    feeds = world.settings.public / "feeds"
    for ext in ("atom", "rss", "json"):
        got = {p.relative_to(feeds).with_suffix("").as_posix() for p in feed_files(world, ext)}
        assert got == expected_paths(world), ext


@pytest.mark.parametrize("ext", ["atom", "rss"])
def test_feedparser_reads_every_feed_without_complaint(world: World, ext: str) -> None:
    for path in feed_files(world, ext):
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version == ("atom10" if ext == "atom" else "rss20"), path
        title = parsed.feed.title
        assert title and "unionfeed" not in title and parsed.feed.get("language", "vi") == "vi"  # short titles
        assert XML_ILLEGAL.search(path.read_text(encoding="utf-8")) is None, path
        ids = [e.id for e in parsed.entries]
        assert len(ids) == len(set(ids)), f"duplicate ids in {path}"
        published = [e.published_parsed for e in parsed.entries]
        assert published == sorted(published, reverse=True), f"{path} is not newest first"
        for entry in parsed.entries:
            assert entry.title and entry.link.startswith("http://127.0.0.1:9/") and entry.author
            assert entry.tags, "every entry names its source as a category"
            assert entry.content[0].type == "text/html" and entry.content[0].value.startswith("<p>")


def test_atom_structure_follows_rfc_4287(world: World) -> None:
    for path in feed_files(world, "atom"):
        root = etree.parse(str(path)).getroot()
        assert root.tag == f"{ATOM}feed"
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
        for name in ("id", "title", "updated", "author"):
            assert len(root.findall(f"{ATOM}{name}")) == 1, (path, name)
        links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
        assert links["self"] == world.settings.site_url + path.relative_to(world.settings.public).as_posix()
        assert links["alternate"].startswith(world.settings.site_url) and links["hub"] == "http://127.0.0.1:9/hub"
        assert RFC3339.match(root.findtext(f"{ATOM}updated") or "")
        for entry in root.findall(f"{ATOM}entry"):
            for name in ("id", "title", "updated", "published", "summary", "content", "author"):
                assert entry.find(f"{ATOM}{name}") is not None, (path, name)
            assert re.match(r"^[a-z][a-z0-9+.-]*:", entry.findtext(f"{ATOM}id") or ""), "ids are absolute IRIs"
            assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
            assert RFC3339.match(entry.findtext(f"{ATOM}published") or "")
            content = entry.find(f"{ATOM}content")
            assert content is not None and content.get("type") == "html" and len(content) == 0, "escaped, not XHTML"
            assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
            for category in entry.findall(f"{ATOM}category"):
                assert category.get("term") and category.get("scheme") and category.get("label")


def test_rss_structure_follows_rss_2(world: World) -> None:
    for path in feed_files(world, "rss"):
        raw = path.read_text(encoding="utf-8")
        assert "<![CDATA[" not in raw, "content is escaped HTML, not CDATA"
        channel = etree.fromstring(raw.encode("utf-8")).find("channel")
        assert channel is not None
        for name in ("title", "link", "description", "language", "lastBuildDate", "ttl"):
            assert channel.findtext(name), (path, name)
        assert RFC822.match(channel.findtext("lastBuildDate") or "")
        self_link = channel.find(f"{ATOM}link[@rel='self']")
        assert self_link is not None and self_link.get("href", "").endswith(path.name)
        for item in channel.findall("item"):
            assert RFC822.match(item.findtext("pubDate") or ""), path
            guid = item.find("guid")
            assert guid is not None and guid.get("isPermaLink") == "false" and guid.text
            assert item.find("author") is None, "RSS <author> must be an e-mail address: dc:creator is used"
            assert item.findtext("{http://purl.org/dc/elements/1.1/}creator")
            assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded", "").startswith("<p>")


def test_json_feeds_follow_json_feed_1_1(world: World) -> None:
    for path in feed_files(world, "json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        assert doc["feed_url"] == world.settings.site_url + path.relative_to(world.settings.public).as_posix()
        assert doc["title"] and doc["home_page_url"] and doc["language"] == "vi"
        assert doc["hubs"] == [{"type": "WebSub", "url": "http://127.0.0.1:9/hub"}]
        ids = [i["id"] for i in doc["items"]]
        assert len(ids) == len(set(ids)) and all(isinstance(i, str) and i for i in ids)
        times = [datetime.fromisoformat(i["date_published"]) for i in doc["items"]]
        assert times == sorted(times, reverse=True)
        for item in doc["items"]:
            assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
            assert item["content_html"].startswith("<p>") and item["url"].startswith("http://")
            assert item["authors"][0]["name"] and item["tags"]
            assert set(item["_unionfeed"]) == {"article_id", "cluster_id", "source", "meeting", "also_at"}


def test_same_entries_in_every_format(world: World) -> None:
    for atom in feed_files(world, "atom"):
        atom_ids = [e.id for e in feedparser.parse(atom.read_bytes()).entries]
        rss_ids = [e.id for e in feedparser.parse(atom.with_suffix(".rss").read_bytes()).entries]
        json_ids = [i["id"] for i in json.loads(atom.with_suffix(".json").read_text(encoding="utf-8"))["items"]]
        assert atom_ids == rss_ids == json_ids, atom


def test_times_keep_their_instant_with_explicit_offset(world: World) -> None:
    parsed = feedparser.parse((world.settings.public / "feeds" / "all.rss").read_bytes())
    by_link = {e.link: e for e in parsed.entries}
    checked = 0
    for art in ARTICLES:
        entry = by_link.get(world.url(art.key))
        if entry is None or art.published is None:
            continue
        assert parsedate_to_datetime(entry.published) == art.published, art.key  # not shifted by 7 hours
        assert entry.published.endswith("+0700")
        checked += 1
    assert checked == 6


def test_one_entry_per_story_with_the_other_places(world: World) -> None:
    meetings = feedparser.parse((world.settings.public / "feeds" / "meetings.atom").read_bytes())
    links = [e.link for e in meetings.entries]
    assert world.url("so-ket") in links and world.url("so-ket-ban-sao") not in links
    entry = meetings.entries[links.index(world.url("so-ket"))]
    assert "Cũng đăng tại" in entry.content[0].value and world.url("so-ket-ban-sao") in entry.content[0].value
    # The copy is still in its own source's feed, pointing at its own page, under the story's GUID (one registry).
    own = feedparser.parse((world.settings.public / "feeds" / "sources" / "bao-mau.atom").read_bytes())
    copy = next(e for e in own.entries if e.link == world.url("so-ket-ban-sao"))
    assert copy.id == entry.id


def test_meetings_and_kinds_hold_exactly_the_reports(world: World) -> None:
    public = world.settings.public / "feeds"
    meetings = {e.link for e in feedparser.parse((public / "meetings.atom").read_bytes()).entries}
    reports = {world.url(a.key) for a in ARTICLES if a.kind and a.key != "so-ket-ban-sao"}
    assert meetings == reports
    tong_ket = feedparser.parse((public / "kinds" / "tong_ket.atom").read_bytes())
    assert [e.link for e in tong_ket.entries] == [world.url("tong-ket")]
    assert {t.term for t in tong_ket.entries[0].tags} == {"tong_ket", "ldld-mau"}
    assert feedparser.parse((public / "kinds" / "trien_khai.atom").read_bytes()).entries == []


def test_awkward_text_survives_escaped(world: World) -> None:
    all_atom = feedparser.parse((world.settings.public / "feeds" / "all.atom").read_bytes())
    titles = {e.title for e in all_atom.entries}
    assert "Sơ kết 6 tháng: chăm lo <việc làm> cho người lao động" in titles
    assert "Tặng 300 suất quà Tết cho công nhân khó khăn" in titles  # the vertical tab is gone
    assert 'Hội nghị Ban Chấp hành lần thứ 3 bàn về "thỏa ước" lao động' in titles
    source = feedparser.parse((world.settings.public / "feeds" / "sources" / "bao-mau.rss").read_bytes())
    assert source.feed.title == "Báo Mẫu & Đời sống"  # short, without the product's name


def test_full_opml_lists_every_feed(world: World) -> None:
    root = etree.parse(str(world.settings.public / "feeds-all.opml")).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0" and root.findtext("head/title")
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert len(urls) == len(set(urls)) == len(expected_paths(world))
    for url in urls:
        path = world.settings.public / url.removeprefix(world.settings.site_url)
        assert path.is_file() and path.suffix == ".atom", url
        assert all(o.get("type") == "rss" and o.get("text") for o in root.iter("outline") if o.get("xmlUrl"))


# --- the renderers on their own: safe whatever their callers cleaned -------------------------------------------
DIRTY = "Hội\x00 nghị\x0b tổng\x1f kết\u202e năm\u2066 2025\ud800\ufffe của Công đoàn\u200f tỉnh\u061c Mẫu"
CLEAN = "Hội nghị tổng kết năm 2025 của Công đoàn tỉnh Mẫu"
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def strings(value: object) -> list[str]:
    """Every string in a JSON document, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(s for v in value.values() for s in strings(v))]
    return [s for v in value for s in strings(v)] if isinstance(value, list) else []


def dirty_item(link: str) -> FeedItem:
    """An entry straight from hostile values, with no cleaning by feed.publish.entries."""
    when = datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
    details = ItemDetails(
        title=DIRTY,
        summary=f"Tóm tắt <script>alert(1)</script> {DIRTY}",
        author="Trần\x0c Thị\u202a Bình",
        source_name="Báo\x01 Mẫu",
        categories=[Category("sources", "bao-mau", "Báo\x02 Mẫu\u200e")],
        also_at=[("Bản sao", "javascript:alert(1)"), ("Bản\x03 chính", "https://bao.mau.example.vn/bai-1.html")],
        other_sources=["khac"],
        meeting=Meeting(),
        meeting_json="null",
        content=lambda: f"<p>{DIRTY}</p>\x1b<p>đoạn hai\ud83d</p>",
    )
    return FeedItem(
        guid="urn:unionfeed:ab\x00cd",
        link=link,
        published=when,
        updated=when,
        article_id="abcd",
        cluster_id="abcd",
        source_slug="bao-mau",
        is_report=False,
        kind=None,
        signature="s",
        make_details=lambda: details,
    )


@pytest.mark.reliability("text-xml-illegal", "text-rtl-marks", "feed-html-sanitised")
@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_renderers_are_safe_on_their_own(fmt: str) -> None:
    items = [dirty_item("https://bao.mau.example.vn/bai-1.html"), dirty_item("javascript:alert('link')")]
    items[1].guid = "urn:unionfeed:ef"
    site = FeedSite("http://127.0.0.1:9/", "http://127.0.0.1:9/hub\x0b", "0.1\u202e")
    spec = FeedSpec(
        "all",
        "unionfeed — Tin\x1f công đoàn\u2067",
        "Mọi bài\x7f viết",
        items,
        "http://127.0.0.1:9/",
        60,
        datetime(2026, 3, 2, tzinfo=VN_TZ),
    )
    document = RENDERERS[fmt](spec, site)
    data = document.encode("utf-8")  # no lone surrogate survives to make this fail
    assert FORBIDDEN.search(document) is None
    if fmt == "json":
        doc = json.loads(document)
        assert not [s for s in strings(doc) if FORBIDDEN.search(s)], "json.dumps would only have escaped them"
        assert [i["title"] for i in doc["items"]] == [CLEAN, CLEAN] and doc["items"][1]["url"] == ""
        assert doc["items"][0]["_unionfeed"]["also_at"] == [
            {"name": "Bản chính", "url": "https://bao.mau.example.vn/bai-1.html"}
        ]
        return
    etree.fromstring(data, etree.XMLParser(recover=False))
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == [CLEAN, CLEAN]
    assert parsed.entries[0].author == "Trần Thị Bình" and "javascript:" not in document
    assert "https://bao.mau.example.vn/bai-1.html" in document
    if fmt == "rss":  # the description is HTML to readers: the summary's "<script>" stays text
        root = etree.fromstring(data)
        description = root.find("channel/item/description").text
        assert description.startswith("Tóm tắt &lt;script&gt;alert(1)&lt;/script&gt; Hội nghị")
