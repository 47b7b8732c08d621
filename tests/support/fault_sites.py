"""Sites that misbehave, each served on its own 127.0.0.1 port for tests/test_faults_sites.py.

Every site keeps the URL shapes of tests/loopback_sites.Site (robots.txt, a listing at /tin-tuc/ linking
/tin-tuc/bai-N.html), so `loopback_sites.source_entry` describes it; what goes wrong is decided per URL by a
Reply: a status, headers and body, a delay, a hang until the server stops, or a body streamed from a generator
(a 50 MB page is never held in memory). The server counts the body bytes it managed to send for each path.
`loopback_sites()` and `fault_sites()` at the end build the good site and one source per fault.
"""

from __future__ import annotations

import html
import random
import socket
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .loopback_sites import VN, Site
from .loopback_sites import handler_for as loopback_handler

GOOD = "cong-doan-tot"
SLOW = 1.0  # seconds the slow site takes for each article page, well inside the test's 4 s timeout
HTML = "text/html; charset=utf-8"
MB = 1024 * 1024
HUGE_BYTES = 50 * MB
CHUNK = 64 * 1024
TONES = {"\u0301", "\u0300", "\u0309", "\u0303", "\u0323"}
OPENINGS = (
    "Sáng {day}, Ban Chấp hành Công đoàn {org} tổ chức {event}, có {count} đại biểu là chủ tịch công đoàn "
    "cơ sở và cán bộ công đoàn chuyên trách tham dự.",
    "Ngày {day}, tại hội trường trụ sở, Công đoàn {org} đã long trọng tổ chức {event} với sự tham gia "
    "của {count} đoàn viên tiêu biểu.",
)
MIDDLES = (
    "Báo cáo tại hội nghị nêu rõ, trong năm qua công đoàn đã phối hợp với chuyên môn chăm lo đời sống, "
    "bảo vệ quyền và lợi ích hợp pháp của người lao động, giới thiệu nhiều đoàn viên ưu tú cho Đảng xem xét.",
    "Các ý kiến thảo luận tập trung vào việc nâng cao chất lượng thương lượng tập thể, kiểm tra việc thực "
    "hiện chế độ nghỉ ngơi và bữa ăn giữa ca cho công nhân tại các doanh nghiệp ngoài nhà nước.",
)
CLOSINGS = (
    "Dịp này, {count} tập thể và cá nhân có thành tích xuất sắc được nhận bằng khen của Liên đoàn Lao động tỉnh.",
    "Kết thúc hội nghị, các đại biểu thống nhất thông qua chương trình công tác trọng tâm của năm tới.",
)


