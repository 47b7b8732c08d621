"""Bad input on purpose: broken entries in sources.yaml, a broken settings.yaml, absurd dates on article pages.

Every test crawls real loopback sites (tests/loopback_sites.py) with `unionfeed` in a fresh interpreter, into
a real SQLite file, then publishes and reads the feeds with feedparser. A broken config entry must cost only
its own source: the good entries around it are crawled and published, the broken one's site is never asked
for a page, and the command's exit status (3) says that entries were skipped.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child, publish_in_child
from feed.config.settings import Settings, load_settings
from feed.lang.dates import VN_TZ
from feed.store.api import ArticleRow, Store

from .support.cli import run_cli
from .support.loopback_sites import FAST_SETTINGS, Site, page_html, serve, source_entry, write_config

SKIPPED = 3  # exit status: done, with entries of the sources file skipped
REFUSED = 2  # exit status: configuration error, nothing done


@dataclass
class World:
    config: Path
    sites: dict[str, Site]
    bases: dict[str, str]
    crawl: subprocess.CompletedProcess[str]
    publish: subprocess.CompletedProcess[str]
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = load_settings(self.config, self.config.parent / "data")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("--config", str(self.config), "--data", str(self.settings.data), *args)

    def articles(self) -> list[ArticleRow]:
        store = Store(self.settings.db_url)
        try:
            return store.articles()
        finally:
            store.close()

    def crawled_slugs(self) -> set[str]:
        store = Store(self.settings.db_url)
        try:
            return set(store.last_runs())
        finally:
            store.close()

    def feed(self, name: str) -> feedparser.FeedParserDict:
        parsed = feedparser.parse(str(self.settings.public / "feeds" / name))
        assert not parsed.bozo, parsed.get("bozo_exception")
        return parsed


# Sentences written for these tests; each page draws five, so pages of different sites are different stories.
SENTENCES = (
    "Sáng {day}, {org} tổ chức {event} với sự tham gia của {count} đoàn viên.",
    "Hội nghị đánh giá {other} chỉ tiêu thi đua và bàn giải pháp giữ việc làm cho {count} người lao động.",
    "Đồng chí {person}, Chủ tịch {org}, đề nghị {other} tổ công đoàn bám sát cơ sở, lắng nghe ý kiến đoàn viên.",
    "Năm qua, {org} đã thăm hỏi, tặng {count} suất quà cho công nhân có hoàn cảnh khó khăn ở {place}.",
    "{other} đại biểu thảo luận về thỏa ước lao động tập thể và việc trả lương đúng hạn tại {place}.",
    "Dịp này, {other} tập thể và cá nhân ở {place} được khen thưởng vì thành tích trong phong trào thi đua.",
    "Phong trào xây dựng nhà văn hóa công nhân tại khu công nghiệp {place} có thêm {count} người tham gia.",
    "Đồng chí {person} ký giao ước thi đua với {other} doanh nghiệp, cam kết bảo đảm an toàn vệ sinh lao động.",
    "Theo báo cáo, tỷ lệ đoàn viên ở {place} tham gia sinh hoạt đạt {other} phần trăm, tăng so với cùng kỳ.",
    "Tại buổi làm việc, lãnh đạo doanh nghiệp ở {place} tiếp thu {other} kiến nghị về nhà ở và nhà trẻ.",
    "Chương trình Tết Sum vầy năm nay dự kiến hỗ trợ vé xe cho {count} công nhân ở {place} về quê.",
    "Cuộc thi tìm hiểu pháp luật lao động thu hút {count} bài dự thi từ {other} công đoàn cơ sở ở {place}.",
)
PEOPLE = ("Nguyễn Thị Hoà", "Trần Văn Thuỷ", "Lê Minh Khoa", "Phạm Thu Trang", "Đỗ Quang Huy", "Vũ Ngọc Lan")
PLACES = ("Yên Phong", "Quế Võ", "Tân Uyên", "Nhơn Trạch", "Điện Nam", "Phú Mỹ", "Long Hậu", "Hoà Khánh")
EVENTS = (
    "hội nghị tổng kết công tác công đoàn",
    "hội nghị người lao động",
    "buổi đối thoại với công nhân",
    "lễ ra mắt công đoàn cơ sở",
    "hội thi an toàn vệ sinh viên giỏi",
)


@dataclass
class Portal(Site):
    """A loopback Site whose pages are its own stories: the same words on two sites would be one story in a feed."""

    def _draw(self, number: int) -> tuple[random.Random, dict[str, object]]:
        rng = random.Random(f"{self.name}/{number}")
        place = rng.choice(PLACES)
        return rng, {
            "day": f"{self.published(number):%d/%m}",
            "org": f"Công đoàn khu công nghiệp {place}",
            "event": rng.choice(EVENTS),
            "count": rng.randint(30, 900),
            "other": rng.randint(10, 99),
            "person": rng.choice(PEOPLE),
            "place": f"{rng.choice(PLACES)} {number}",
        }

    def title(self, number: int) -> str:
        _, values = self._draw(number)
        return f"{values['org']}: {values['event']} ({self.name}, số {number})"

    def article(self, number: int) -> str:
        rng, values = self._draw(number)
        when = self.published(number)
        body = "".join(f"<p>{html.escape(s.format(**values))}</p>" for s in rng.sample(SENTENCES, 5))
        meta = f'<meta property="article:published_time" content="{when.isoformat()}">'
        return page_html(
            self.title(number),
            f"<article><h1>{html.escape(self.title(number))}</h1>"
            f'<div class="date">{when:%H:%M, %d/%m/%Y}</div><div class="content">{body}</div></article>',
            head=meta,
        )


def line_of(text: str, entry: int, key: str) -> int:
    """The 1-based line of `key:` inside the entry-th `- slug:` item of a sources file."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("  - slug:")]
    begin = starts[entry - 1]
    if key == "slug":
        return begin + 1
    return next(i for i in range(begin, len(lines)) if lines[i].strip().startswith(f"{key}:")) + 1


