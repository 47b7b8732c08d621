"""Page noise and credits: the vocabulary that tells body text from counters, footers, bylines and credits."""

from __future__ import annotations

import re

# Elements that are never article text, on any site.
NOISE_SELECTORS = (
    "script", "style", "noscript", "iframe", "form", "button", "nav", "header", "footer", "aside", "svg",
    "[class*=share]", "[class*=social]", "[class*=related]", "[class*=relate]", "[class*=comment]",
    "[class*=banner]", "[class*=advert]", "[class*=quangcao]", "[class*=breadcrumb]", "[class*=tags]",
    "[class*=tinlienquan]", "[class*=tin-lien-quan]", "[class*=tin-khac]", "[class*=tinkhac]", "[class*=other-news]",
    "[class*=print]", "[class*=rating]", "[class*=counter]", "[class*=thong-ke]", "[class*=truy-cap]",
    "[id*=comment]", "[id*=share]", "[id*=related]",
)
# Caption containers: kept out of the body (they describe a photo, not the story).
CAPTION_SELECTORS = ("figcaption", "[class*=caption]", "[class*=image_desc]", "[class*=img-desc]",
                     "[class*=PhotoCMS_Caption]", "[class*=expNoEdit]", "table.image td.desc")

# Lines that are site chrome when they appear inside an extracted body.
NOISE_LINES = tuple(
    re.compile(p, re.I)
    for p in (
        r"^\s*[•·\-]?\s*(đang truy cập|hôm nay|hôm qua|tháng hiện tại|tổng lượt truy cập|lượt truy cập|"
        r"năm phát hành|đang online|trực tuyến)\s*:?\s*[\d.,]*\s*$",
        r"^\s*lượt xem\s*:?\s*[\d.,]+\s*$",
        r"^\s*(tổng biên tập|phó tổng biên tập|tòa soạn|toà soạn|trụ sở|điện thoại|đường dây nóng|fax|email|"
        r"giấy phép|bản quyền|ghi rõ nguồn|chịu trách nhiệm|cơ quan chủ quản)\b.*$",
        r"^\s*(báo [\w ]+ điện tử|cổng thông tin điện tử [\w ]+)\s*$",
        r"^\s*(chia sẻ|share|in bài|bản in|gửi bài|bình luận|phản hồi|tin liên quan|tin khác|tin cùng chuyên mục|"
        r"xem thêm|đọc thêm|từ khóa|từ khoá|tags?)\s*:?\s*$",
        r"^\s*(facebook|zalo|twitter|email|print)(\s*[|/]\s*(facebook|zalo|twitter|email|print))*\s*$",
        r"^\s*(top|lên đầu trang|về đầu trang|quay lại)\s*$",
    )
)
# A page footer starts at the first of these lines; everything after it is dropped.
FOOTER_START = re.compile(r"^\s*(tổng biên tập|cơ quan chủ quản|giấy phép (xuất bản|hoạt động)|©|copyright)\b", re.I)

# Credits for syndicated copies: "(BBT dẫn tin từ hcma.vn)", "Nguồn: congdoan.vn", "(Theo Báo Lao Động)".
CREDIT_PATTERNS = tuple(
    re.compile(p, re.I)
    for p in (
        r"^\(?\s*(?:BBT|Ban biên tập)\s+dẫn\s+(?:tin|bài)\s+(?:từ|theo)\s*:?\s*(?P<src>[^()]+?)\s*\)?\s*\.?$",
        r"^\(?\s*Nguồn\s*:\s*(?P<src>[^()]+?)\s*\)?\s*\.?$",
        r"^\(?\s*Theo\s+(?P<src>[^()]{3,120}?)\s*\)\s*\.?$",
        r"^\(?\s*Dẫn\s+(?:nguồn|theo)\s*:?\s*(?P<src>[^()]+?)\s*\)?\s*\.?$",
    )
)
# "(Nguồn Khối thi đua)" inside a byline: the body credits itself, not another outlet.
INLINE_CREDIT = re.compile(r"\((?:Nguồn|Theo)\s*:?\s*(?P<src>[^()]{2,120})\)\s*\.?$", re.I)

AUTHOR_PATTERNS = tuple(
    re.compile(p, re.I)
    for p in (
        r"^\s*(?:Tác giả|Tác giả bài viết|Người viết|Bài(?: và ảnh)?|Tin(?: và ảnh)?|Tin, ảnh|Bài, ảnh|PV|Phóng viên)"
        r"\s*:\s*(?P<name>.{2,120}?)\s*$",
    )
)
# A last line that is just a name ("Minh Tân", "Anh Cao", "Ban TGNC") is the byline of Vietnamese reports.
NAME_LINE = re.compile(r"^(?:[A-ZĐÂĂÊÔƠƯ][\w.]*(?:\s+|$)){1,5}(?:\([^()]{1,80}\))?\s*\.?$")
MAX_NAME_LINE = 60


def is_noise_line(line: str) -> bool:
    """True for counter, footer, share-bar and navigation lines."""
    return any(p.search(line) for p in NOISE_LINES)


def parse_credit(line: str) -> str | None:
    """The outlet a line credits as the story's origin, or None."""
    for pattern in CREDIT_PATTERNS:
        match = pattern.match(line.strip())
        if match:
            return match.group("src").strip(" .:;")
    return None


def parse_author_line(line: str) -> str | None:
    """The author named by a byline ("Tác giả: Tin: BT; Ảnh: Mạnh Thắng"), or None."""
    for pattern in AUTHOR_PATTERNS:
        match = pattern.match(line.strip())
        if match:
            return match.group("name").strip(" .;")
    return None


def looks_like_name_line(line: str) -> bool:
    """True for a short closing line that is a person's or desk's name rather than a sentence."""
    text = line.strip()
    return 2 <= len(text) <= MAX_NAME_LINE and bool(NAME_LINE.match(text)) and not text.endswith((":", ","))
