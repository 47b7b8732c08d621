"""`unionfeed search QUERY [--kind K] [--province P] [--source S] [--org O] [--since D] [--limit N] [--json]`:
the stored articles matching a query, newest first, in Vietnamese with diacritics kept (docs/search.md).

Words match without case or diacritics ("dai hoi cong doan" finds "Đại hội Công đoàn"); every word must appear.
Exit 0 with results, 1 with none, 2 for a wrong option (one plain line), 6 when the store cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, time

from feed.config.settings import Settings
from feed.config.sources import read_sources
from feed.lang.dates import VN_TZ
from feed.publish.query_feeds import BadQuery, FeedQuery, to_search
from feed.records import KIND_LABELS, MEETING_KINDS
from feed.store.api import Store
from feed.store.search import MAX_LIMIT, Hit, SearchError, search

HELP = "search stored articles, without minding case or diacritics"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="?", default="", help='words to find, e.g. "dai hoi cong doan" (may be empty)')
    p.add_argument("--kind", help=f"only meeting reports of this kind ({', '.join(MEETING_KINDS)})")
    p.add_argument("--province", help='only sources of this province, e.g. "Thanh Hóa" or "thanh hoa"')
    p.add_argument("--source", help="only this source (its slug)")
    p.add_argument("--org", help='only meetings organised by this body, e.g. "Công đoàn Giáo dục"')
    p.add_argument("--since", metavar="DATE", help="only articles published (else first seen) on DATE or later")
    p.add_argument("--limit", type=int, default=20, help=f"at most this many results (1–{MAX_LIMIT}; default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object a line instead of text")


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"--since {value!r} is not a date (YYYY-MM-DD)") from None
    if day.tzinfo is None:  # a day, or a time without offset, is Vietnam's
        day = datetime.combine(day.date(), day.time() if value.strip()[10:] else time(), VN_TZ)
    return day


def _record(hit: Hit, names: dict[str, str]) -> dict[str, object]:
    return {
        "title": hit.title,
        "url": hit.url,
        "source": hit.source_slug,
        "source_name": names.get(hit.source_slug, hit.source_slug),
        "published": hit.shown_at.astimezone(VN_TZ).isoformat(timespec="seconds"),
        "kind": hit.kind,
        "org": hit.meeting.get("org") if hit.is_report else None,
        "guid": hit.guid,
    }


def _line(hit: Hit, names: dict[str, str]) -> str:
    day = hit.shown_at.astimezone(VN_TZ).strftime("%d/%m/%Y")
    kind = f" · {KIND_LABELS[hit.kind]}" if hit.kind in KIND_LABELS else ""
    indent = " " * 12
    source = names.get(hit.source_slug, hit.source_slug)
    return f"{day}  {hit.title or '(không có tiêu đề)'}\n{indent}{source}{kind}\n{indent}{hit.url}"


def run(args: argparse.Namespace, settings: Settings) -> int:
    sources, _problems = read_sources(settings.config)
    try:
        query = FeedQuery(
            q=args.query, kind=args.kind, province=args.province, source=args.source, org=args.org, limit=args.limit
        )
        wanted = to_search(query, sources, _since(args.since))
    except BadQuery as exc:
        print(f"unionfeed search: {exc}", file=sys.stderr)
        return 2
    store = Store(settings.db_url)
    try:
        hits = search(store.engine, wanted, store.name)
    except SearchError as exc:
        print(f"unionfeed search: {exc}", file=sys.stderr)
        return 6
    finally:
        store.close()
    names = {s.slug: s.name for s in sources}
    if args.json:
        for hit in hits:
            sys.stdout.write(json.dumps(_record(hit, names), ensure_ascii=False) + "\n")
    else:
        for hit in hits:
            print(_line(hit, names))
        print(f"{len(hits)} kết quả" if hits else "Không tìm thấy bài viết nào.")
    return 0 if hits else 1
