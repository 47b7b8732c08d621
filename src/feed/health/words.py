"""Page errors in words: Vietnamese for the index page and the health feed, plain words for the crawl report.

A page error is stored as the crawler saw it ("HTTP 404", "TCP connection timed out: 110: Connection timed out.",
"DNS lookup failed: …", "the source's title and body selectors match nothing on this page"): English, from
Scrapy, Twisted or the extractor. Readers of the Vietnamese pages get a Vietnamese sentence first; the stored
text stays as it was (status.json, the logs and the store keep it) and is shown beside it as a detail. The
operator running `unionfeed crawl` gets the same classes in short plain words (feed.app.crawl_report): one table,
ERROR_CLASSES, holds both wordings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HTTP_STATUS = re.compile(r"^HTTP (\d{3})\b")
HTTP_WORDS = {
    400: "Trang từ chối yêu cầu (HTTP 400)",
    401: "Trang đòi đăng nhập (HTTP 401)",
    403: "Trang từ chối truy cập (HTTP 403)",
    404: "Không tìm thấy trang (HTTP 404)",
    408: "Trang hết thời gian chờ (HTTP 408)",
    410: "Trang đã bị gỡ (HTTP 410)",
    429: "Trang đòi giảm tần suất truy cập (HTTP 429)",
    451: "Trang bị chặn vì lý do pháp lý (HTTP 451)",
}


@dataclass(frozen=True)
class ErrorClass:
    """One kind of page error and its two wordings: `vi`, the sentence readers of the Vietnamese pages get (the
    index page, the health feed), and `plain`, the operator's short words in `unionfeed crawl`'s report (which
    speaks English, like the rest of the CLI); a class with no `plain` keeps the stored text in that report (it is
    already the crawler's own plain words: "no article text found")."""

    name: str
    pattern: str  # searched anywhere in the stored text, case-insensitive
    vi: str
    plain: str | None = None


# The one table of page errors. Ordered: the first class whose pattern is found in the text names it (the specific
# causes first: a certificate failure that Twisted wraps in ResponseNeverReceived is a TLS failure, not a cut).
ERROR_CLASSES: tuple[ErrorClass, ...] = (
    ErrorClass("cookie_gate", r"cookie gate", "Trang chỉ mở sau khi một đoạn script đặt cookie"),
    ErrorClass("needs_js", r"needs javascript", "Trang cần JavaScript mới hiện liên kết bài viết"),
    ErrorClass("selectors", r"selectors match nothing", "Bộ chọn của nguồn không còn khớp trang này"),
    ErrorClass(
        "too_large",
        r"download max size|larger than .*max size|too large|maxsize|exceeds",
        "Trang quá lớn, đã dừng tải",
        "a page was larger than the size limit",
    ),
    ErrorClass(
        "redirect_loop",
        r"max redirections|redirect loop|redirects? in a loop",
        "Trang chuyển hướng quá nhiều lần",
        "the site's redirects loop or lead away",
    ),
    ErrorClass(
        "robots", r"robots\.txt", "robots.txt của trang không cho phép thu thập", "the site's robots.txt forbids it"
    ),
    ErrorClass(
        "dns",
        r"dns lookup failed|dnslookuperror|cannotresolvehost|no results for hostname|name or service not known"
        r"|no address associated",
        "Không tìm thấy tên miền (lỗi DNS)",
        "the host name was not found (DNS)",
    ),
    ErrorClass(
        "timeout",
        r"timed? ?out|took longer than",
        "Trang không trả lời kịp (hết thời gian chờ)",
        "the site did not answer in time",
    ),
    ErrorClass(
        "refused",
        r"connection ?(was )?refused",
        "Máy chủ từ chối kết nối",
        "the site refused the connection",
    ),
    ErrorClass(
        "unreachable",
        r"no route to host|network is unreachable",
        "Mạng không tới được máy chủ của trang",
        "the network cannot reach the site",
    ),
    ErrorClass(
        "tls",
        r"ssl|tls|certificate",
        "Lỗi chứng chỉ bảo mật (SSL/TLS)",
        "the site's TLS certificate or handshake was refused",
    ),
    ErrorClass(
        "cut",
        r"connection (was )?(lost|closed|reset|done)|responsenever|response never|connectionlost|connectiondone"
        r"|other side was lost|partial ?download|potentialdataloss|dataloss",
        "Kết nối bị ngắt giữa chừng",
        "the connection was cut before the page arrived",
    ),
    ErrorClass("redirect", r"redirect", "Trang chuyển hướng đi nơi khác", "the site's redirects loop or lead away"),
    ErrorClass(
        "connect",
        r"error occurred while connecting|connecterror|downloadfailed|^oserror$",
        "Không kết nối được tới máy chủ của trang",
    ),
    ErrorClass("proxy", r"tunnel", "Không mở được kết nối qua máy chủ trung gian (proxy)"),
    ErrorClass("sitemap", r"sitemap unreadable", "Không đọc được sơ đồ trang (sitemap)"),
    ErrorClass("homepage", r"homepage is not a web page", "Trang chủ không phải trang web"),
    ErrorClass("not_text", r"binary content|not a text page", "Không phải trang văn bản"),
    ErrorClass("empty", r"empty page", "Trang trống"),
    ErrorClass("no_title", r"no title found", "Không tìm thấy tiêu đề bài"),
    ErrorClass("no_text", r"no article text found", "Không tìm thấy nội dung bài"),
    ErrorClass("browser", r"browser|playwright|chromium", "Trình duyệt không mở được trang"),
    ErrorClass("store", r"could not store|disk|database", "Không lưu được bài vào kho"),
)
_COMPILED = tuple((re.compile(c.pattern, re.IGNORECASE), c) for c in ERROR_CLASSES)
FALLBACK = "Lỗi khi đọc trang"


def error_class(error: str) -> ErrorClass | None:
    """The class of a stored page error (not an HTTP status), or None when no pattern knows it."""
    for pattern, known in _COMPILED:
        if pattern.search(error):
            return known
    return None


def plain_words(error: str) -> str:
    """A page error in the operator's plain words (`unionfeed crawl`'s report); an unknown one, or one already in
    plain words, is kept as it was, shortened to one line."""
    known = error_class(error)
    if known is not None and known.plain is not None:
        return known.plain
    flat = " ".join(error.split())
    return flat[:117] + "…" if len(flat) > 120 else flat


@dataclass(frozen=True)
class ErrorWords:
    """A page error for readers: a Vietnamese sentence, and the stored text when it adds something."""

    text_vi: str
    detail: str


def in_vietnamese(error: str) -> ErrorWords:
    """The Vietnamese sentence for a stored page error; the original stays as the detail unless it is only a code."""
    text = error.strip()
    status = HTTP_STATUS.match(text)
    if status:
        code = int(status.group(1))
        if code in HTTP_WORDS:
            words = HTTP_WORDS[code]
        elif code >= 500:
            words = f"Máy chủ của trang gặp lỗi (HTTP {code})"
        else:
            words = f"Trang trả về mã lỗi HTTP {code}"
        return ErrorWords(words, "" if text == status.group(0) else text)
    known = error_class(text)
    return ErrorWords(known.vi if known is not None else FALLBACK, text)


# Scrapy's and unionfeed's finish reasons of a crawl run that did not finish cleanly.
FINISH_WORDS = {
    "store_failed": "không lưu được bài vào kho",
    "store_lost": "mất kho lưu trữ giữa chừng, đã dừng",
    "closespider_timeout": "hết thời gian thu thập cho phép",
    "closespider_errorcount": "quá nhiều trang lỗi, đã dừng",
    "closespider_pagecount": "đạt giới hạn số trang, đã dừng",
    "memusage_exceeded": "vượt giới hạn bộ nhớ, đã dừng",
    "shutdown": "bị dừng giữa chừng",
    "cancelled": "bị huỷ giữa chừng",
}


def failure_in_vietnamese(statuses: list[int], finish_reason: str, last_error: str | None) -> str:
    """Why a streak of runs failed, for the Vietnamese reason: its HTTP errors, how the run ended, or its last error."""
    if statuses:
        return "; ".join(in_vietnamese(f"HTTP {code}").text_vi for code in statuses)
    if finish_reason != "finished":
        return FINISH_WORDS.get(finish_reason, f"lần thu thập kết thúc bất thường ({finish_reason})")
    if not last_error:
        return "không lấy được các trang danh sách"
    words = in_vietnamese(last_error)
    return words.text_vi if words.text_vi != FALLBACK else f"{FALLBACK}: {last_error}"