@dataclass
class Reply:
    """How one URL answers."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: Callable[[], Iterator[bytes]] | None = None  # chunks written after the headers, instead of body
    length: int | None = None  # Content-Length declared for a stream; None: none, the connection closes at the end
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answer (until the server stops)


Route = Reply | Callable[[str], Reply]


@dataclass
class Article:
    number: int
    title: str
    reply: Reply | None = None  # None: a well-formed UTF-8 page


class FaultSite:
    """A listing of a few articles; each article (or the listing, or every page) may misbehave."""

    def __init__(
        self,
        name: str,
        articles: list[Article],
        *,
        every: Reply | None = None,
        listing: Reply | None = None,
        extra: dict[str, Route] | None = None,
    ) -> None:
        self.name = name
        self.articles = {a.number: a for a in articles}
        self.every = every  # answers every path but robots.txt
        self.listing = listing
        self.extra = extra or {}  # more paths: exact, or a prefix ending in "/"
        self.hits: list[str] = []
        self.sent: dict[str, int] = {}
        self.lock = threading.Lock()
        self.released = threading.Event()  # set when the server stops, so hanging handlers may end

    def good_titles(self) -> set[str]:
        return {a.title for a in self.articles.values() if a.reply is None}

    def reply(self, path: str) -> Reply:
        if path == "/robots.txt":
            return Reply(headers={"Content-Type": "text/plain"}, body=b"User-agent: *\nDisallow: /quan-tri/\n")
        if self.every is not None:
            return self.every
        route = self.extra.get(path) or next(
            (r for p, r in self.extra.items() if p.endswith("/") and path.startswith(p) and p != path), None
        )
        if route is not None:
            return route(path) if callable(route) else route
        if path == "/tin-tuc/":
            return self.listing or html_reply(listing_page(self.name, self.articles.values()))
        number = path.removeprefix("/tin-tuc/bai-").removesuffix(".html")
        article = self.articles.get(int(number)) if number.isdigit() else None
        if article is None:
            return Reply(404, {"Content-Type": "text/html; charset=utf-8"}, b"<h1>404</h1>")
        return article.reply or html_reply(article_page(article.title, article.number, place=self.name))


TOPICS = (
    "tổng kết công tác năm",
    "sơ kết sáu tháng đầu năm",
    "tập huấn nghiệp vụ cho cán bộ mới",
    "trao mái ấm công đoàn",
    "tổ chức hội thi an toàn lao động",
)


def headline(place: str, number: int) -> str:
    """The headline of article `number` of a union in `place`."""
    return f"Công đoàn {place} {TOPICS[number % len(TOPICS)]} (bài {number})"


class TitledSite(Site):
    """A loopback Site (its failure modes included) with its own headlines and text, told apart from the good site."""

    def __init__(self, name: str, place: str, **kwargs: object) -> None:
        super().__init__(name, **kwargs)  # type: ignore[arg-type]
        self.place = place

    def title(self, number: int) -> str:
        return headline(self.place, number)

    def article(self, number: int) -> str:
        return article_page(self.title(number), number, place=self.place)


# --- pages ------------------------------------------------------------------------------------------------------
def article_page(title: str, number: int, *, place: str = "huyện mẫu", charset: str | None = "utf-8") -> str:
    """An article page in the style of a provincial union portal (the meta charset only when asked)."""
    when = datetime(2026, 2, 2, 8, 30, tzinfo=VN) + timedelta(days=number)
    values = {
        "day": f"{when:%d/%m/%Y}",
        "org": f"ngành Giáo dục {place}",
        "count": 40 + number,
        "event": "hội nghị tổng kết công tác công đoàn năm 2025",
    }
    paragraphs = [OPENINGS[number % 2].format(**values), MIDDLES[number % 2], CLOSINGS[number % 2].format(**values)]
    head = f'<meta charset="{charset}">' if charset else ""
    head += f'<meta property="article:published_time" content="{when.isoformat()}">'
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="vi"><head>{head}<title>{html.escape(title)}</title></head><body>'
        f'<nav><a href="/">Trang chủ</a> <a href="/tin-tuc/">Tin tức</a></nav>'
        f'<article><h1>{html.escape(title)}</h1><div class="date">{when:%H:%M, %d/%m/%Y}</div>'
        f'<div class="content">{body}</div></article><footer><p>Cổng thông tin công đoàn mẫu</p></footer>'
        f"</body></html>"
    )


def listing_page(name: str, articles: Iterable[Article]) -> str:
    items = "".join(
        f'<li><a class="title" href="/tin-tuc/bai-{a.number}.html">{html.escape(a.title)}</a></li>' for a in articles
    )
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{name} — Tin tức</title></head>'
        f'<body><ul class="news-list">{items}</ul></body></html>'
    )


def html_reply(text: str, content_type: str = "text/html; charset=utf-8", encoding: str = "utf-8") -> Reply:
    return Reply(headers={"Content-Type": content_type}, body=text.encode(encoding))


def to_cp1258(text: str) -> bytes:
    """Vietnamese in windows-1258: letters the code page lacks are a base letter plus a combining tone mark."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
            out += (base + "".join(c for c in parts if c in TONES)).encode("cp1258")
    return bytes(out)


