"""feeds.opml: every feed the site publishes, grouped, for readers that import a subscription list."""

from __future__ import annotations

from feed.publish.feed_writer import FeedSite, FeedSpec, xml_attr, xml_text

TITLE = "unionfeed — Danh sách nguồn tin công đoàn"
GROUPS = {"": "Tổng hợp", "kinds": "Theo loại hội nghị", "sources": "Theo nguồn tin"}


def _outline(spec: FeedSpec, site: FeedSite) -> str:
    return (
        f'<outline type="rss" text="{xml_attr(spec.title)}" title="{xml_attr(spec.title)}" '
        f'description="{xml_attr(spec.description)}" xmlUrl="{xml_attr(site.url(spec, "atom"))}" '
        f'htmlUrl="{xml_attr(spec.alternate)}" language="vi"/>'
    )


def opml_document(specs: list[FeedSpec], site: FeedSite) -> str:
    """OPML 2.0 listing each feed once, by its Atom URL (the same path also ends in .rss and .json)."""
    groups = []
    for folder, label in GROUPS.items():
        members = [s for s in specs if s.path.rpartition("/")[0] == folder]
        lines = "\n".join(f"  {_outline(s, site)}" for s in members)
        groups.append(f'<outline text="{xml_attr(label)}" title="{xml_attr(label)}">\n{lines}\n</outline>')
    # A note, not a feed: readers subscribe to outlines with an xmlUrl only (feed.publish.calendar).
    note = "Lịch hội nghị (iCalendar), để thêm vào ứng dụng lịch"
    groups.append(f'<outline text="{xml_attr(note)}" type="link" url="{xml_attr(site.base)}feeds/meetings.ics"/>')
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n<head>\n'
        f"<title>{xml_text(TITLE)}</title>\n<ownerName>unionfeed</ownerName>\n"
        "<docs>http://opml.org/spec2.opml</docs>\n</head>\n<body>\n" + "\n".join(groups) + "\n</body>\n</opml>\n"
    )