def make_world(tmp: Path, sites: list[Site], bases: dict[str, str], entries: list[str]) -> World:
    """Write the config, then `unionfeed crawl` and `unionfeed publish` it, each in a fresh interpreter."""
    config = write_config(tmp, entries)
    args = ("--config", str(config), "--data", str(tmp / "data"))
    return World(config, {s.name: s for s in sites}, bases, run_cli(*args, "crawl"), run_cli(*args, "publish"))


# --- entries that fail validation: duplicate slug, unknown profile, bad fields ---------------------------------
FIELD_SITES = ("dau", "trung", "ho-so", "lien-ket-ftp", "mau-sai", "chon-sai", "am", "cuoi")


def field_entries(bases: dict[str, str]) -> list[str]:
    """Eight entries in order: good, duplicate slug of #1, unknown profile, four bad fields, good."""
    port = bases["lien-ket-ftp"].rsplit(":", 1)[1]
    return [
        source_entry("dau", bases["dau"]),
        source_entry("dau", bases["trung"]),  # a copy-paste whose slug was never changed
        source_entry("ho-so", bases["ho-so"]).replace("    interval:", "    profile: khong_co_cms\n    interval:"),
        source_entry("lien-ket-ftp", bases["lien-ket-ftp"]).replace(
            f"homepage: {bases['lien-ket-ftp']}/", f"homepage: ftp://127.0.0.1:{port}/"
        ),
        source_entry("mau-sai", bases["mau-sai"]).replace(
            "article_pattern: '/tin-tuc/bai-\\d+\\.html$'", "article_pattern: '/tin-tuc/(['"
        ),
        source_entry("chon-sai", bases["chon-sai"]).replace(
            "links: 'ul.news-list a.title'", "links: 'ul.news-list a[[['"
        ),
        source_entry("am", bases["am"], interval=-30),
        source_entry("cuoi", bases["cuoi"]),
    ]


