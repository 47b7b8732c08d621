"""Loopback sites shaped like the real Vietnamese union and news sites unionfeed watches (issue 13, part 8).

Each site is served by real HTTP servers on its own loopback addresses (127.0.0.x, one per host), records every
request it sees, and comes with what an operator would write in sources.yaml for it (a homepage, or a homepage and
one section URL: no selectors, no patterns), the articles that source must store (URL, exact title, publish time
with its timezone), the pages it must not store, and the part of the web it may ask (its boundary). A decoy host
on 127.0.0.99, linked from every site (share buttons, partner portals, a syndicated feed item), must see nothing.

The sites, and the real ones they copy facts from (URL shapes, class names, date formats, behaviour; the texts are
written for these tests):

- `ldo-cong-doan` (a) laodong.vn: the WAF's 177-byte script page setting the D1N cookie and reloading, sent for
  every path but robots.txt until a request carries the cookie; `/cong-doan/` section, `…-<id>.ldo` articles
  (`article.article-detail`, `div.chappeau`, `div.art-body`, `time.f-datetime` "Thứ Hai, 05/01/2026 08:30
  (GMT+7)"), `/tags/<slug>-<id>.ldo` tag pages that look like articles.
- `nld-cong-doan` (b) nld.com.vn moved to tuoitre.vn/nld: the old host answers every path with a 301 to the new
  host under `/nld/`; the new homepage names its feed only in `<link rel="alternate">`; the new host also carries
  its own articles outside `/nld/` (linked from the NLĐ homepage, and in the sitemap its robots.txt names), which
  are not the source's. VCCorp detail markup (`h1.detail-title`, `div.detail-time`, `div.detail-content`).
- `ldld-quang-tri` (c) a NukeViet provincial federation portal (congdoan.quangtri.gov.vn): a homepage with menus,
  "Giới thiệu" (`/about/Gioi-thieu.html`), "Liên hệ" (`/contact/`), document and tag pages
  (`/news/tag/<alias>`), section pages (`/Tin-tuc-hoat-dong-26/`) and articles `/<cat>-<id>/<alias>-<id>.html`,
  dated only in the page's text ("Thứ hai - 05/01/2026 08:30").
- `baosonla-van-hoa` (d) a provincial paper's section with numbered pages only (baosonla.vn
  `/van-hoa-xa-hoi/trang-2.html`), no feed, no sitemap, no next link; `cms-title` / `cms-body` article markup.
- `bo-noi-vu-tin-tuc` (e) moha.gov.vn's 2025 portal: the news list exists only in a script that fetches it as
  JSON; articles `/tin-tuc/<slug>---oid<id>`. Read with `render: browser` when Chromium and scrapy-playwright
  are installed; else the crawl must name the cause ("cần JavaScript").
- `vatm-cong-doan` (f) a CMS whose every page, articles included, declares the homepage as its rel=canonical and
  og:url (vatm.vn `/cd/<slug>-n<id>.html`).
"""

from __future__ import annotations

import html
import importlib.util
import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .obstacle_sites import LAODONG_GATE

VN = timezone(timedelta(hours=7))
HTML = "text/html; charset=utf-8"
DECOY_IP = "127.0.0.99"
SECRET = "noi-dung-ngoai-bien-5d1c"  # on every page of the decoy: nothing stored may hold it
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", HTML),)


def page(text: str) -> Reply:
    return Reply(200, text.encode("utf-8"))


def moved(location: str) -> Reply:
    return Reply(301, b"", (("Location", location), ("Content-Type", "text/html; charset=utf-8")))


NOT_FOUND = Reply(404, "<h1>404 - Không tìm thấy trang</h1>".encode())


