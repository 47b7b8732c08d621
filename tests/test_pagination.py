"""Listing pagination without a `next:` rule, tried with real crawls over real HTTP on loopback.

Each test serves a small listing site on 127.0.0.1 (and sometimes another host, 127.0.0.2) whose source in
sources.yaml names no next-page selector, crawls it with the real spider in a forked child as the scheduler does,
and reads the store, the run's stats and the pages the site was asked for. The spider finds the next page from
rel=next, then pager words ("Trang sau »"), then the numbered pager's link to page N+1; it follows up to the
listing's max_pages, stops at a page of known articles, never leaves the source's hosts and never goes back to a
page it has read. A configured `next:` rule still wins.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from unionfeed_scrapers.pagination import next_page_candidates

from .support.loopback_sites import page_html
from .test_boundary import OFFSITE, SECRET, Pages, World, article, make_world, secret_page, serve

PER_PAGE = 3


def entry(base: str, section: str = "/tin-tuc/", *, max_pages: int = 5, next_rule: str = "") -> str:
    """A source whose listing (base+section) has no next: rule unless one is given."""
    rule = f"          next: '{next_rule}'\n" if next_rule else ""
    return (
        f"  - slug: nguon-a\n    name: 'Công đoàn nguồn A'\n    kind: union_portal\n    homepage: {base}/\n"
        f"    discovery:\n      article_pattern: '/tin-tuc/bai-\\d+\\.html$'\n      listings:\n"
        f"        - url: {base}{section}\n          links: 'ul.news-list a.title'\n{rule}"
        f"          max_pages: {max_pages}\n"
    )


def numbers_on(page: int) -> list[int]:
    """The articles listed on a page, newest first: page 1 holds 1-3, page 2 holds 4-6, ..."""
    return list(range((page - 1) * PER_PAGE + 1, page * PER_PAGE + 1))


def listing_page(page: int, pager: str, head: str = "", numbers: list[int] | None = None) -> str:
    items = "".join(
        f'<li><a class="title" href="/tin-tuc/bai-{n}.html">{html.escape(title(n))}</a>'
        f' <a class="more" href="/tin-tuc/bai-{n}.html">Xem thêm</a></li>'
        for n in (numbers if numbers is not None else numbers_on(page))
    )
    nav = '<nav><a href="/">Trang chủ</a> <a href="/gioi-thieu.html">Giới thiệu</a></nav>'
    return page_html(f"Tin tức — trang {page}", f'{nav}<ul class="news-list">{items}</ul>{pager}', head)


def title(number: int) -> str:
    return f"Công đoàn cơ sở số {number} tổ chức hội nghị người lao động"


def build(
    site: Pages,
    pages: int,
    path: Callable[[int], str],
    pager: Callable[[int], str],
    head: Callable[[int], str] | None = None,
) -> None:
    """A listing of `pages` pages at path(1), path(2), ...; pager(n) is the pager markup of page n."""
    for page in range(1, pages + 1):
        site.set(path(page), listing_page(page, pager(page), head(page) if head else ""))
        for number in numbers_on(page):
            site.set(f"/tin-tuc/bai-{number}.html", article(title(number), number))


def stored_numbers(world: World, site: Pages) -> list[int]:
    prefix = f"{site.base}/tin-tuc/bai-"
    return sorted(int(u.removeprefix(prefix).removesuffix(".html")) for u in world.rows("nguon-a"))


def asked(site: Pages, path: str) -> int:
    return site.hits.count(path)


@pytest.fixture
def home() -> Pages:
    return Pages("127.0.0.1")


def query_path(page: int) -> str:
    return "/tin-tuc/" if page == 1 else f"/tin-tuc/?page={page}"


def numbered_pager(page: int, pages: int, path: Callable[[int], str]) -> str:
    """A numbered pager: every page a link but the current one, which is plain text (as most CMSs draw it)."""
    cells = "".join(
        f"<li><span>{n}</span></li>" if n == page else f'<li><a href="{path(n)}">{n}</a></li>'
        for n in range(1, pages + 1)
    )
    return f'<ul class="pagination">{cells}</ul>'


# --- the shapes a next page is found in ----------------------------------------------------------------------------
@pytest.mark.reliability("listing-pagination")
def test_rel_next_is_followed(tmp_path: Path, home: Pages) -> None:
    def path(page: int) -> str:  # no number shape: only rel=next can lead from one page to the next
        return "/tin-tuc/" if page == 1 else f"/tin-tuc/cu-hon-{'x' * page}/"

    with serve(home):
        build(home, 3, path, lambda n: "", head=lambda n: f'<link rel="next" href="{path(n + 1)}">' if n < 3 else "")
        world = make_world(tmp_path, entry(home.base))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 10))  # the articles of pages 2 and 3 are stored
    assert [asked(home, path(n)) for n in (1, 2, 3)] == [1, 1, 1]
    stats = world.stats("nguon-a")
    assert stats.get("unionfeed/next_page/rel") == 2 and stats.get("unionfeed/listing_pages") == 3


@pytest.mark.reliability("listing-pagination")
def test_trang_sau_link_is_followed_and_read_more_links_are_not_a_pager(tmp_path: Path, home: Pages) -> None:
    def path(page: int) -> str:
        return "/tin-tuc/" if page == 1 else f"/tin-tuc/tin-cu-{'x' * page}.html"

    def pager(page: int) -> str:  # each item also has its own "Xem thêm" (read more) link to its article
        return f'<div class="paging"><a href="{path(page + 1)}">  TRANG SAU&nbsp;» </a></div>' if page < 3 else ""

    with serve(home):
        build(home, 3, path, pager)
        world = make_world(tmp_path, entry(home.base))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 10))
    assert [asked(home, path(n)) for n in (1, 2, 3)] == [1, 1, 1]
    assert world.stats("nguon-a").get("unionfeed/next_page/text") == 2


@pytest.mark.reliability("listing-pagination")
def test_numbered_pager_with_page_query_is_followed(tmp_path: Path, home: Pages) -> None:
    with serve(home):
        build(home, 4, query_path, lambda n: numbered_pager(n, 4, query_path))
        world = make_world(tmp_path, entry(home.base))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 13))
    assert [asked(home, query_path(n)) for n in (1, 2, 3, 4)] == [1, 1, 1, 1]
    assert world.stats("nguon-a").get("unionfeed/next_page/number") == 3


@pytest.mark.reliability("listing-pagination")
def test_numbered_pager_with_trang_n_html_is_followed(tmp_path: Path, home: Pages) -> None:
    def path(page: int) -> str:  # /tin-tuc.html, then /tin-tuc/trang-2.html, /tin-tuc/trang-3.html
        return "/tin-tuc.html" if page == 1 else f"/tin-tuc/trang-{page}.html"

    with serve(home):
        # Page 2 also links "trang-4": not N+1, so not the next page (page 3 is).
        build(home, 4, path, lambda n: numbered_pager(n, 4, path))
        world = make_world(tmp_path, entry(home.base, "/tin-tuc.html", max_pages=3))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 10))
    assert [asked(home, path(n)) for n in (1, 2, 3, 4)] == [1, 1, 1, 0]
    assert world.stats("nguon-a").get("unionfeed/next_page/number") == 2


# --- where paging stops ----------------------------------------------------------------------------------------------
@pytest.mark.reliability("listing-pagination")
def test_next_link_back_to_page_one_is_not_followed(tmp_path: Path, home: Pages) -> None:
    def pager(page: int) -> str:  # page 2's "next" (rel and words) leads back to page 1: a loop
        target = "/tin-tuc/?page=2" if page == 1 else "/tin-tuc/"
        return f'<a rel="next" href="{target}">Trang sau</a>'

    with serve(home):
        build(home, 2, query_path, pager)
        world = make_world(tmp_path, entry(home.base, max_pages=10))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 7))
    assert (asked(home, "/tin-tuc/"), asked(home, "/tin-tuc/?page=2")) == (1, 1)
    stats = world.stats("nguon-a")
    assert stats.get("unionfeed/listing_pages") == 2 and not stats.get("unionfeed/discovery_failed")


@pytest.mark.reliability("listing-pagination")
def test_max_pages_is_respected(tmp_path: Path, home: Pages) -> None:
    with serve(home):
        build(home, 5, query_path, lambda n: numbered_pager(n, 5, query_path))
        world = make_world(tmp_path, entry(home.base, max_pages=2))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 7))
    assert [asked(home, query_path(n)) for n in (1, 2, 3, 4, 5)] == [1, 1, 0, 0, 0]


@pytest.mark.reliability("listing-pagination")
def test_second_poll_stops_at_a_page_of_known_articles(tmp_path: Path, home: Pages) -> None:
    with serve(home):
        build(home, 3, query_path, lambda n: numbered_pager(n, 3, query_path))
        world = make_world(tmp_path, entry(home.base))
        world.crawl("nguon-a")
        assert stored_numbers(world, home) == list(range(1, 10))
        # A new article (0) tops page 1; page 2 then holds only known articles: page 3 is not asked again.
        home.set("/tin-tuc/", listing_page(1, numbered_pager(1, 3, query_path), numbers=[0, 1, 2, 3]))
        home.set("/tin-tuc/bai-0.html", article(title(0), 10))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(10))
    assert [asked(home, query_path(n)) for n in (1, 2, 3)] == [2, 2, 1]
    assert world.stats("nguon-a").get("unionfeed/stopped_at_known") == f"{home.base}/tin-tuc/?page=2"


# --- what wins and what is never followed ----------------------------------------------------------------------------
@pytest.mark.reliability("listing-pagination")
def test_a_configured_next_rule_still_wins(tmp_path: Path, home: Pages) -> None:
    def pager(page: int) -> str:  # the rule's link and, beside it, a rel=next and a numbered pager to a decoy
        return (
            f'<a class="rule-next" href="/tin-tuc/theo-rule-{page + 1}/">Cũ hơn</a>'
            f'<a rel="next" href="/tin-tuc/?page={page + 1}">Trang sau</a>'
        )

    with serve(home):
        build(home, 2, lambda n: "/tin-tuc/" if n == 1 else f"/tin-tuc/theo-rule-{n}/", pager)
        secret_page(home, "/tin-tuc/?page=2")
        world = make_world(tmp_path, entry(home.base, max_pages=2, next_rule="a.rule-next"))
        world.crawl("nguon-a")
    assert stored_numbers(world, home) == list(range(1, 7))
    assert (asked(home, "/tin-tuc/theo-rule-2/"), asked(home, "/tin-tuc/?page=2")) == (1, 0)
    stats = world.stats("nguon-a")
    assert stats.get("unionfeed/next_page/rule") == 1 and not stats.get("unionfeed/next_page/rel")


@pytest.mark.reliability("listing-pagination", "source-boundary")
def test_next_page_on_another_host_is_refused_and_the_sites_own_pager_used(tmp_path: Path, home: Pages) -> None:
    elsewhere = Pages("127.0.0.2")
    with serve(home, elsewhere):

        def pager(page: int) -> str:  # rel=next names the other host; the pager words stay on the site
            return (
                f'<link rel="next" href="{elsewhere.base}/tin-tuc/?page={page + 1}">'
                f'<a href="/tin-tuc/?page={page + 1}">Trang tiếp</a>'
                if page < 2
                else ""
            )

        build(home, 2, query_path, pager)
        secret_page(elsewhere, "/tin-tuc/?page=2")
        world = make_world(tmp_path, entry(home.base))
        world.crawl("nguon-a")
    assert elsewhere.hits == []
    assert stored_numbers(world, home) == list(range(1, 7))
    stats = world.stats("nguon-a")
    assert (stats.get(OFFSITE), stats.get(f"{OFFSITE}/next_page"), stats.get("unionfeed/next_page/text")) == (1, 1, 1)
    assert not [r for r in world.rows().values() if SECRET in (r.title or "") + (r.body_text or "")]


# --- the finder alone, on pages in hand (the other shapes and words) --------------------------------------------------
def candidates(url: str, body: str, article_part: str = "/bai-") -> list[tuple[str, str]]:
    response = HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8")
    return next_page_candidates(response, lambda u: article_part in u)


@pytest.mark.parametrize(
    ("url", "links", "expected"),
    [
        ("http://h/tin-tuc/page/2/", ["/tin-tuc/", "/tin-tuc/page/3/", "/tin-tuc/page/4/"], "http://h/tin-tuc/page/3/"),
        ("http://h/tin-tuc/", ["/tin-tuc/page/2/"], "http://h/tin-tuc/page/2/"),
        ("http://h/cong-doan/p-1.htm", ["/cong-doan/p-3.htm", "/cong-doan/p-2.htm"], "http://h/cong-doan/p-2.htm"),
        ("http://h/tin-tuc.html", ["/tin-tuc-p2.html"], "http://h/tin-tuc-p2.html"),
        ("http://h/tin-tuc-p2.html", ["/tin-tuc.html", "/tin-tuc-p3.html"], "http://h/tin-tuc-p3.html"),
        (
            "http://h/c.aspx?id=5&trang=2",
            ["/c.aspx?id=6&trang=3", "/c.aspx?trang=3&id=5"],
            "http://h/c.aspx?trang=3&id=5",
        ),
        ("http://h/c/?p=1", ["/c/?p=2"], "http://h/c/?p=2"),
    ],
)
def test_numbered_shapes_lead_to_page_n_plus_one(url: str, links: list[str], expected: str) -> None:
    body = "".join(f'<a href="{link}">{n}</a>' for n, link in enumerate(links))
    assert candidates(url, body) == [(expected, "number")]


def test_pager_words_are_read_without_case_or_diacritics_in_their_order() -> None:
    body = (
        '<a href="/c/next">NEXT</a><a href="/c/sym">›</a><a href="/c/last">»»</a><a href="/c/tiep">Tiep &gt;</a>'
        '<a href="/c/trang-tiep">trang TIẾP</a><a href="/c/bai-1">Xem tiếp</a><a href="/c/bai-2">Sau</a>'
    )
    assert candidates("http://h/c/", body) == [
        ("http://h/c/trang-tiep", "text"),
        ("http://h/c/tiep", "text"),
        ("http://h/c/sym", "text"),
        ("http://h/c/next", "text"),
    ]


def test_xem_them_is_a_pager_only_when_it_leads_to_one_page() -> None:
    read_more = '<a href="/c/x-1">Xem thêm</a><a href="/c/x-2">Xem thêm</a>'
    assert candidates("http://h/c/", read_more) == []
    assert candidates("http://h/c/", '<a href="/c/them-tin/">Xem thêm »</a>') == [("http://h/c/them-tin/", "text")]
    assert candidates("http://h/c/", '<a href="/c/bai-9.html">Xem thêm</a>') == []  # one article's "read more"