def double_encoded(text: str, codec: str = "cp1252") -> str:
    """UTF-8 bytes read as windows-1252 (bytes it leaves undefined become C1 controls, as browsers do) or latin-1."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode(codec))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)


def malformed_page(title: str, place: str) -> str:
    """An article as a careless CMS writes it: unclosed and misnested tags, an </html> mid-page, NUL bytes."""
    damaged = title.replace(" ", " \x00", 1)
    parts = [
        f"<html><head><title>{damaged}</title><meta charset=utf-8></head><body><div class=content>",
        f"<h1>{damaged}</h2><p>Sáng 3/2, <b>Công đoàn {place} <i>tổ chức hội nghị</b> người lao động</i> năm 2026",
        " với sự tham dự của đông đủ đoàn viên, người lao động trong toàn cơ quan.",
        "<p>Hội nghị đã \x00thông qua thỏa ước lao động tập thể mới, bổ sung chế độ hỗ trợ cho lao động nữ nuôi",
        " con nhỏ<table><tr><td>và người lao động có hoàn cảnh khó khăn</div></table></html>",
        "<p>Các đại biểu thảo luận sôi nổi về tiền lương, thưởng Tết và điều kiện làm việc tại phân xưởng,",
        " kiến nghị lắp thêm quạt thông gió cho tổ may.<div><span>Cuối buổi, ban chấp hành ký kết giao ước thi đua",
        " năm 2026.</body>",
    ]
    return "".join(parts)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, {"Location": location, "Content-Type": "text/html; charset=utf-8"})


def endless_chain(path: str) -> Reply:
    """/chuoi/N redirects to /chuoi/N+1, for ever: a chain with no loop in it."""
    step = int(path.rstrip("/").rsplit("/", 1)[1] or 0)
    return redirect(f"/chuoi/{step + 1}")


def huge_chunks(total: int = HUGE_BYTES) -> Iterator[bytes]:
    """A page of `total` bytes, produced CHUNK by CHUNK."""
    head = '<!doctype html><html><head><meta charset="utf-8"><title>Trang rất lớn</title></head><body>'.encode()
    line = "<p>Công đoàn ngành tổ chức hội nghị tổng kết, đoàn viên tham dự đông đủ.</p>\n".encode()
    filler = line * (CHUNK // len(line) + 1)
    yield head
    sent = len(head)
    while sent < total:
        piece = filler[: min(CHUNK, total - sent)]
        sent += len(piece)
        yield piece


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def png_bytes() -> bytes:
    """A real (1×1) PNG followed by noise, as an image server would send it."""
    signature = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
    return signature + random_bytes(4096, 7)


# --- serving ----------------------------------------------------------------------------------------------------
def handler_for(site: FaultSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with site.lock:
                site.hits.append(self.path)
            reply = site.reply(path)
            if reply.hang:
                site.released.wait(120)
                self.close_connection = True
                return
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.stream is None:
                self.send_header("Content-Length", str(len(reply.body)))
            elif reply.length is not None:
                self.send_header("Content-Length", str(reply.length))
            self.end_headers()
            self._write(path, [reply.body] if reply.stream is None else reply.stream())

        def _write(self, path: str, chunks: Iterable[bytes]) -> None:
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
                    with site.lock:
                        site.sent[path] = site.sent.get(path, 0) + len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up on the page: what a size limit does

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_faults(sites: list[FaultSite | Site]) -> Iterator[dict[str, str]]:
    """Serve each site (fault sites and loopback Sites) on its own 127.0.0.1 port; yields name -> base URL."""
    servers: list[ThreadingHTTPServer] = []
    try:
        for site in sites:
            handler = handler_for(site) if isinstance(site, FaultSite) else loopback_handler(site)
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            # A short poll keeps stopping a dozen servers quick.
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            servers.append(server)
        yield {site.name: f"http://127.0.0.1:{s.server_address[1]}" for site, s in zip(sites, servers, strict=True)}
    finally:
        for site in sites:
            if isinstance(site, FaultSite):
                site.released.set()
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nothing else takes it) but never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


# --- the sites of tests/test_faults_sites.py --------------------------------------------------------------------------
def loopback_sites() -> list[Site]:
    """The good site and the faults a loopback Site can play (slow, 500, 429, robots.txt)."""
    recent = datetime.now(UTC) - timedelta(hours=40)  # a live site: health must not call it silent
    return [
        Site(GOOD, articles=6, start=recent),
        TitledSite("cham-tra-loi", "huyện Chậm", articles=3, delay=SLOW),
        TitledSite("loi-may-chu", "huyện Lỗi", articles=3, mode="error"),
        TitledSite("qua-tai", "huyện Đông", articles=3, throttle=1, retry_after="1"),
        TitledSite("cam-robots", "huyện Cấm", articles=3, disallow=("/",)),
    ]


def fault_sites() -> list[FaultSite]:
    """Sites whose pages misbehave one by one (a good article beside the bad ones where it shows the contrast)."""

    def title(place: str, number: int) -> str:
        return headline(place, number)

    def page(place: str, number: int, **kwargs: Any) -> str:
        return article_page(title(place, number), number, place=place, **kwargs)

    moji = ("xã Tân Phước", "xã Hòa Bình")
    return [
        FaultSite("treo-may", [Article(1, title("huyện Treo", 1))], every=Reply(hang=True)),
        FaultSite(
            "vong-danh-sach",
            [Article(1, title("huyện Vòng", 1))],
            listing=redirect("/chuyen-muc/"),
            extra={"/chuyen-muc/": redirect("/tin-tuc/")},
        ),
        FaultSite(
            "vong-bai-viet",
            [
                Article(1, title("xã Vòng", 1), redirect("/bai-viet/1")),  # A -> B -> A
                Article(2, title("xã Vòng", 2)),
                Article(3, title("xã Vòng", 3), redirect("/tin-tuc/bai-3.html?lan=1", 301)),  # A -> A' -> A'
                Article(4, title("xã Vòng", 4), redirect("/chuoi/1")),  # no loop, just no end
            ],
            extra={"/bai-viet/1": redirect("/tin-tuc/bai-1.html"), "/chuoi/": endless_chain},
        ),
        FaultSite(
            "trang-khong-lo",
            [
                Article(
                    1,
                    title("thị xã Lớn", 1),
                    Reply(headers={"Content-Type": HTML}, stream=huge_chunks, length=HUGE_BYTES),
                ),
                Article(2, title("thị xã Lớn", 2), Reply(headers={"Content-Type": HTML}, stream=huge_chunks)),
                Article(3, title("thị xã Lớn", 3)),
            ],
        ),
        FaultSite(
            "nhi-phan",
            [
                Article(1, title("huyện Ảnh", 1), Reply(headers={"Content-Type": "image/png"}, body=png_bytes())),
                Article(2, title("huyện Ảnh", 2), Reply(headers={"Content-Type": HTML}, body=random_bytes(20_000, 3))),
                Article(3, title("huyện Ảnh", 3)),
            ],
        ),
        FaultSite(
            "sai-bang-ma",
            [
                Article(
                    1,
                    title("huyện Mã", 1),
                    html_reply(page("huyện Mã", 1, charset=None), "text/html; charset=iso-8859-1"),
                ),
                Article(
                    2,
                    title("huyện Mã", 2),
                    html_reply(page("huyện Mã", 2, charset=None), "text/html; charset=windows-1252"),
                ),
                Article(
                    3,
                    title("huyện Mã", 3),
                    Reply(
                        headers={"Content-Type": "text/html; charset=windows-1258"},
                        body=to_cp1258(page("huyện Mã", 3, charset="windows-1258")),
                    ),
                ),
                Article(
                    4,
                    title("huyện Mã", 4),
                    Reply(
                        headers={"Content-Type": HTML},  # the header lies, the meta not
                        body=to_cp1258(page("huyện Mã", 4, charset="windows-1258")),
                    ),
                ),
            ],
        ),
        FaultSite(
            "thieu-bang-ma",
            [
                Article(1, title("huyện Thiếu", 1), html_reply(page("huyện Thiếu", 1, charset=None), "text/html")),
                Article(2, title("huyện Thiếu", 2), Reply(body=page("huyện Thiếu", 2, charset=None).encode())),
                Article(
                    3,
                    title("huyện Thiếu", 3),
                    Reply(headers={"Content-Type": "text/html"}, body=to_cp1258(page("huyện Thiếu", 3, charset=None))),
                ),
            ],
        ),
        FaultSite(
            "loi-phong-chu",
            [
                Article(1, title(moji[0], 1), html_reply(double_encoded(page(moji[0], 1)))),
                Article(2, title(moji[1], 2), html_reply(double_encoded(page(moji[1], 2), "latin-1"))),
            ],
        ),
        FaultSite(
            "html-hong",
            [Article(1, title("huyện Hỏng", 1), html_reply(malformed_page(title("huyện Hỏng", 1), "huyện Hỏng")))],
        ),
        FaultSite(
            "than-rong",
            [
                Article(1, title("huyện Rỗng", 1), Reply(headers={"Content-Type": HTML})),
                Article(2, title("huyện Rỗng", 2)),
            ],
        ),
    ]
