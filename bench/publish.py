"""Time `publish` on a store of 10,000 articles: every feed, the snapshots, feeds.opml and index.html.

    .venv/bin/python bench/publish.py [--articles 10000] [--sources 100] [--repeat 3] [--keep DIR]

Builds a SQLite store of invented articles (about 2,400 characters of Vietnamese each, a third of them meeting
reports, one in ten a copy of another outlet's story) and times four publishes: the first into an empty folder
(every story identity issued, every file written), a second with nothing changed (nothing rewritten), a third
after one source's crawl brought 20 new articles (what the scheduler does after every crawl), and the median of
--repeat unchanged publishes. Target: ≤ 2 s; the exit status says whether the publishes after the first met it
(the first one is reported, with its share spent issuing identities in feed.publish.guids).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feed.config.settings import Settings
from feed.config.sources import Source, parse_sources
from feed.lang.urls import article_id
from feed.publish import entries as stories
from feed.publish.publisher import publish
from feed.records import KIND_LABELS, MEETING_KINDS, Meeting, Official
from feed.store.api import ArticleRow, Store, content_hash

TARGET_SECONDS = 2.0
WORDS = (
    "công đoàn",
    "người lao động",
    "đoàn viên",
    "hội nghị",
    "chăm lo",
    "việc làm",
    "thu nhập",
    "nhiệm vụ",
    "phong trào thi đua",
    "doanh nghiệp",
    "thỏa ước",
    "an toàn lao động",
    "Ban Chấp hành",
    "cơ sở",
    "năm 2026",
    "tổ chức",
    "triển khai",
    "kết quả",
    "đại biểu",
    "phúc lợi",
    "nhà ở",
    "công nhân",
    "khu công nghiệp",
    "sáng kiến",
    "tiền lương",
    "bảo hiểm xã hội",
    "đối thoại",
    "thương lượng",
    "chương trình",
    "mái ấm",
)


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(9, 16))
    return words[0][0].upper() + " ".join(words)[1:] + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 5)))


def make_sources(count: int) -> list[Source]:
    entries = [
        {
            "slug": f"nguon-{n:03d}",
            "name": f"Liên đoàn Lao động số {n}",
            "kind": "labour_federation",
            "homepage": f"https://nguon{n}.example.vn/",
            "interval": 60,
            "discovery": {"feeds": [f"https://nguon{n}.example.vn/rss"]},
        }
        for n in range(count)
    ]
    return parse_sources({"version": 1, "sources": entries})


def make_row(n: int, source: str, at: datetime, rng: random.Random) -> ArticleRow:
    url = f"https://{source}.example.vn/tin-tuc/bai-{n}.html"
    body = "\n\n".join(paragraph(rng) for _ in range(rng.randint(4, 6)))
    title = f"{sentence(rng)[:90]} ({n})"
    is_report = rng.random() < 0.33
    kind = rng.choice(MEETING_KINDS) if is_report else None
    meeting = Meeting(
        is_report=is_report,
        score=0.9 if is_report else 0.1,
        kind=kind,
        org=f"Liên đoàn Lao động số {n % 97}" if is_report else None,
        held_on=(at - timedelta(days=1)).date().isoformat() if is_report else None,
        location="Hội trường tỉnh" if is_report else None,
        officials=[Official("Nguyễn Văn An", "Chủ tịch")] if is_report else [],
        cues=[KIND_LABELS[kind].lower()] if kind else [],
    )
    return ArticleRow(
        id=article_id(url),
        canonical_url=url,
        url=url,
        source_slug=source,
        title=title,
        lead=sentence(rng),
        body_text=body,
        author=rng.choice([None, "Minh Anh", "Thu Hà"]),
        published_at=at,
        updated_at=None,
        fetched_at=at + timedelta(minutes=20),
        first_seen_at=at + timedelta(minutes=20),
        changed_at=at + timedelta(minutes=20),
        language="vi",
        image_urls=[],
        syndicated_from=None,
        content_hash=content_hash(title, body),
        method="selectors",
        cluster_id=None,
        is_canonical=True,
        meeting=meeting.to_json(),
        is_meeting_report=is_report,
        meeting_kind=kind,
    )


def make_rows(
    slugs: list[str], count: int, now: datetime, gap: timedelta, rng: random.Random, start: int = 0
) -> list[ArticleRow]:
    """`count` invented articles spread over the sources, `gap` apart up to `now`; one in ten joins an earlier
    story's cluster (a copy on another site of a story published a little earlier)."""
    rows = [make_row(n, slugs[n % len(slugs)], now - gap * (count - n), rng) for n in range(start, start + count)]
    for n, row in enumerate(rows):
        if n % 10 == 9 and n > 20:
            origin = rows[n - rng.randint(1, 9)]
            row.body_text, row.content_hash = origin.body_text, origin.content_hash
            origin.cluster_id = origin.cluster_id or origin.id
            row.cluster_id, row.is_canonical = origin.cluster_id, False
    return rows