@pytest.fixture(scope="module")
def field_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sites: list[Site] = [Portal(name, articles=4) for name in FIELD_SITES]
    with serve(sites) as bases:
        yield make_world(tmp_path_factory.mktemp("field-faults"), sites, bases, field_entries(bases))


@pytest.mark.reliability("config-duplicate-slug", "config-unknown-profile", "config-bad-field")
def test_good_entries_around_bad_ones_are_crawled_and_published(field_world: World) -> None:
    world = field_world
    assert world.crawl.returncode == SKIPPED, world.crawl.stderr[-3000:]
    assert world.publish.returncode == SKIPPED, world.publish.stderr[-3000:]
    assert "6 entries skipped; the other sources run" in world.crawl.stderr
    stored = world.articles()
    assert {(a.source_slug, a.url.rsplit("/", 1)[0]) for a in stored} == {
        ("dau", world.bases["dau"] + "/tin-tuc"),
        ("cuoi", world.bases["cuoi"] + "/tin-tuc"),
    }
    assert len(stored) == 8 and world.crawled_slugs() == {"dau", "cuoi"}
    for name in ("trung", "ho-so", "lien-ket-ftp", "mau-sai", "chon-sai", "am"):
        assert world.sites[name].hits == [], f"{name}: a skipped entry's site was asked for pages"
    for name in ("dau", "cuoi"):
        assert any(h.path.startswith("/tin-tuc/bai-") for h in world.sites[name].hits)
    feeds = sorted(p.name for p in (world.settings.public / "feeds" / "sources").glob("*.atom"))
    assert feeds == ["cuoi.atom", "dau.atom"]
    everything = world.feed("all.atom")
    assert len(everything.entries) == 8
    assert {e.link.rsplit("/tin-tuc/", 1)[0] for e in everything.entries} == {world.bases["dau"], world.bases["cuoi"]}
    assert {e.link.rsplit("/tin-tuc/", 1)[0] for e in world.feed("sources/dau.atom").entries} == {world.bases["dau"]}


@pytest.mark.parametrize(
    ("entry", "slug", "key", "words"),
    [
        pytest.param(
            2, "dau", "slug", "duplicate of source #1", marks=pytest.mark.reliability("config-duplicate-slug")
        ),
        pytest.param(
            3,
            "ho-so",
            "profile",
            "unknown profile 'khong_co_cms'",
            marks=pytest.mark.reliability("config-unknown-profile"),
        ),
        pytest.param(
            4, "lien-ket-ftp", "homepage", "not an http(s) URL", marks=pytest.mark.reliability("config-bad-field")
        ),
        pytest.param(
            5,
            "mau-sai",
            "article_pattern",
            "not a valid regular expression",
            marks=pytest.mark.reliability("config-bad-field"),
        ),
        pytest.param(
            6, "chon-sai", "links", "not a valid CSS selector", marks=pytest.mark.reliability("config-bad-field")
        ),
        pytest.param(
            7, "am", "interval", "greater than or equal to 5", marks=pytest.mark.reliability("config-bad-field")
        ),
    ],
)
def test_each_skipped_entry_is_named_by_file_line_entry_and_field(
    field_world: World, entry: int, slug: str, key: str, words: str
) -> None:
    text = field_world.config.read_text(encoding="utf-8")
    line = line_of(text, entry, key)
    field_name = {"links": "discovery.listings.0.links", "article_pattern": "discovery.article_pattern"}.get(key, key)
    expected = f"{field_world.config}:{line}: source #{entry} ({slug}): field {field_name}: "
    for output in (field_world.crawl.stderr, field_world.publish.stderr):
        said = [row.strip() for row in output.splitlines() if expected in row]
        assert len(said) == 1 and words in said[0], output[-3000:]


