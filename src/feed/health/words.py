"""Page errors in Vietnamese words, for the index page and the health feed.

A page error is stored as the crawler saw it ("HTTP 404", "TCP connection timed out: 110: Connection timed out.",
"DNS lookup failed: …", "the source's title and body selectors match nothing on this page"): English, from
Scrapy, Twisted or the extractor. Readers of the Vietnamese pages get a Vietnamese sentence first; the stored
text stays as it was (status.json, the logs and the store keep it) and is shown beside it as a detail.
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
# Ordered: the first pattern found in the text names it. Case-insensitive, searched anywhere in the text.
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"needs javascript", "Trang cần JavaScript mới hiện liên kết bài viết"),
    (r"selectors match nothing", "Bộ chọn của nguồn không còn khớp trang này"),
    (r"download max size|larger than .*max size|too large", "Trang quá lớn, đã dừng tải"),
    (r"max redirections|redirect loop|redirects? in a loop", "Trang chuyển hướng quá nhiều lần"),
    (r"robots\.txt", "robots.txt của trang không cho phép thu thập"),
    (r"dns lookup failed|no results for hostname|name or service not known", "Không tìm thấy tên miền (lỗi DNS)"),
    (r"timed? ?out|took longer than", "Trang không trả lời kịp (hết thời gian chờ)"),
    (r"connection (was )?refused", "Máy chủ từ chối kết nối"),
    (r"ssl|tls|certificate", "Lỗi chứng chỉ bảo mật (SSL/TLS)"),
    (
        r"connection (was )?(lost|closed|reset|done)|responsenever|response never|connectionlost|connectiondone"
        r"|partial ?download|potentialdataloss",
        "Kết nối bị ngắt giữa chừng",
    ),
    (r"sitemap unreadable", "Không đọc được sơ đồ trang (sitemap)"),
    (r"homepage is not a web page", "Trang chủ không phải trang web"),
    (r"binary content|not a text page", "Không phải trang văn bản"),
    (r"empty page", "Trang trống"),
    (r"no title found", "Không tìm thấy tiêu đề bài"),
    (r"no article text found", "Không tìm thấy nội dung bài"),
    (r"browser|playwright|chromium", "Trình duyệt không mở được trang"),
    (r"could not store|disk|database", "Không lưu được bài vào kho"),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), words) for pattern, words in PATTERNS)
FALLBACK = "Lỗi khi đọc trang"


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
    for pattern, words in _COMPILED:
        if pattern.search(text):
            return ErrorWords(words, text)
    return ErrorWords(FALLBACK, text)


# Scrapy's and unionfeed's finish reasons of a crawl run that did not finish cleanly.
FINISH_WORDS = {
    "store_failed": "không lưu được bài vào kho",
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
