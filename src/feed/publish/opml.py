"""The subscription lists readers import.

feeds.opml is what most people want: two feeds that never overlap, the meeting reports and every other story
("other"), so a reader shows each story once. feeds-all.opml lists every feed the site publishes (all, each kind,
each source, each province, each saved query), grouped, for readers who want to pick; those feeds overlap one
another on purpose (a meeting report is in all, meetings, its kind, its source and its province).
Neither lists the meetings calendar (feeds/meetings.ics, linked from the index page): newsboat subscribes to any
outline with a URL, `type="link"` ones included, and then reports the calendar as a broken feed.
"""

from __future__ import annotations

from feed.publish.feed_writer import FeedSite, FeedSpec, xml_attr, xml_text

TITLE = "Tin công đoàn: hội nghị và tin khác"
ALL_TITLE = "Tin công đoàn: mọi kênh tin (các kênh trùng nhau)"
ALL_OPML = "feeds-all.opml"
DEFAULT_FEEDS = ("meetings", "other")  # disjoint, and together every story
GROUPS = {
    "": "Tổng hợp",
    "kinds": "Theo loại hội nghị",
    "sources": "Theo nguồn tin",
    "provinces": "Theo tỉnh, thành phố",
}
SAVED = "Truy vấn đã lưu"


def _outline(spec: FeedSpec, site: FeedSite) -> str:
    return (
        f'<outline type="rss" text="{xml_attr(spec.title)}" title="{xml_attr(spec.title)}" '
        f'description="{xml_attr(spec.description)}" xmlUrl="{xml_attr(site.url(spec, "atom"))}" '
        f'htmlUrl="{xml_attr(spec.alternate)}" language="vi"/>'
    )


def _group(label: str, members: list[FeedSpec], site: FeedSite) -> str:
    lines = "\n".join(f"  {_outline(s, site)}" for s in members)
    # A section is a folder: text only (the W3C validator asks an outline with more attributes for a type).
    return f'<outline text="{xml_attr(label)}">\n{lines}\n</outline>'


def _document(title: str, body: list[str]) -> str:
    # No <docs> in the head: it is optional, and the W3C validator (OPML 1.0 rules) calls it an undefined element.
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n<head>\n'
        f"<title>{xml_text(title)}</title>\n<ownerName>unionfeed</ownerName>\n"
        "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</opml>\n"
    )


def opml_document(specs: list[FeedSpec], site: FeedSite) -> str:
    """feeds.opml: the meetings feed and the other-news feed only, by their Atom URLs; no story is in both."""
    by_path = {s.path: s for s in specs}
    outlines = [_outline(by_path[p], site) for p in DEFAULT_FEEDS if p in by_path]
    return _document(TITLE, outlines)


def _folder(spec: FeedSpec) -> str:
    return spec.path.rpartition("/")[0]


def opml_all(specs: list[FeedSpec], site: FeedSite) -> str:
    """feeds-all.opml: every feed once, by its Atom URL (the same path also ends in .rss and .json), grouped."""
    groups = []
    for folder, label in GROUPS.items():
        members = [s for s in specs if _folder(s) == folder and not s.path.startswith("query-")]
        if members:
            groups.append(_group(label, members, site))
    saved = [s for s in specs if s.path.startswith("query-")]
    if saved:
        groups.append(_group(SAVED, saved, site))
    return _document(ALL_TITLE, groups)