@pytest.mark.reliability("config-duplicate-slug", "config-unknown-profile", "config-bad-field")
def test_sources_list_stays_strict_and_lists_every_problem(field_world: World) -> None:
    result = field_world.cli("sources", "list")
    assert result.returncode == REFUSED
    problems = [row for row in result.stderr.splitlines() if f"{field_world.config}:" in row]
    assert [re.findall(r": source #(\d+)", row) for row in problems] == [["2"], ["3"], ["4"], ["5"], ["6"], ["7"]]
    assert "cuoi" not in result.stdout  # no table: a check refuses the whole file


@pytest.mark.reliability("config-duplicate-slug", "config-unknown-profile", "config-bad-field")
def test_status_names_the_skipped_entries(field_world: World) -> None:
    """A skipped entry has no runs to break: status.json and `unionfeed status` name it instead."""
    written = field_world.cli("status", "--write")
    assert written.returncode == SKIPPED, written.stderr[-3000:]
    document = json.loads((field_world.settings.public / "status.json").read_text(encoding="utf-8"))
    printed = json.loads(field_world.cli("status", "--json").stdout)
    for doc in (document, printed):
        problems = doc["config_problems"]
        assert [(p["entry"], p["slug"]) for p in problems] == [
            (2, "dau"),
            (3, "ho-so"),
            (4, "lien-ket-ftp"),
            (5, "mau-sai"),
            (6, "chon-sai"),
            (7, "am"),
        ]
        assert all(p["file"] == str(field_world.config) and p["line"] and p["field"] for p in problems)
        assert [s["slug"] for s in doc["sources"]] == ["dau", "cuoi"]
    assert "6 config problem(s)" in written.stdout and "source #3 (ho-so): field profile" in written.stdout


@pytest.mark.reliability("config-bad-field")
def test_scheduler_children_crawl_what_they_can_and_say_what_they_skipped(field_world: World) -> None:
    world = field_world
    store = Store(world.settings.db_url)
    try:
        runs_before = len(store.runs("cuoi"))
        assert crawl_in_child(world.settings, ["am"]) == REFUSED  # only a broken entry: nothing to crawl
        assert crawl_in_child(world.settings, ["cuoi", "am"]) == SKIPPED
        assert len(store.runs("cuoi")) == runs_before + 1 and store.runs("am") == []
    finally:
        store.close()
    assert world.sites["am"].hits == []
    assert publish_in_child(world.settings) == SKIPPED
    assert len(world.feed("all.atom").entries) == 8


# --- a line of YAML that breaks the whole file -----------------------------------------------------------------
@pytest.fixture(scope="module")
def yaml_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sites: list[Site] = [Portal(name, articles=3) for name in ("mot", "hai", "ba", "bon")]
    with serve(sites) as bases:
        entries = [
            source_entry("mot", bases["mot"]),
            source_entry("hai", bases["hai"]).replace("name: 'Công đoàn mẫu hai'", "name: 'Công đoàn mẫu hai"),
            source_entry("ba", bases["ba"]).replace("    kind: union_portal", "     kind: union_portal"),
            source_entry("bon", bases["bon"]),
        ]
        yield make_world(tmp_path_factory.mktemp("yaml-faults"), sites, bases, entries)


@pytest.mark.reliability("config-malformed-line")
def test_a_malformed_line_costs_only_its_own_entry(yaml_world: World) -> None:
    world = yaml_world
    assert world.crawl.returncode == SKIPPED, world.crawl.stderr[-3000:]
    assert world.publish.returncode == SKIPPED, world.publish.stderr[-3000:]
    text = world.config.read_text(encoding="utf-8")
    for entry, slug in ((2, "hai"), (3, "ba")):
        first, last = line_of(text, entry, "slug"), line_of(text, entry + 1, "slug") - 1
        said = [
            row
            for row in world.crawl.stderr.splitlines()
            if f"source #{entry} ({slug}): lines {first}-{last}: not valid YAML" in row
        ]
        assert len(said) == 1 and said[0].strip().startswith(f"{world.config}:"), world.crawl.stderr[-3000:]
        assert world.sites[slug].hits == []
    assert "source #3 (ba)" in world.crawl.stderr and f"(line {line_of(text, 3, 'kind')})" in world.crawl.stderr
    stored = world.articles()
    assert sorted({a.source_slug for a in stored}) == ["bon", "mot"] and len(stored) == 6
    assert world.crawled_slugs() == {"mot", "bon"}
    feeds = sorted(p.name for p in (world.settings.public / "feeds" / "sources").glob("*.atom"))
    assert feeds == ["bon.atom", "mot.atom"]
    assert len(world.feed("all.atom").entries) == 6