def fill_store(store: Store, sources: list[Source], count: int, start: int = 0, seed: int = 7) -> None:
    """Insert `count` invented articles spread over the sources (make_rows)."""
    now = datetime(2026, 7, 20, 8, 0, tzinfo=UTC)
    rows = make_rows([s.slug for s in sources], count, now, timedelta(minutes=7), random.Random(seed + start), start)
    with store.session() as s:
        s.add_all(rows)


IDENTITY_SECONDS = [0.0]


def _time_identities() -> None:
    """Count the time publish spends issuing story identities (feed.publish.guids), to report it apart."""
    original = stories.issue

    def issue(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            IDENTITY_SECONDS[0] += time.perf_counter() - started

    stories.issue = issue  # measurement only: publish looks the function up at call time


def timed(store: Store, settings: Settings, sources: list[Source]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, seconds issuing identities, files) of one publish."""
    IDENTITY_SECONDS[0] = 0.0
    started, cpu = time.perf_counter(), time.process_time()
    files = publish(store, settings, sources)
    return time.perf_counter() - started, time.process_time() - cpu, IDENTITY_SECONDS[0], len(files)


def report(label: str, figures: tuple[float, float, float, int]) -> None:
    wall, cpu, identities, _ = figures
    verdict = "met" if wall <= TARGET_SECONDS else "MISSED"
    print(f"{label:<48} {wall:6.2f} s wall {cpu:6.2f} s CPU {identities:6.2f} s identities  {verdict}")


def folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Build the store, publish several times, print the figures; exit 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="unionfeed-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{work / 'bench.sqlite'}")
    sources = make_sources(args.sources)
    settings = replace(Settings(), data=work, public_dir=work / "public", site_url="https://tin.example.vn/")
    started = time.perf_counter()
    fill_store(store, sources, args.articles)
    built = time.perf_counter() - started
    print(
        f"store: {store.count()} articles from {len(sources)} sources, built in {built:.1f} s; "
        f"target for a publish: {TARGET_SECONDS:.1f} s; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} (wall time grows with the load, CPU time does not)"
    )
    _time_identities()
    first = timed(store, settings, sources)
    report("first publish (empty folder, every identity new)", first)
    print(f"{'':<48} {first[3]} files, {folder_size(settings.public) / 1e6:.1f} MB")
    routine = [timed(store, settings, sources)]
    report("second publish, nothing changed", routine[-1])
    fill_store(store, sources[:1], 20, start=args.articles)
    routine.append(timed(store, settings, sources))
    report("after one source's crawl (+20 articles)", routine[-1])
    steady = [timed(store, settings, sources) for _ in range(args.repeat)]
    median = sorted(steady)[len(steady) // 2]
    report(f"steady publish, median of {args.repeat}", median)
    routine.append(median)
    store.close()
    worst = max(r[0] for r in routine)
    print(f"publishes after the first: worst {worst:.2f} s, target {'met' if worst <= TARGET_SECONDS else 'MISSED'}")
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