def plain(text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(200, text.encode("utf-8"), (("Content-Type", content_type),))


@dataclass(frozen=True)
class Seen:
    host: str  # the site's name for the host ("moi", "cu", …)
    path: str  # path and query, as asked
    status: int
    cookie: str | None


@dataclass(frozen=True)
class Story:
    """One article of a site: where it lives (a path on one of the site's hosts), its headline, time and text."""

    host: str
    path: str
    title: str
    published: datetime
    lead: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Expected:
    url: str
    title: str
    published: datetime


# --- the text of the articles --------------------------------------------------------------------------------------
# Written for these tests in the register of union news; each story adds its own opening, figures and place.
MIDDLES = (
    "Theo báo cáo, trong năm qua các cấp công đoàn đã phối hợp với người sử dụng lao động tổ chức {n} cuộc đối "
    "thoại định kỳ, giải quyết dứt điểm nhiều kiến nghị về tiền lương, thời giờ làm việc và bữa ăn giữa ca.",
    "Ban Chấp hành công đoàn cơ sở cho biết, toàn bộ {n} suất quà được trao tận tay đoàn viên có hoàn cảnh khó "
    "khăn, công nhân ở trọ xa quê và gia đình có người thân ốm đau dài ngày.",
    "Phát biểu chỉ đạo, đồng chí Phó Chủ tịch Liên đoàn Lao động đề nghị các công đoàn cơ sở tiếp tục lắng nghe "
    "tâm tư của người lao động, chủ động nắm tình hình việc làm và thu nhập của {n} đoàn viên trong khối.",
    "Tại buổi làm việc, đại diện doanh nghiệp cam kết điều chỉnh mức hỗ trợ nhà trọ, tiền xăng xe và thực hiện "
    "đầy đủ chế độ bảo hiểm xã hội cho {n} lao động theo đúng thỏa ước lao động tập thể đã ký.",
    "Các đại biểu đã thảo luận sôi nổi về giải pháp phát triển đoàn viên, thành lập công đoàn cơ sở ở doanh "
    "nghiệp ngoài nhà nước và nâng cao chất lượng hoạt động của {n} tổ công đoàn trực thuộc.",
    "Chương trình được tổ chức theo hình thức trực tiếp kết hợp trực tuyến, thu hút {n} cán bộ công đoàn "
    "chuyên trách và không chuyên trách tham gia, nhiều ý kiến được ghi nhận để hoàn thiện quy chế.",
)
CLOSINGS = (
    "Dịp này, {n} tập thể và cá nhân có thành tích xuất sắc trong phong trào thi đua lao động giỏi được khen thưởng.",
    "Kết thúc chương trình, ban tổ chức thống nhất sẽ kiểm tra, giám sát việc thực hiện các nội dung đã cam kết "
    "trong quý tới và báo cáo kết quả lên công đoàn cấp trên.",
    "Được biết, năm nay tổng kinh phí chăm lo cho đoàn viên, người lao động của đơn vị đạt hơn {n} triệu đồng, "
    "tăng so với cùng kỳ năm trước.",
)


def story(host: str, path: str, title: str, when: datetime, lead: str, number: int) -> Story:
    middles = (MIDDLES[number % len(MIDDLES)], MIDDLES[(number + 3) % len(MIDDLES)])
    closing = CLOSINGS[number % len(CLOSINGS)]
    paragraphs = tuple(p.format(n=40 + 7 * number) for p in (*middles, closing))
    return Story(host, path, title, when, lead, paragraphs)


def at(day: int, hour: int, minute: int) -> datetime:
    """A moment of January 2026, Vietnam time."""
    return datetime(2026, 1, day, hour, minute, tzinfo=VN)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def body_html(item: Story) -> str:
    return "".join(f"<p>{esc(p)}</p>" for p in item.paragraphs)


def decoy_links(decoy: str, url: str) -> str:
    """Links every real portal carries to other hosts: sharing, partner portals, an advertisement."""
    return (
        f'<div class="share"><a href="{decoy}/sharer/sharer.php?u={esc(url)}" target="_blank">Chia sẻ</a>'
        f' <a href="{decoy}/share/url?url={esc(url)}">Zalo</a></div>'
        f'<div class="lien-ket"><a href="{decoy}/">Cổng Thông tin điện tử tỉnh</a>'
        f' <a href="{decoy}/tin-tuc/quang-cao-bao-hiem-nhan-tho.html">Quảng cáo</a></div>'
    )


# --- a site ---------------------------------------------------------------------------------------------------------
class RealSite:
    """A site on one or more loopback hosts. Subclasses fill `pages` (host -> path and query -> reply) in `build`,
    once the servers have their base URLs, and describe the operator's entry, the expectations and the boundary."""

    slug = ""
    name = ""
    kind = "union_portal"
    hosts: ClassVar[dict[str, str]] = {}  # host name -> loopback address
    needs_js = False  # the article list exists only in a script

    def __init__(self) -> None:
        self.bases: dict[str, str] = {}
        self.decoy = ""
        self.pages: dict[str, dict[str, Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.browser = False  # render with a browser (set by the test when Chromium and scrapy-playwright exist)

    # what the subclass says
    def build(self) -> None:
        raise NotImplementedError

    def stories(self) -> list[Story]:
        raise NotImplementedError

    def entry(self) -> str:
        raise NotImplementedError

    def not_articles(self) -> list[str]:
        """URLs (on the site's hosts) of pages that are not articles: none may be stored."""
        raise NotImplementedError

    def scopes(self) -> list[tuple[str, str]]:
        """(host name, path prefix): the part of the web the source owns; every request must fall inside."""
        return [(host, "/") for host in self.hosts]

    # derived
    def url(self, host: str, path: str) -> str:
        return self.bases[host] + path

    def expected(self) -> list[Expected]:
        """The articles the source must store (none for a script-built list read without a browser)."""
        if self.needs_js and not self.browser:
            return []
        return [Expected(self.url(s.host, s.path), s.title, s.published) for s in self.stories()]

    def answer(self, host: str, path_qs: str, headers: dict[str, str]) -> Reply:
        return self.pages.get(host, {}).get(path_qs, NOT_FOUND)

    def record(self, host: str, path_qs: str, headers: dict[str, str]) -> Reply:
        reply = self.answer(host, path_qs, headers)
        with self.lock:
            self.seen.append(Seen(host, path_qs, reply.status, headers.get("cookie")))
        return reply

    def inside(self, seen: Seen) -> bool:
        path = urlsplit(seen.path).path
        return any(
            seen.host == host and (path.startswith(prefix) or path == "/robots.txt") for host, prefix in self.scopes()
        )

    def outside(self) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if not self.inside(s)]

    def source_yaml(self, *listings: str, extra: str = "") -> str:
        lines = [
            f"  - slug: {self.slug}",
            f"    name: '{self.name}'",
            f"    kind: {self.kind}",
            f"    homepage: {self.url(next(iter(self.hosts)), '/')}",
            "    interval: 60",
        ]
        if self.browser:
            lines.append("    render: browser")
        if listings:
            lines.append("    discovery:")
            lines.append("      listings:")
            lines.extend(f"        - url: {u}" for u in listings)
        return "\n".join(lines) + "\n" + extra


class Decoy(RealSite):
    """Another host every site links to: the crawl must never ask it anything."""

    slug = "decoy"
    hosts: ClassVar[dict[str, str]] = {"decoy": DECOY_IP}

    def build(self) -> None:
        pass

    def answer(self, host: str, path_qs: str, headers: dict[str, str]) -> Reply:
        if path_qs == "/robots.txt":
            return plain("User-agent: *\nAllow: /\n")
        title = f"Bài viết ngoài biên {SECRET}"
        text = f"<p>{SECRET} " + "Nội dung này thuộc một trang khác, không phải của nguồn tin. " * 6 + "</p>"
        head = '<meta property="article:published_time" content="2026-01-09T09:00:00+07:00">'
        return page(
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><article><h1>{title}</h1>{text * 3}</article></body></html>"
        )


# --- (a) laodong.vn behind its cookie gate ----------------------------------------------------------------------
class LaoDong(RealSite):
    slug = "ldo-cong-doan"
    name = "Báo Lao Động – Công đoàn"
    kind = "national_paper"
    hosts: ClassVar[dict[str, str]] = {"ldo": "127.0.0.11"}
    cookie = ("D1N", "3c9e1a7f05b24d68e1f0a9c2b7d4e356")
    tag = "/tags/dai-hoi-cong-doan-cac-cap-1098.ldo"

    def stories(self) -> list[Story]:
        return [
            story(
                "ldo",
                "/cong-doan/cong-doan-det-may-trao-1200-suat-qua-tet-cho-cong-nhan-1587342.ldo",
                "Công đoàn Dệt May trao 1.200 suất quà Tết cho công nhân khó khăn",
                at(5, 8, 30),
                "Công đoàn Dệt May Việt Nam vừa trao 1.200 suất quà Tết cho công nhân có hoàn cảnh khó khăn tại "
                "các doanh nghiệp ở Nam Định, Thái Bình và Hưng Yên.",
                1,
            ),
            story(
                "ldo",
                "/cong-doan/doi-thoai-ve-tien-thuong-tet-tai-khu-cong-nghiep-thang-long-1587611.ldo",
                "Đối thoại về tiền thưởng Tết tại Khu công nghiệp Thăng Long",
                at(6, 14, 5),
                "Chiều 6/1, Công đoàn các Khu công nghiệp và chế xuất Hà Nội tổ chức đối thoại với đại diện 12 "
                "doanh nghiệp về mức thưởng Tết Nguyên đán cho người lao động.",
                2,
            ),
            story(
                "ldo",
                "/cong-doan/chu-tich-cong-doan-co-so-duoc-bao-ve-khi-dai-dien-nguoi-lao-dong-1588020.ldo",
                "Chủ tịch công đoàn cơ sở được bảo vệ khi đại diện người lao động",
                at(7, 9, 45),
                "Nhiều cán bộ công đoàn cơ sở kiêm nhiệm cho biết họ yên tâm hơn khi quy định về bảo vệ cán bộ "
                "công đoàn được cụ thể hóa trong thỏa ước lao động tập thể.",
                3,
            ),
            story(
                "ldo",
                "/cong-doan/chuyen-xe-mua-xuan-dua-3000-doan-vien-ve-que-an-tet-1588473.ldo",
                "Chuyến xe Mùa Xuân đưa 3.000 đoàn viên về quê ăn Tết",
                at(8, 7, 0),
                "Sáng 8/1, Liên đoàn Lao động tỉnh Bắc Ninh tổ chức chương trình Chuyến xe Mùa Xuân, đưa 3.000 đoàn "
                "viên, người lao động về quê đón Tết.",
                4,
            ),
        ]

    def not_articles(self) -> list[str]:
        paths = ("/", "/cong-doan/", "/cong-doan-toan-quoc/", "/thoi-su/", "/xa-hoi/", self.tag)
        return [self.url("ldo", p) for p in paths]

    def entry(self) -> str:
        return self.source_yaml(self.url("ldo", "/cong-doan/"))

    def answer(self, host: str, path_qs: str, headers: dict[str, str]) -> Reply:
        if path_qs != "/robots.txt" and not self._passes(headers.get("cookie")):
            name, value = self.cookie
            return page(LAODONG_GATE.format(name=name, value=value))
        return super().answer(host, path_qs, headers)

    def _passes(self, cookie: str | None) -> bool:
        pairs = dict(p.strip().partition("=")[::2] for p in (cookie or "").split(";"))
        return pairs.get(self.cookie[0]) == self.cookie[1]

    def frame(self, title: str, main: str, *, head: str = "", url: str = "") -> str:
        menu = (
            '<nav class="main-menu"><a href="/">Trang chủ</a> <a href="/thoi-su/">Thời sự</a>'
            ' <a href="/cong-doan/">Công đoàn</a> <a href="/xa-hoi/">Xã hội</a>'
            ' <a href="/cong-doan-toan-quoc/">Công đoàn toàn quốc</a></nav>'
        )
        return (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title>{head}</head>'
            f'<body><header class="header-content">{menu}</header>{main}'
            f"{decoy_links(self.decoy, url or self.bases['ldo'])}"
            "<footer><p>Cơ quan của Tổng Liên đoàn Lao động Việt Nam.</p></footer></body></html>"
        )

    def build(self) -> None:
        items = self.stories()
        cards = "".join(
            f'<article class="article-small"><a href="{s.path}"><img data-src="/img/{n}.jpg" alt=""></a>'
            f'<a class="article-title" href="{s.path}">{esc(s.title)}</a><p class="sapo">{esc(s.lead)}</p></article>'
            for n, s in enumerate(items)
        )
        section = self.frame(
            "Công đoàn | Báo Lao Động điện tử",
            f'<div class="list-main-content"><h1>Công đoàn</h1>{cards}'
            f'<div class="tags"><a href="{self.tag}">Đại hội công đoàn các cấp</a></div></div>',
            head='<link rel="alternate" type="application/rss+xml" href="/rss/cong-doan.rss">',
        )
        pages = {
            "/robots.txt": plain("User-agent: *\nDisallow: /admin/\n"),
            "/": page(self.frame("Báo Lao Động điện tử", f"<main>{cards[: len(cards) // 2]}</main>")),
            "/cong-doan/": page(section),
            "/cong-doan-toan-quoc/": page(self.frame("Công đoàn toàn quốc", "<h1>Công đoàn toàn quốc</h1>")),
            "/thoi-su/": page(self.frame("Thời sự", "<h1>Thời sự</h1>")),
            "/xa-hoi/": page(self.frame("Xã hội", "<h1>Xã hội</h1>")),
            self.tag: page(self.frame("Đại hội công đoàn các cấp", f"<h1>Đại hội công đoàn các cấp</h1>{cards}")),
            "/rss/cong-doan.rss": plain(rss(self.bases["ldo"], "Lao Động – Công đoàn", items, self.bases), RSS),
        }
        for s in items:
            stamp = f"{WEEKDAYS[s.published.weekday()]}, {s.published:%d/%m/%Y %H:%M} (GMT+7)"
            ld = json.dumps(
                {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "headline": s.title,
                    "datePublished": s.published.isoformat(),
                },
                ensure_ascii=False,
            )
            related = "".join(f'<li><a href="{o.path}">{esc(o.title)}</a></li>' for o in items if o is not s)
            main = (
                f'<article class="article-detail" articleid="{s.path[-12:-4]}"><div class="breadcrumb">'
                f'<a href="/cong-doan/">Công đoàn</a></div><h1 class="title">{esc(s.title)}</h1>'
                f'<time class="f-datetime">{stamp}</time><span class="authors">Hải Anh</span>'
                f'<div class="chappeau"><p>{esc(s.lead)}</p></div><div class="art-body">{body_html(s)}</div>'
                f'</article><div class="tin-lien-quan"><h3>Tin liên quan</h3><ul>{related}</ul></div>'
            )
            head = f'<script type="application/ld+json">{ld}</script>'
            pages[s.path] = page(
                self.frame(f"{s.title} | Báo Lao Động điện tử", main, head=head, url=self.url("ldo", s.path))
            )
        self.pages = {"ldo": pages}

    def gates(self) -> int:
        """Gate pages sent (requests without the cookie, robots.txt aside)."""
        name, value = self.cookie
        with self.lock:
            return sum(s.path != "/robots.txt" and f"{name}={value}" not in (s.cookie or "") for s in self.seen)


RSS = "application/rss+xml; charset=utf-8"


def rss(base: str, title: str, items: list[Story], bases: dict[str, str], extra: str = "") -> str:
    entries = "".join(
        f"<item><title>{esc(s.title)}</title><link>{bases[s.host]}{s.path}</link>"
        f"<description>{esc(s.lead)}</description><pubDate>{format_datetime(s.published)}</pubDate></item>"
        for s in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{esc(title)}</title>'
        f"<link>{base}/</link><description>{esc(title)}</description>{entries}{extra}</channel></rss>"
    )


# --- (b) nld.com.vn, moved to tuoitre.vn/nld ----------------------------------------------------------------------
class MovedPaper(RealSite):
    slug = "nld-cong-doan"
    name = "Báo Người Lao Động – Công đoàn"
    kind = "national_paper"
    hosts: ClassVar[dict[str, str]] = {
        "cu": "127.0.0.21",
        "moi": "127.0.0.22",
    }  # the old host first: it is the configured homepage

    def scopes(self) -> list[tuple[str, str]]:
        return [("cu", "/"), ("moi", "/nld/")]

    def stories(self) -> list[Story]:
        return [
            story(
                "moi",
                "/nld/cong-nhan-khu-che-xuat-tan-thuan-duoc-tang-luong-tu-thang-1-196260105083012345.htm",
                "Công nhân Khu chế xuất Tân Thuận được tăng lương từ tháng 1",
                at(5, 8, 30),
                "(NLĐO) - Sau đối thoại do công đoàn tổ chức, nhiều doanh nghiệp tại Khu chế xuất Tân Thuận đã "
                "đồng ý tăng lương cho công nhân từ tháng 1/2026.",
                5,
            ),
            story(
                "moi",
                "/nld/ldld-tp-hcm-ra-mat-diem-ban-hang-binh-on-cho-doan-vien-196260106101544821.htm",
                "LĐLĐ TP HCM ra mắt điểm bán hàng bình ổn cho đoàn viên",
                at(6, 10, 15),
                "(NLĐO) - Liên đoàn Lao động TP HCM phối hợp với các nhà phân phối mở thêm điểm bán hàng bình ổn "
                "giá phục vụ đoàn viên, người lao động dịp cuối năm.",
                6,
            ),
            story(
                "moi",
                "/nld/tet-sum-vay-2026-hon-5000-suat-qua-den-tay-nguoi-lao-dong-196260107164020117.htm",
                "Tết Sum vầy 2026: hơn 5.000 suất quà đến tay người lao động",
                at(7, 16, 40),
                "(NLĐO) - Chương trình Tết Sum vầy năm nay dành hơn 5.000 suất quà cho công nhân không có điều "
                "kiện về quê đón Tết.",
                7,
            ),
            story(
                "moi",
                "/nld/cong-doan-nganh-giao-duc-cham-lo-giao-vien-vung-kho-196260108074508302.htm",
                "Công đoàn ngành Giáo dục chăm lo giáo viên vùng khó",
                at(8, 7, 45),
                "(NLĐO) - Công đoàn ngành Giáo dục TP HCM trao quà và kinh phí hỗ trợ cho giáo viên đang công tác "
                "tại các xã đảo và vùng ven.",
                8,
            ),
        ]

    def tuoitre(self) -> list[Story]:
        """Articles of the new host outside /nld/: on its homepage and sitemap, never the source's."""
        return [
            story(
                "moi",
                "/doanh-nghiep-cong-nghe-tuyen-them-ky-su-dau-nam-20260105090011222.htm",
                "Doanh nghiệp công nghệ tuyển thêm kỹ sư đầu năm",
                at(5, 9, 0),
                "Nhiều doanh nghiệp công nghệ tại TP.HCM công bố kế hoạch tuyển dụng kỹ sư phần mềm ngay sau Tết.",
                9,
            ),
            story(
                "moi",
                "/xe-buyt-dien-chay-them-tuyen-moi-ra-san-bay-20260106112233444.htm",
                "Xe buýt điện chạy thêm tuyến mới ra sân bay",
                at(6, 11, 20),
                "Từ ngày 6/1, một tuyến xe buýt điện mới nối trung tâm thành phố với sân bay đi vào hoạt động.",
                10,
            ),
        ]

    def not_articles(self) -> list[str]:
        paths = ("/", "/nld/", "/nld/cong-doan.htm", "/nld/lao-dong.htm", "/nld/thoi-su.htm")
        return [self.url("moi", p) for p in paths] + [self.url("moi", s.path) for s in self.tuoitre()]

    def entry(self) -> str:
        return self.source_yaml()

    def answer(self, host: str, path_qs: str, headers: dict[str, str]) -> Reply:
        if host == "cu":  # every path, robots.txt and feeds included, moved permanently under /nld/
            return moved(self.bases["moi"] + "/nld" + path_qs)
        return super().answer(host, path_qs, headers)

    def frame(self, title: str, main: str, *, head: str = "", url: str = "") -> str:
        menu = (
            '<ul class="menu-nav"><li><a href="/nld/">Trang chủ</a></li><li><a href="/nld/thoi-su.htm">Thời sự</a>'
            '</li><li><a href="/nld/lao-dong.htm">Lao động</a></li><li><a href="/nld/cong-doan.htm">Công đoàn</a>'
            '</li><li><a href="/">Tuổi Trẻ Online</a></li></ul>'
        )
        return (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title>{head}</head>'
            f"<body><header>{menu}</header>{main}{decoy_links(self.decoy, url or self.url('moi', '/nld/'))}"
            "<footer><p>Báo Người Lao Động - Cơ quan của Thành ủy TP HCM.</p></footer></body></html>"
        )

    def article(self, s: Story, site: str) -> str:
        url = self.url(s.host, s.path)
        head = (
            f'<meta property="og:type" content="article"><meta property="og:title" content="{esc(s.title)}">'
            f'<meta property="og:url" content="{url}"><link rel="canonical" href="{url}">'
            f'<meta property="article:published_time" content="{s.published.isoformat()}">'
        )
        main = (
            f'<div class="detail-cate"><a href="/nld/cong-doan.htm">Công đoàn</a></div>'
            f'<h1 class="detail-title" data-role="title">{esc(s.title)}</h1>'
            f'<div class="detail-time"><div data-role="publishdate">{s.published:%d/%m/%Y %H:%M} GMT+7</div></div>'
            f'<h2 class="detail-sapo" data-role="sapo">{esc(s.lead)}</h2>'
            f'<div class="detail-content afcbc-body" data-role="content">{body_html(s)}</div>'
            '<div class="detail-author">Thu Hằng</div>'
        )
        return self.frame(f"{s.title} | {site}", main, head=head, url=url)

    def build(self) -> None:
        ours, theirs = self.stories(), self.tuoitre()
        feed = "/nld/rss/home.rss"
        alternate = f'<link rel="alternate" type="application/rss+xml" title="Người Lao Động" href="{feed}">'
        boxes = "".join(
            f'<div class="box-category-item"><a class="box-category-link-title" href="{s.path}">{esc(s.title)}</a>'
            f'<p class="box-category-sapo">{esc(s.lead)}</p></div>'
            for s in ours
        )
        tuoitre = "".join(f'<li><a href="{s.path}">{esc(s.title)}</a></li>' for s in theirs)
        home = self.frame(
            "Báo Người Lao Động Online",
            f'<main class="box-category">{boxes}</main><aside class="box-tuoitre"><h3>Tuổi Trẻ Online</h3>'
            f"<ul>{tuoitre}</ul></aside>",
            head=alternate,
        )
        decoy_item = (
            f"<item><title>Tin đối tác</title><link>{self.decoy}/tin-doi-tac-9912.htm</link>"
            "<pubDate>Mon, 05 Jan 2026 09:00:00 +0700</pubDate></item>"
        )
        sitemap = "".join(f"<url><loc>{self.url('moi', s.path)}</loc></url>" for s in theirs)
        pages = {
            "/robots.txt": plain(
                f"User-agent: *\nDisallow: /nld/api/\nSitemap: {self.url('moi', '/sitemaps/tuoitre-news.xml')}\n"
            ),
            "/sitemaps/tuoitre-news.xml": plain(
                f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{sitemap}</urlset>",
                "application/xml; charset=utf-8",
            ),
            "/": page(self.frame("Tuổi Trẻ Online", f"<main><ul>{tuoitre}</ul></main>")),
            "/nld/": page(home),
            "/nld/cong-doan.htm": page(self.frame("Công đoàn - Người Lao Động", f"<main>{boxes}</main>")),
            "/nld/lao-dong.htm": page(
                self.frame("Lao động - Người Lao Động", f"<main>{boxes[: len(boxes) // 2]}</main>")
            ),
            "/nld/thoi-su.htm": page(self.frame("Thời sự - Người Lao Động", "<main><h1>Thời sự</h1></main>")),
            feed: plain(rss(self.url("moi", "/nld"), "Người Lao Động", ours, self.bases, decoy_item), RSS),
        }
        for s in ours:
            pages[s.path] = page(self.article(s, "Báo Người Lao Động Online"))
        for s in theirs:
            pages[s.path] = page(self.article(s, "Tuổi Trẻ Online"))
        self.pages = {"moi": pages}


# --- (c) a NukeViet provincial federation portal ----------------------------------------------------------------
class ProvincialPortal(RealSite):
    slug = "ldld-quang-tri"
    name = "Liên đoàn Lao động tỉnh Quảng Trị"
    kind = "labour_federation"
    hosts: ClassVar[dict[str, str]] = {"cd": "127.0.0.31"}
    sections: ClassVar[dict[str, str]] = {
        "/Tin-tuc-hoat-dong-26/": "Tin tức hoạt động",
        "/Chinh-sach-phap-luat-27/": "Chính sách pháp luật",
    }
    tags: ClassVar[dict[str, str]] = {
        "/news/tag/an-toan-ve-sinh-lao-dong": "an toàn vệ sinh lao động",
        "/news/tag/tet-sum-vay": "Tết sum vầy",
    }
    others = ("/about/Gioi-thieu.html", "/contact/", "/van-ban/")

    def stories(self) -> list[Story]:
        return [
            story(
                "cd",
                "/Tin-tuc-hoat-dong-26/ldld-huyen-gio-linh-tong-ket-cong-tac-cong-doan-nam-2025-1804.html",
                "LĐLĐ huyện Gio Linh tổng kết công tác công đoàn năm 2025",
                at(5, 8, 30),
                "Ngày 5/1, Liên đoàn Lao động huyện Gio Linh tổ chức hội nghị tổng kết công tác công đoàn năm 2025, "
                "triển khai nhiệm vụ năm 2026.",
                11,
            ),
            story(
                "cd",
                "/Tin-tuc-hoat-dong-26/trao-mai-am-cong-doan-cho-doan-vien-nganh-y-te-1807.html",
                "Trao Mái ấm Công đoàn cho đoàn viên ngành Y tế",
                at(6, 15, 0),
                "Chiều 6/1, Công đoàn ngành Y tế tỉnh trao Mái ấm Công đoàn trị giá 60 triệu đồng cho một đoàn viên "
                "có hoàn cảnh đặc biệt khó khăn.",
                12,
            ),
            story(
                "cd",
                "/Tin-tuc-hoat-dong-26/hoi-thi-an-toan-ve-sinh-vien-gioi-khoi-doanh-nghiep-1811.html",
                "Hội thi An toàn vệ sinh viên giỏi khối doanh nghiệp",
                at(7, 7, 30),
                "Sáng 7/1, Liên đoàn Lao động tỉnh phối hợp với Sở Nội vụ tổ chức Hội thi An toàn vệ sinh viên giỏi "
                "khối doanh nghiệp năm 2026.",
                13,
            ),
            story(
                "cd",
                "/Chinh-sach-phap-luat-27/huong-dan-thuc-hien-che-do-nghi-le-tet-nguyen-dan-1809.html",
                "Hướng dẫn thực hiện chế độ nghỉ Tết Nguyên đán đối với người lao động",
                at(6, 9, 10),
                "Ban Chính sách pháp luật LĐLĐ tỉnh hướng dẫn các công đoàn cơ sở giám sát việc bố trí lịch nghỉ "
                "Tết Nguyên đán và trả lương làm thêm giờ cho người lao động.",
                14,
            ),
            story(
                "cd",
                "/Chinh-sach-phap-luat-27/tu-van-phap-luat-mien-phi-cho-cong-nhan-khu-cong-nghiep-nam-dong-ha-1812.html",
                "Tư vấn pháp luật miễn phí cho công nhân Khu công nghiệp Nam Đông Hà",
                at(8, 14, 20),
                "Trung tâm Tư vấn pháp luật Công đoàn tỉnh tổ chức buổi tư vấn miễn phí về hợp đồng lao động và bảo "
                "hiểm thất nghiệp cho công nhân Khu công nghiệp Nam Đông Hà.",
                15,
            ),
        ]

    def not_articles(self) -> list[str]:
        return [self.url("cd", p) for p in ("/", *self.sections, *self.tags, *self.others)]

    def entry(self) -> str:
        return self.source_yaml()

    def frame(self, title: str, main: str, url: str = "") -> str:
        menu = (
            '<ul class="nav navbar-nav"><li><a href="/">Trang chủ</a></li>'
            '<li><a href="/about/Gioi-thieu.html">Giới thiệu</a></li>'
            + "".join(f'<li><a href="{p}">{n}</a></li>' for p, n in self.sections.items())
            + '<li><a href="/van-ban/">Văn bản</a></li><li><a href="/contact/">Liên hệ</a></li></ul>'
        )
        counter = (
            '<ul class="counter"><li>Đang truy cập: 27</li><li>Hôm nay: 1.204</li><li>Tháng hiện tại: 18.330</li>'
            "<li>Tổng lượt truy cập: 2.947.118</li></ul>"
        )
        return (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title></head><body>'
            f'<header><div class="site-name">LIÊN ĐOÀN LAO ĐỘNG TỈNH QUẢNG TRỊ</div><nav>{menu}</nav></header>'
            f'<div id="body">{main}</div>{decoy_links(self.decoy, url or self.bases["cd"])}'
            "<footer><p>Bản quyền thuộc Liên đoàn Lao động tỉnh Quảng Trị. Địa chỉ: 01 Trần Hưng Đạo, Đông Hà."
            f"</p>{counter}</footer></body></html>"
        )

    def column(self, items: list[Story]) -> str:
        return "".join(
            f'<div class="news_column"><h3><a href="{s.path}" title="{esc(s.title)}">{esc(s.title)}</a></h3>'
            f'<div class="text-muted">{s.published:%d/%m/%Y}</div></div>'
            for s in items
        )

    def build(self) -> None:
        items = self.stories()
        newest = sorted(items, key=lambda s: s.published, reverse=True)
        tags = "".join(f'<a href="{p}">{esc(n)}</a> ' for p, n in self.tags.items())
        home = (
            f'<div class="block-news"><h2>Tin mới</h2>{self.column(newest[:4])}'
            f'<a href="/Tin-tuc-hoat-dong-26/">Xem tất cả</a></div><div class="tags">Từ khóa: {tags}</div>'
            '<div class="block-intro"><h2><a href="/about/Gioi-thieu.html">Giới thiệu chung</a></h2><p>Liên đoàn Lao '
            "động tỉnh là tổ chức chính trị - xã hội của giai cấp công nhân và người lao động trong tỉnh.</p></div>"
        )
        pages = {
            "/robots.txt": plain("User-agent: *\nDisallow: /admin/\nDisallow: /includes/\n"),
            "/": page(self.frame("Liên đoàn Lao động tỉnh Quảng Trị", home)),
            "/about/Gioi-thieu.html": page(self.frame("Giới thiệu - Liên đoàn Lao động tỉnh Quảng Trị", ABOUT)),
            "/contact/": page(self.frame("Liên hệ", CONTACT)),
            "/van-ban/": page(self.frame("Văn bản", DOCUMENTS)),
        }
        for path, name in self.sections.items():
            members = [s for s in newest if s.path.startswith(path)]
            pages[path] = page(
                self.frame(f"{name} - Liên đoàn Lao động tỉnh Quảng Trị", f"<h1>{name}</h1>{self.column(members)}")
            )
        for path, name in self.tags.items():
            pages[path] = page(
                self.frame(f"Từ khóa: {name}", f"<h1>Từ khóa: {esc(name)}</h1>{self.column(newest[1:3])}")
            )
        for s in items:
            stamp = f"{NUKEVIET_DAYS[s.published.weekday()]} - {s.published:%d/%m/%Y %H:%M}"
            section = next(p for p in self.sections if s.path.startswith(p))
            main = (
                f'<div class="news_column panel"><div class="panel-body"><h1 class="title margin-bottom-lg">'
                f'{esc(s.title)}</h1><div class="row margin-bottom-lg"><span class="h5">{stamp}</span></div>'
                f'<div class="hometext m-bottom">{esc(s.lead)}</div><div id="news-bodyhtml" class="bodytext">'
                f'{body_html(s)}</div><p class="h5 text-right"><strong>Ban Tuyên giáo</strong></p>'
                f'<div class="keywords">Từ khóa: {tags}</div><a href="{section}">Quay lại</a></div></div>'
            )
            pages[s.path] = page(self.frame(s.title, main, self.url("cd", s.path)))
        self.pages = {"cd": pages}


NUKEVIET_DAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
ABOUT = (
    "<h1>Giới thiệu</h1><p>Liên đoàn Lao động tỉnh được thành lập năm 1989, sau khi tỉnh được lập lại, trên cơ sở "
    "Công đoàn các ngành và Liên hiệp Công đoàn các huyện, thị xã. Hiện nay Liên đoàn quản lý 11 liên đoàn lao động "
    "huyện, 4 công đoàn ngành và công đoàn các khu kinh tế với hơn 700 công đoàn cơ sở.</p><p>Chức năng của Liên đoàn "
    "là đại diện, chăm lo và bảo vệ quyền, lợi ích hợp pháp, chính đáng của đoàn viên và người lao động; tham gia "
    "quản lý nhà nước, quản lý kinh tế - xã hội; tuyên truyền, vận động người lao động học tập nâng cao trình độ.</p>"
    "<p>Cơ quan Liên đoàn gồm Văn phòng, Ban Tổ chức, Ban Tuyên giáo, Ban Chính sách - Pháp luật, Ban Tài chính, "
    "Ủy ban Kiểm tra và Trung tâm Tư vấn pháp luật Công đoàn tỉnh.</p>"
)
CONTACT = (
    "<h1>Liên hệ</h1><p>Văn phòng Liên đoàn Lao động tỉnh, số 01 Trần Hưng Đạo, phường Đông Hà. Điện thoại: "
    '0233 3852 xxx. Thư điện tử: vanphong@congdoan.example.</p><form action="/contact/" method="post">'
    '<input name="ho_ten"><textarea name="noi_dung"></textarea><button>Gửi</button></form>'
)
DOCUMENTS = (
    "<h1>Văn bản</h1><table><tr><td>Số 15/HD-LĐLĐ</td><td>Hướng dẫn tổ chức Tháng Công nhân năm 2026</td></tr>"
    "<tr><td>Số 09/KH-LĐLĐ</td><td>Kế hoạch chăm lo Tết cho đoàn viên, người lao động</td></tr></table>"
)


# --- (d) a provincial paper's section with numbered pages only --------------------------------------------------
class NumberedPages(RealSite):
    slug = "baosonla-van-hoa"
    name = "Báo Sơn La – Văn hóa, Xã hội"
    kind = "provincial_paper"
    hosts: ClassVar[dict[str, str]] = {"bao": "127.0.0.41"}
    section = "/van-hoa-xa-hoi"
    per_page = 4

    def stories(self) -> list[Story]:
        heads = (
            (
                "cong-doan-nganh-giao-duc-trao-qua-cho-giao-vien-vung-cao",
                "Công đoàn ngành Giáo dục trao quà cho giáo viên vùng cao",
                "Mộc Châu",
            ),
            ("ldld-tinh-tham-cong-nhan-thuy-dien-dip-tet", "LĐLĐ tỉnh thăm công nhân thủy điện dịp Tết", "Mường La"),
            (
                "doan-vien-cong-doan-hien-mau-tinh-nguyen",
                "Đoàn viên công đoàn hiến máu tình nguyện đầu năm",
                "Thành phố Sơn La",
            ),
            (
                "tap-huan-nghiep-vu-cho-can-bo-cong-doan-co-so",
                "Tập huấn nghiệp vụ cho cán bộ công đoàn cơ sở",
                "Yên Châu",
            ),
            (
                "giai-bong-chuyen-cong-nhan-vien-chuc-lao-dong",
                "Giải bóng chuyền công nhân, viên chức, lao động",
                "Mai Sơn",
            ),
            (
                "trao-sinh-ke-cho-doan-vien-nu-kho-khan",
                "Trao sinh kế cho đoàn viên nữ có hoàn cảnh khó khăn",
                "Thuận Châu",
            ),
            (
                "cong-doan-vien-chuc-tinh-to-chuc-hoi-nghi-can-bo",
                "Công đoàn Viên chức tỉnh tổ chức hội nghị cán bộ",
                "Phù Yên",
            ),
            (
                "phat-trien-doan-vien-tai-doanh-nghiep-ngoai-nha-nuoc",
                "Phát triển đoàn viên tại doanh nghiệp ngoài nhà nước",
                "Bắc Yên",
            ),
            (
                "ngay-hoi-cong-nhan-nam-2026-se-to-chuc-tai-moc-chau",
                "Ngày hội Công nhân năm 2026 sẽ tổ chức tại Mộc Châu",
                "Mộc Châu",
            ),
            (
                "chuong-trinh-tet-sum-vay-cho-cong-nhan-khu-cong-nghiep-mai-son",
                "Chương trình Tết sum vầy cho công nhân Khu công nghiệp Mai Sơn",
                "Mai Sơn",
            ),
        )
        out = []
        for n, (alias, title, place) in enumerate(heads):
            when = at(1 + n // 2, 8 + n, 15 * (n % 4))
            lead = (
                f"({place}) - {title} là một trong những hoạt động nổi bật của các cấp công đoàn {place} đầu năm mới."
            )
            out.append(story("bao", f"{self.section}/{alias}-{208310 + 17 * n}.html", title, when, lead, 20 + n))
        return out

    def page_url(self, number: int) -> str:
        return self.section if number == 1 else f"{self.section}/trang-{number}.html"

    def not_articles(self) -> list[str]:
        paths = ("/", self.page_url(1), self.page_url(2), self.page_url(3), "/gioi-thieu.html", "/lien-he.html")
        return [self.url("bao", p) for p in (*paths, "/thoi-su", "/kinh-te")]

    def entry(self) -> str:
        return self.source_yaml(self.url("bao", self.section))

    def frame(self, title: str, main: str, url: str = "") -> str:
        menu = (
            '<nav class="menu"><a href="/">Trang chủ</a> <a href="/thoi-su">Thời sự</a> <a href="/kinh-te">Kinh tế</a>'
            f' <a href="{self.section}">Văn hóa - Xã hội</a> <a href="/gioi-thieu.html">Giới thiệu</a>'
            ' <a href="/lien-he.html">Liên hệ</a></nav>'
        )
        return (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title></head><body>'
            f"<header>{menu}</header>{main}{decoy_links(self.decoy, url or self.bases['bao'])}"
            "<footer><p>Báo Sơn La - Cơ quan của Đảng bộ tỉnh Sơn La.</p></footer></body></html>"
        )

    def build(self) -> None:
        items = sorted(self.stories(), key=lambda s: s.published, reverse=True)
        chunks = [items[i : i + self.per_page] for i in range(0, len(items), self.per_page)]
        pages = {
            "/robots.txt": plain("User-agent: *\nDisallow: /quan-tri/\n"),
            "/": page(self.frame("Báo Sơn La điện tử", f'<a href="{self.section}">Văn hóa - Xã hội</a>')),
            "/thoi-su": page(self.frame("Thời sự", "<h1>Thời sự</h1>")),
            "/kinh-te": page(self.frame("Kinh tế", "<h1>Kinh tế</h1>")),
            "/gioi-thieu.html": page(
                self.frame("Giới thiệu", "<h1>Giới thiệu Báo Sơn La</h1><p>Báo Sơn La ra số đầu tiên năm 1964.</p>")
            ),
            "/lien-he.html": page(self.frame("Liên hệ", "<h1>Liên hệ</h1><p>Tòa soạn: đường Tô Hiệu, Sơn La.</p>")),
        }
        for number, chunk in enumerate(chunks, start=1):
            stories_html = "".join(
                f'<div class="story"><h3 class="story__heading"><a class="cms-link" href="{s.path}">{esc(s.title)}</a>'
                f'</h3><div class="story__summary">{esc(s.lead)}</div></div>'
                for s in chunk
            )
            pager = "".join(
                f'<span class="active">{n}</span>' if n == number else f'<a href="{self.page_url(n)}">{n}</a>'
                for n in range(1, len(chunks) + 1)
            )
            main = f'<h1 class="cate-title">Văn hóa - Xã hội</h1>{stories_html}<div class="pagination">{pager}</div>'
            pages[self.page_url(number)] = page(self.frame("Văn hóa - Xã hội", main))
        for s in items:
            main = (
                f'<article class="article"><h1 class="article__title cms-title">{esc(s.title)}</h1>'
                f'<div class="article__meta"><time class="time" datetime="{s.published.isoformat()}">'
                f"{s.published:%H:%M %d/%m/%Y}</time></div>"
                f'<div class="article__sapo cms-desc">{esc(s.lead)}</div>'
                f'<div class="article__body zce-content-body cms-body">{body_html(s)}</div></article>'
            )
            pages[s.path] = page(self.frame(f"{s.title} - Báo Sơn La", main, self.url("bao", s.path)))
        self.pages = {"bao": pages}


# --- (e) a list only a script builds ---------------------------------------------------------------------------
class ScriptList(RealSite):
    slug = "bo-noi-vu-tin-tuc"
    name = "Bộ Nội vụ – Tin tức"
    kind = "ministry"
    hosts: ClassVar[dict[str, str]] = {"bnv": "127.0.0.51"}
    needs_js = True

    def stories(self) -> list[Story]:
        return [
            story(
                "bnv",
                "/tin-tuc/cong-doan-bo-noi-vu-to-chuc-hoi-nghi-can-bo-cong-chuc-nam-2026---oid60112",
                "Công đoàn Bộ Nội vụ tổ chức Hội nghị cán bộ, công chức năm 2026",
                at(6, 9, 0),
                "Sáng 6/1, Công đoàn Bộ Nội vụ phối hợp với lãnh đạo Bộ tổ chức Hội nghị cán bộ, công chức, viên "
                "chức năm 2026.",
                31,
            ),
            story(
                "bnv",
                "/tin-tuc/trao-qua-tet-cho-doan-vien-co-hoan-canh-kho-khan---oid60130",
                "Trao quà Tết cho đoàn viên có hoàn cảnh khó khăn",
                at(7, 15, 30),
                "Chiều 7/1, Ban Chấp hành Công đoàn Bộ trao 85 suất quà Tết cho đoàn viên có hoàn cảnh khó khăn "
                "thuộc các đơn vị trực thuộc.",
                32,
            ),
            story(
                "bnv",
                "/tin-tuc/phat-dong-thi-dua-chao-mung-dai-hoi-cong-doan-cac-cap---oid60147",
                "Phát động thi đua chào mừng Đại hội Công đoàn các cấp",
                at(8, 8, 0),
                "Công đoàn Bộ Nội vụ phát động đợt thi đua chào mừng Đại hội Công đoàn các cấp tiến tới Đại hội XIV "
                "Công đoàn Việt Nam.",
                33,
            ),
        ]

    def not_articles(self) -> list[str]:
        return [self.url("bnv", p) for p in ("/", "/tin-tuc/", "/gioi-thieu/", "/van-ban/", "/lien-he/")]

    def entry(self) -> str:
        return self.source_yaml(self.url("bnv", "/tin-tuc/"))

    def frame(self, title: str, main: str, url: str = "") -> str:
        menu = (
            '<ul class="menu"><li><a href="/">Trang chủ</a></li><li><a href="/gioi-thieu/">Giới thiệu</a></li>'
            '<li><a href="/tin-tuc/">Tin tức</a></li><li><a href="/van-ban/">Văn bản</a></li>'
            '<li><a href="/lien-he/">Liên hệ</a></li></ul>'
        )
        return (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title></head><body>'
            f"<header>{menu}</header>{main}{decoy_links(self.decoy, url or self.bases['bnv'])}"
            "<footer><p>Cổng thông tin điện tử Bộ Nội vụ.</p></footer></body></html>"
        )

    def build(self) -> None:
        items = sorted(self.stories(), key=lambda s: s.published, reverse=True)
        data = {"items": [{"url": s.path, "title": s.title, "ngay": f"{s.published:%d/%m/%Y}"} for s in items]}
        script = (
            "<script>fetch('/api/tin-tuc?trang=1').then(function (r) { return r.json(); }).then(function (ds) {"
            " document.getElementById('danh-sach-tin').innerHTML = ds.items.map(function (x) {"
            ' return \'<div class="item-news"><a class="title-news" href="\' + x.url + \'">\' + x.title +'
            " '</a><span class=\"date\">' + x.ngay + '</span></div>'; }).join(''); });</script>"
        )
        listing = f'<h1>Tin tức</h1><div class="list-news" id="danh-sach-tin"></div>{script}'
        pages = {
            "/robots.txt": plain("User-agent: *\nDisallow: /quan-tri/\n"),
            "/": page(self.frame("Bộ Nội vụ", '<div class="home"><a href="/tin-tuc/">Tin tức - Sự kiện</a></div>')),
            "/tin-tuc/": page(self.frame("Tin tức - Bộ Nội vụ", listing)),
            "/api/tin-tuc?trang=1": plain(json.dumps(data, ensure_ascii=False), "application/json; charset=utf-8"),
            "/gioi-thieu/": page(self.frame("Giới thiệu", "<h1>Giới thiệu</h1><p>Chức năng, nhiệm vụ của Bộ.</p>")),
            "/van-ban/": page(self.frame("Văn bản", DOCUMENTS)),
            "/lien-he/": page(self.frame("Liên hệ", "<h1>Liên hệ</h1><p>Số 8 Tôn Thất Thuyết, Hà Nội.</p>")),
        }
        for s in items:
            stamp = f"{WEEKDAYS[s.published.weekday()]}, {s.published:%d/%m/%Y - %H:%M}"
            main = (
                f'<div class="detail-news"><h1 class="title-detail">{esc(s.title)}</h1>'
                f'<div class="date-detail">{stamp}</div><div class="sapo-detail">{esc(s.lead)}</div>'
                f'<div class="content-detail">{body_html(s)}</div></div>'
            )
            pages[s.path] = page(self.frame(s.title, main, self.url("bnv", s.path)))
        self.pages = {"bnv": pages}


# --- (f) a CMS whose every page declares the homepage as its canonical ------------------------------------------
class CanonicalAbuse(RealSite):
    slug = "vatm-cong-doan"
    name = "Công đoàn Tổng công ty Quản lý bay Việt Nam"
    kind = "enterprise_union"
    hosts: ClassVar[dict[str, str]] = {"vatm": "127.0.0.61"}

    def stories(self) -> list[Story]:
        heads = (
            (
                "cong-doan-trung-tam-quan-ly-luong-khong-luu-tong-ket-nam-2025",
                "Công đoàn Trung tâm Quản lý luồng không lưu tổng kết năm 2025",
            ),
            ("tham-hoi-kiem-soat-vien-khong-luu-truc-tet", "Thăm hỏi kiểm soát viên không lưu trực Tết"),
            (
                "hoi-thao-nang-cao-chat-luong-bua-an-ca-cho-nguoi-lao-dong",
                "Hội thảo nâng cao chất lượng bữa ăn ca cho người lao động",
            ),
            (
                "ket-nap-doan-vien-moi-tai-cong-ty-quan-ly-bay-mien-trung",
                "Kết nạp đoàn viên mới tại Công ty Quản lý bay miền Trung",
            ),
        )
        return [
            story(
                "vatm",
                f"/cd/{alias}-n{6478 + 11 * n}.html",
                title,
                at(5 + n, 9 + n, 10 * n),
                f"Ngày {5 + n}/1, {title[0].lower()}{title[1:]} đã diễn ra trong không khí phấn khởi.",
                40 + n,
            )
            for n, (alias, title) in enumerate(heads)
        ]

    def not_articles(self) -> list[str]:
        return [self.url("vatm", p) for p in ("/", "/cd/", "/cd/gioi-thieu.html", "/cd/lien-he.html")]

    def entry(self) -> str:
        return self.source_yaml(self.url("vatm", "/cd/"))

    def frame(self, title: str, main: str, *, head: str = "", url: str = "") -> str:
        home = self.url("vatm", "/")
        abused = (
            f'<link rel="canonical" href="{home}"><meta property="og:url" content="{home}">'
            '<meta property="og:site_name" content="VATM">'
        )
        menu = (
            '<nav><a href="/">Trang chủ</a> <a href="/cd/">Công đoàn</a> <a href="/cd/gioi-thieu.html">Giới thiệu</a>'
            ' <a href="/cd/lien-he.html">Liên hệ</a></nav>'
        )
        return (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title>{abused}{head}'
            f"</head><body><header>{menu}</header>{main}{decoy_links(self.decoy, url or home)}"
            "<footer><p>Tổng công ty Quản lý bay Việt Nam - VATM.</p></footer></body></html>"
        )

    def build(self) -> None:
        items = self.stories()
        cards = "".join(
            f'<div class="news-item"><a href="{s.path}"><img src="/images/{n}.jpg" alt=""></a>'
            f'<h3><a href="{s.path}">{esc(s.title)}</a></h3><p>{esc(s.lead)}</p></div>'
            for n, s in enumerate(items)
        )
        pages = {
            "/robots.txt": plain("User-agent: *\nDisallow: /admin/\n"),
            "/": page(self.frame("VATM", '<a href="/cd/">Công đoàn Tổng công ty</a>')),
            "/cd/": page(self.frame("Công đoàn - VATM", f"<h1>Tin hoạt động công đoàn</h1>{cards}")),
            "/cd/gioi-thieu.html": page(self.frame("Giới thiệu", "<h1>Giới thiệu</h1><p>Công đoàn Tổng công ty.</p>")),
            "/cd/lien-he.html": page(self.frame("Liên hệ", "<h1>Liên hệ</h1><p>Số 6/200 Nguyễn Sơn, Hà Nội.</p>")),
        }
        for s in items:
            head = (
                f'<meta property="og:title" content="{esc(s.title)}"><meta property="og:type" content="article">'
                f'<meta property="article:published_time" content="{s.published.isoformat()}">'
            )
            main = (
                f'<div class="news-detail"><h1 class="title">{esc(s.title)}</h1>'
                f'<div class="date">Ngày đăng: {s.published:%d/%m/%Y %H:%M}</div>'
                f'<div class="summary">{esc(s.lead)}</div><div class="content">{body_html(s)}</div></div>'
            )
            pages[s.path] = page(self.frame(s.title, main, head=head, url=self.url("vatm", s.path)))
        self.pages = {"vatm": pages}


SITES: dict[str, type[RealSite]] = {
    cls.slug: cls for cls in (LaoDong, MovedPaper, ProvincialPortal, NumberedPages, ScriptList, CanonicalAbuse)
}


def browser_available() -> bool:
    """Chromium and scrapy-playwright are both here: a `render: browser` source can be crawled."""
    has_chromium = any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
    return has_chromium and importlib.util.find_spec("scrapy_playwright") is not None


# --- serving ---------------------------------------------------------------------------------------------------
def _handler(site: RealSite, host: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = site.record(host, self.path, headers)
            self.send_response(reply.status)
            for key, value in reply.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def do_HEAD(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = site.record(host, self.path, headers)
            self.send_response(reply.status)
            for key, value in reply.headers:
                self.send_header(key, value)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def _serve_hosts(site: RealSite) -> Iterator[None]:
    servers: list[ThreadingHTTPServer] = []
    try:
        for host, address in site.hosts.items():
            server = ThreadingHTTPServer((address, 0), _handler(site, host))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            site.bases[host] = f"http://{address}:{server.server_address[1]}"
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def serve_site(site: RealSite, decoy: Decoy) -> Iterator[RealSite]:
    """Serve the site's hosts and the decoy, then build the site's pages (they need the base URLs)."""
    with ExitStack() as stack:
        stack.enter_context(_serve_hosts(decoy))
        stack.enter_context(_serve_hosts(site))
        site.decoy = decoy.bases["decoy"]
        site.build()
        yield site


# --- judging a crawl -------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one crawl of one site did, against what it should have done."""

    slug: str
    expected: int
    found: int  # expected articles stored with the right title and time
    wrong: list[str] = field(default_factory=list)  # expected articles stored with another title or time
    missing: list[str] = field(default_factory=list)
    non_articles: list[str] = field(default_factory=list)  # stored pages that are not articles
    unexpected: list[str] = field(default_factory=list)  # other stored URLs (another host's, another section's)
    outside: list[str] = field(default_factory=list)  # requests that reached a host or path outside the boundary
    requests: int = 0  # every request the site's hosts and the decoy saw
    cause: str | None = None  # the run's named cause, in Vietnamese, when there is one

    def problems(self, needs_js_cause: bool) -> list[str]:
        out = [f"missing {u}" for u in self.missing] + [f"wrong {w}" for w in self.wrong]
        out += [f"non-article stored: {u}" for u in self.non_articles]
        out += [f"stored but not expected: {u}" for u in self.unexpected]
        out += [f"request outside the boundary: {u}" for u in self.outside]
        if needs_js_cause and "cần JavaScript" not in (self.cause or ""):
            out.append(f"the cause named is {self.cause!r}, not 'cần JavaScript'")
        return out


def judge(site: RealSite, decoy: Decoy, rows: list[Any], cause: str | None = None) -> Outcome:
    """Compare stored rows (feed.store ArticleRow of the site's source) with the site's expectations."""
    stored = {row.url: row for row in rows}
    expected = site.expected()
    outcome = Outcome(site.slug, len(expected), 0, cause=cause)
    for item in expected:
        row = stored.get(item.url)
        if row is None:
            outcome.missing.append(item.url)
        elif row.title != item.title or row.published_at is None or row.published_at != item.published:
            outcome.wrong.append(
                f"{item.url}: {row.title!r} at {row.published_at}, not {item.title!r} at {item.published}"
            )
        else:
            outcome.found += 1
    refused = set(site.not_articles())
    known = {e.url for e in site.expected()} | {site.url(s.host, s.path) for s in site.stories()}
    outcome.non_articles = sorted(u for u in stored if u in refused)
    outcome.unexpected = sorted(u for u in stored if u not in refused and u not in known)
    outcome.outside = [f"{s.host} {s.path}" for s in site.outside()] + [f"decoy {s.path}" for s in decoy.seen]
    outcome.requests = len(site.seen) + len(decoy.seen)
    return outcome


def fresh_sites() -> list[RealSite]:
    return [cls() for cls in SITES.values()]


# --- one crawl of one site, as the scheduler runs it -------------------------------------------------------------
@dataclass
class Crawl:
    outcome: Outcome
    exit_code: int
    seconds: float


def crawl_site(site: RealSite, folder: Path, *, timeout: int = 120) -> Crawl:
    """Serve the site and the decoy, write the operator's entry, crawl it in a forked child (real Scrapy over real
    HTTP), and judge what was stored and asked. A script-built list read without a browser is also asked for its
    named cause (`unionfeed status --json`, the Vietnamese wording)."""
    from feed.app.crawl_runner import crawl_in_child
    from feed.config.settings import load_settings
    from feed.store.api import Store

    from .cli import run_cli
    from .loopback_sites import write_config

    decoy = Decoy()
    with serve_site(site, decoy):
        config = write_config(folder / "config", [site.entry()])
        settings = load_settings(config, folder / "data")
        started = time.perf_counter()
        code = crawl_in_child(settings, [site.slug], timeout=timeout)
        seconds = time.perf_counter() - started
    store = Store(settings.db_url)
    try:
        rows = store.articles(source_slug=site.slug)
    finally:
        store.close()
    cause = None
    if site.needs_js and not site.browser:
        status = run_cli("--config", str(config), "--data", str(settings.data), "status", "--json", timeout=120)
        if status.returncode == 0:
            found = {s["slug"]: s for s in json.loads(status.stdout)["sources"]}.get(site.slug, {})
            cause = ((found.get("last_run") or {}).get("cause") or {}).get("text_vi")
        else:
            cause = f"unionfeed status failed ({status.returncode}): {status.stderr[-500:]}"
    return Crawl(judge(site, decoy, rows, cause), code, seconds)
