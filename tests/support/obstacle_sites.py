"""Loopback sites that put real-world obstacles in a crawler's way, for tests/test_obstacles.py.

Each is a loopback Site (robots.txt, a listing at /tin-tuc/ linking /tin-tuc/bai-N.html) served on 127.0.0.1:

- a cookie gate, modelled on the page the WAF in front of laodong.vn and gov.vn portals sends a plain client
  (about 177 bytes: a script that sets a cookie and reloads), answered for every path but robots.txt until a
  request carries the cookie; `lifts=False` keeps answering it whatever the request carries;
- a listing whose HTML has no article link, only a script that builds the list (fetching JSON, writing it with
  document.write, or an application shell), as some portals send it.

Every request's path, status and Cookie header is kept, so tests can count gates and extra requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .fault_sites import TitledSite
from .loopback_sites import Hit, page_html

# The laodong.vn gate as fetched with a plain client (the hex value differs per visitor and day).
LAODONG_GATE = (
    '<html><body><script>document.cookie="{name}={value}"+"; expires=Thu, 31 Dec 2026 23:59:59 GMT; path=/";'
    "window.location.reload(true);</script></body></html>"
)
# The same WAF on a gov.vn portal: single quotes, and a jump to the page instead of a reload.
GOV_GATE = (
    "<html>\n<head><script type='text/javascript'>\ndocument.cookie = '{name}={value}' + '; path=/';\n"
    "window.location.href = '{path}';\n</script></head>\n<body></body>\n</html>\n"
)

JS_LISTINGS = {
    # An empty container and a script that fetches the list as JSON and writes it in.
    "fetch": (
        '<nav><a href="/">Trang chủ</a> <a href="/gioi-thieu.html">Giới thiệu</a></nav>'
        '<h2>Tin tức</h2><ul class="js-news" id="danh-sach"></ul>'
        "<script>fetch('/api/tin-tuc.json').then(function (r) { return r.json(); }).then(function (items) {"
        " document.getElementById('danh-sach').innerHTML = items.map(function (x) {"
        " return '<li><a class=\"title\" href=\"' + x.url + '\">' + x.title + '</a></li>'; }).join(''); });"
        "</script>"
    ),
    "document.write": (
        '<nav><a href="/">Trang chủ</a></nav><script>var ds = [["/tin-tuc/bai-1.html", "Bài 1"]];'
        "for (var i = 0; i < ds.length; i++) { document.write('<li><a class=\"title\" href=\"' + ds[i][0] + '\">'"
        " + ds[i][1] + '</a></li>'); }</script>"
    ),
    "shell": '<div id="root"></div><script src="/static/js/main.4f2a1c.js"></script>',
}


@dataclass
class Seen:
    path: str
    status: int
    cookie: str | None


class ObstacleSite(TitledSite):
    """A loopback site behind a cookie gate, or with a listing only JavaScript builds (or neither)."""

    def __init__(
        self,
        name: str,
        place: str,
        *,
        gate: str | None = None,  # LAODONG_GATE or GOV_GATE
        cookie: tuple[str, str] = ("D1N", "8f3a9c0b2e71d4a65b0c9e1f7a2d3c48"),
        lifts: bool = True,
        js_listing: str | None = None,  # a key of JS_LISTINGS
        **kwargs: object,
    ) -> None:
        super().__init__(name, place, **kwargs)
        self.gate = gate
        self.cookie = cookie
        self.lifts = lifts
        self.js_listing = js_listing
        self.seen: list[Seen] = []

    def gates(self) -> int:
        """How many gate pages the site sent."""
        return sum(s.status == 200 and s.path.startswith("gate:") for s in self.seen)

    def answer(self, path_qs: str, headers: dict[str, str], base: str) -> tuple[int, dict[str, str], bytes]:
        cookie = headers.get("cookie")
        path = path_qs.split("?", 1)[0]
        if self.gate is not None and path != "/robots.txt" and not self._passes(cookie):
            name, value = self.cookie
            body = self.gate.format(name=name, value=value, path=path).encode()
            with self.lock:
                self.seen.append(Seen(f"gate:{path_qs}", 200, cookie))
                self.hits.append(Hit(path_qs, 200, False))
            return 200, {"Content-Type": "text/html; charset=utf-8"}, body
        status, out, body = super().answer(path_qs, headers, base)
        with self.lock:
            self.seen.append(Seen(path_qs, status, cookie))
        return status, out, body

    def _passes(self, cookie: str | None) -> bool:
        if not self.lifts or not cookie:
            return False
        pairs = {p.strip().partition("=")[0]: p.strip().partition("=")[2] for p in cookie.split(";")}
        return pairs.get(self.cookie[0]) == self.cookie[1]

    def listing(self, page: int) -> str:
        if self.js_listing is None:
            return super().listing(page)
        return page_html(f"{self.name} — Tin tức", JS_LISTINGS[self.js_listing])


def obstacle_sites() -> list[ObstacleSite]:
    """Two gates that lift (laodong.vn and gov.vn markup), one that never does, a JavaScript listing, a plain site."""
    recent = datetime.now(UTC) - timedelta(hours=40)  # live sites: health must not call them silent
    return [
        ObstacleSite("ldo-cong-cookie", "phường Cổng", articles=4, gate=LAODONG_GATE, start=recent),
        ObstacleSite(
            "gov-cong-cookie",
            "xã Cổng",
            articles=3,
            gate=GOV_GATE,
            cookie=("TS01a2b3c4", "01ef9a7c2d5b"),
            start=recent,
        ),
        ObstacleSite("cong-khong-mo", "huyện Khóa", articles=3, gate=LAODONG_GATE, lifts=False, start=recent),
        ObstacleSite("chi-javascript", "huyện Kịch Bản", articles=3, js_listing="fetch", start=recent),
        ObstacleSite("trang-thuong", "huyện Thường", articles=4, start=recent),
    ]
