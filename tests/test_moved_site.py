"""A source whose whole site moved, over real HTTP on loopback: followed within the prefix it moved to, remembered,
and named with the entry's fix; a temporary redirect or one page redirecting alone is still refused.

The old host (127.0.0.1) answers every path with a 301 to http://127.0.0.3:<port>/nld/<the same path>, as
nld.com.vn does to tuoitre.vn/nld/; the new host serves the feed, a listing and the articles under /nld/, and its
own articles outside /nld/, which the feed and the listing link too (tests/support/moved_sites.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.store.api import Store

from .support.cli import run_cli
from .support.loopback_sites import write_config
from .support.moved_sites import OTHER, PREFIX, UNION, PartlyMoved, Site, article, entry, fill_new_site, serve

SLUG = "bao-nguoi-lao-dong"
OFFSITE = "unionfeed/offsite_refused"


def stored(settings: Settings) -> dict[str, str]:
    store = Store(settings.db_url)
    try:
        return {row.url: row.title or "" for row in store.articles(source_slug=SLUG)}
    finally:
        store.close()


def last_stats(settings: Settings) -> dict[str, Any]:
    store = Store(settings.db_url)
    try:
        return dict(store.runs(SLUG, limit=1)[0].stats or {})
    finally:
        store.close()


def cli(settings: Settings, *args: str) -> Any:
    result = run_cli("--config", str(settings.config), "--data", str(settings.data), *args, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.reliability("site-moved")
def test_a_whole_site_that_moved_is_followed_within_its_new_prefix_and_named(tmp_path: Path) -> None:
    old, new = Site("127.0.0.1"), Site("127.0.0.3")
    with serve(old, new):
        fill_new_site(new)
        old.redirect_all = (301, new.base + PREFIX)
        settings = load_settings(write_config(tmp_path / "config", [entry(SLUG, old.base)]), tmp_path / "data")
        assert crawl_in_child(settings, [SLUG], timeout=120) == 0
        first = stored(settings)
        first_stats = last_stats(settings)
        first_new_hits = list(new.hits)
        # Next poll: a new article; the move is remembered, so the redirects are followed at once.
        new.set(f"{PREFIX}/tin-tuc/bai-4.html", article("Công đoàn Công ty Pouyuen tổ chức hội nghị người lao động", 4))
        rss = new.pages[f"{PREFIX}/rss/home.rss"]
        link = f"<item><title>Bài 4</title><link>{new.base}{PREFIX}/tin-tuc/bai-4.html</link></item>"
        new.pages[f"{PREFIX}/rss/home.rss"] = (rss[0], rss[1], rss[2].replace("<item>", link + "<item>", 1))
        old.hits.clear()
        assert crawl_in_child(settings, [SLUG], timeout=120) == 0
        second = stored(settings)
        second_stats = last_stats(settings)

    # The union articles under /nld/ are the source's, with their titles; the host's own articles are not.
    assert first == {f"{new.base}{PREFIX}/tin-tuc/bai-{n}.html": title for n, title in UNION.items()}
    assert not [h for h in first_new_hits if h.startswith("/the-thao/")]
    assert f"{new.base}{PREFIX}/tin-tuc/bai-4.html" in second and len(second) == len(UNION) + 1
    assert not [t for t in second.values() if t in OTHER.values()]
    # Refused and counted: each link to them, in the feed and in the listing, in each run.
    assert first_stats[f"{OFFSITE}/outside_move"] == 2 * len(OTHER)
    assert second_stats[f"{OFFSITE}/outside_move"] == 2 * len(OTHER)
    # The homepage was asked once, in the first run, to tell a moved site from a stray redirect; not again.
    assert "/" not in old.hits and {"/rss/home.rss", "/tin-tuc/"} <= set(old.hits)
    assert "/robots.txt" in new.hits  # the new host's rules were asked for and obeyed
    store = Store(settings.db_url)
    try:
        (move,) = store.moves(SLUG)
    finally:
        store.close()
    assert (move.to_url, move.homepage, move.keeps_paths) == (f"{new.base}{PREFIX}/", f"{new.base}{PREFIX}/", True)
    where = f"{new.base.removeprefix('http://')}{PREFIX}/"
    for stats in (first_stats, second_stats):
        assert stats["unionfeed/moved_to"] == where
        assert stats["unionfeed/moved_fix"] == (
            f"homepage: {new.base}{PREFIX}/; feeds: {new.base}{PREFIX}/rss/home.rss; "
            f"listings: {new.base}{PREFIX}/tin-tuc/"
        )

    # Named everywhere, with the fix: unionfeed status, status.json, the health feed and the index page.
    health = {s["slug"]: s for s in json.loads(cli(settings, "status", "--json").stdout)["sources"]}[SLUG]
    assert health["state"] == "ok" and health["reasons"] == []
    (flag,) = health["flags"]
    assert flag["code"] == "moved"
    assert flag["text_vi"].startswith(f"trang đã chuyển sang {where}")
    assert f"homepage: {new.base}{PREFIX}/" in flag["text_vi"] and f"{new.base}{PREFIX}/rss/home.rss" in flag["text"]
    assert health["last_run"]["moved"] == {"to": where, "fix": second_stats["unionfeed/moved_fix"]}
    table = " ".join(cli(settings, "status").stdout.split())
    assert f"moved to {where}" in table and "1 source(s) moved" in table
    cli(settings, "status", "--write")
    written = json.loads((settings.public / "status.json").read_text(encoding="utf-8"))
    assert [f["code"] for f in written["sources"][0]["flags"]] == ["moved"]
    atom = feedparser.parse((settings.public / "feeds" / "health.atom").read_bytes())
    assert any(f"trang đã chuyển sang {where}" in e.content[0].value for e in atom.entries)
    assert "Nguồn tin đã chuyển trang" in [e.title.split(":")[0] for e in atom.entries]
    cli(settings, "publish")
    page = (settings.public / "index.html").read_text(encoding="utf-8")
    row = page.split(f'id="nguon-{SLUG}"', 1)[1].split("</tr>", 1)[0]
    assert f"trang đã chuyển sang {where}" in row and "Trang đã chuyển địa chỉ" in row
    assert "Bộ chọn không còn khớp" not in row


@pytest.mark.reliability("site-moved", "source-boundary")
@pytest.mark.parametrize("case", ["temporary", "feed-only"])
def test_a_redirect_that_is_no_whole_site_move_is_refused(tmp_path: Path, case: str) -> None:
    if case == "temporary":
        old: Site = Site("127.0.0.1")  # every path, but with 302: the site may come back
    else:
        old = PartlyMoved("127.0.0.1", only=("/rss/home.rss",))  # the homepage and the listing stay
        old.set("/", "<html><body><h1>Báo Người Lao Động</h1></body></html>")
        old.set("/tin-tuc/", '<html><body><ul class="news-list"></ul></body></html>')
    new = Site("127.0.0.3")
    with serve(old, new):
        fill_new_site(new)
        old.redirect_all = (302 if case == "temporary" else 301, new.base + PREFIX)
        settings = load_settings(write_config(tmp_path / "config", [entry(SLUG, old.base)]), tmp_path / "data")
        assert crawl_in_child(settings, [SLUG], timeout=120) == 0
    assert new.hits == []  # not a page, not even its robots.txt
    assert stored(settings) == {}
    stats = last_stats(settings)
    assert "unionfeed/moved_to" not in stats
    if case == "temporary":
        assert stats[f"{OFFSITE}/redirect"] == 3  # robots.txt, the feed and the listing
    else:
        assert stats["unionfeed/moved_refused"] == 1 and stats[f"{OFFSITE}/redirect"] == 1
        assert "/" in old.hits  # the homepage was asked, answered where it was: no move
    store = Store(settings.db_url)
    try:
        assert store.moves(SLUG) == []
    finally:
        store.close()