# --- a broken settings.yaml: settings apply to everything, so nothing starts -----------------------------------
def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under folder with its sha256 and modification time."""
    return {
        str(p.relative_to(folder)): f"{hashlib.sha256(p.read_bytes()).hexdigest()}@{p.stat().st_mtime_ns}"
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


BAD_SETTINGS = [  # (settings.yaml, command, what the error names)
    ("feed_limt: 50\n", "crawl", ":1: feed_limt: unknown settings"),
    ("feed_limit: nhiều\n", "publish", ":1: feed_limit: expected a whole number, got 'nhiều'"),
    ("politeness:\n  download_delay: -1\n", "run", ":2: politeness.download_delay: must be at least 0"),
    (
        "site_url: 'ftp://tin.example.vn/\ncrawl_time_limit: 60\n",
        "status",
        ":1: not valid YAML: while scanning a quoted scalar (line 1), found unexpected end of stream (line 3)",
    ),
    ("politeness: 2\n", "crawl", ":1: politeness: expected a mapping"),
]


@pytest.mark.reliability("config-bad-settings")
def test_a_broken_settings_file_stops_every_command_and_touches_nothing(yaml_world: World, tmp_path: Path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(yaml_world.settings.data, tmp_path / "data")
    config = write_config(folder, [source_entry(s, yaml_world.bases[s]) for s in ("mot", "bon")])
    before = fingerprint(tmp_path / "data")
    hits = {name: len(site.hits) for name, site in yaml_world.sites.items()}
    for text, command, names in BAD_SETTINGS:
        (folder / "settings.yaml").write_text(text, encoding="utf-8")
        result = run_cli("--config", str(config), "--data", str(tmp_path / "data"), command, timeout=60)
        assert result.returncode == REFUSED, (command, result.stderr[-2000:])
        assert f"configuration error:\n{folder / 'settings.yaml'}{names}" in result.stderr, result.stderr[-2000:]
    assert fingerprint(tmp_path / "data") == before
    assert {name: len(site.hits) for name, site in yaml_world.sites.items()} == hits
    (folder / "settings.yaml").write_text(FAST_SETTINGS, encoding="utf-8")  # mended: the same data works again
    assert run_cli("--config", str(config), "--data", str(tmp_path / "data"), "status").returncode == 0


# --- article pages dated in the future or before the web -------------------------------------------------------
@dataclass
class DatedSite(Portal):
    """A loopback site whose article pages state the dates given here (meta tag, date shown by the headline)."""

    stamps: dict[int, tuple[str, str]] = field(default_factory=dict)

    def article(self, number: int) -> str:
        page = super().article(number)
        if number in self.stamps:
            meta, shown = self.stamps[number]
            page = re.sub(r'(property="article:published_time" content=")[^"]*', rf"\g<1>{meta}", page)
            page = re.sub(r'(<div class="date">)[^<]*', rf"\g<1>{shown}", page)
        return page


def vn(moment: datetime) -> tuple[str, str]:
    local = moment.astimezone(VN_TZ).replace(second=0, microsecond=0)
    return local.isoformat(), f"{local:%H:%M, %d/%m/%Y}"


@pytest.fixture(scope="module")
def dated_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    now = datetime.now(UTC)
    stamps = {
        2: ("2031-05-01T08:00:00+07:00", "08:00, 01/05/2031"),
        3: vn(now + timedelta(days=2)),  # tomorrow and more: beyond the day of clock skew allowed
        4: ("1900-01-01T00:00:00+07:00", "00:00, 01/01/1900"),
        5: ("0001-01-01T00:00:00Z", "00:00, 01/01/0001"),
        6: ("9999-12-31T23:59:59-12:00", "23:59, 31/12/9999"),
        7: ("2031-05-01T08:00:00+07:00", "08:00, 15/01/2026"),  # absurd metadata, a good date by the headline
        8: ("2026-01-20T09:30:00+07:00", "00:00, 01/01/1900"),  # an absurd date by the headline, good metadata
        9: vn(now + timedelta(hours=3)),  # within the skew: taken as written
    }
    site = DatedSite("ngay-la", articles=10, stamps=stamps)
    with serve([site]) as bases:
        yield make_world(tmp_path_factory.mktemp("dates"), [site], bases, [source_entry("ngay-la", bases["ngay-la"])])


ABSURD = (2, 3, 4, 5, 6)


def number_of(url: str) -> int:
    return int(url.rsplit("bai-", 1)[1].removesuffix(".html"))


@pytest.mark.reliability("date-future", "date-absurd-past")
def test_absurd_dates_are_stored_without_a_date_and_shown_at_first_seen(dated_world: World) -> None:
    world = dated_world
    assert world.crawl.returncode == 0, world.crawl.stderr[-3000:]
    assert world.publish.returncode == 0, world.publish.stderr[-3000:]
    site = world.sites["ngay-la"]
    by_number = {number_of(a.url): a for a in world.articles()}
    assert sorted(by_number) == list(range(1, 11))  # nothing lost
    crawl_start = min(a.first_seen_at for a in by_number.values())
    for number in ABSURD:
        assert by_number[number].published_at is None, number
        assert by_number[number].first_seen_at - crawl_start < timedelta(minutes=5)
    assert by_number[7].published_at == datetime(2026, 1, 15, 8, 0, tzinfo=VN_TZ)
    assert by_number[8].published_at == datetime(2026, 1, 20, 9, 30, tzinfo=VN_TZ)
    assert by_number[9].published_at == datetime.fromisoformat(site.stamps[9][0])
    for number in (1, 10):
        assert by_number[number].published_at == site.published(number)


@pytest.mark.reliability("date-future", "date-absurd-past")
@pytest.mark.parametrize("name", ["all.atom", "all.rss", "sources/ngay-la.atom"])
def test_feeds_sort_and_serialise_articles_with_absurd_dates(dated_world: World, name: str) -> None:
    entries = dated_world.feed(name).entries
    assert sorted(number_of(e.link) for e in entries) == list(range(1, 11))
    times = [datetime(*e.published_parsed[:6], tzinfo=UTC) for e in entries]
    assert times == sorted(times, reverse=True)
    first_seen = {number_of(a.url): a.first_seen_at for a in dated_world.articles()}
    for entry, when in zip(entries, times, strict=True):
        number = number_of(entry.link)
        if number in ABSURD:
            assert abs(when - first_seen[number]) < timedelta(seconds=1), number
        assert 2020 <= when.year <= datetime.now(UTC).year


@pytest.mark.reliability("date-future", "date-absurd-past")
def test_snapshot_and_json_feed_flag_a_missing_date(dated_world: World) -> None:
    public = dated_world.settings.public
    snapshot = json.loads((public / "snapshots" / "latest.json").read_text(encoding="utf-8"))
    records = {number_of(r["url"]): r for r in snapshot["articles"]}
    assert sorted(records) == list(range(1, 11))
    for number in ABSURD:
        assert records[number]["published_at"] is None and records[number]["first_seen_at"]
    assert all(records[n]["published_at"] for n in records if n not in ABSURD)
    feed = json.loads((public / "feeds" / "all.json").read_text(encoding="utf-8"))
    assert len(feed["items"]) == 10
    for item in feed["items"]:
        assert 2020 <= datetime.fromisoformat(item["date_published"]).year <= datetime.now(UTC).year
