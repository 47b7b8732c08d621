"""Page noise and credits: the vocabulary that tells body text from counters, footers, bylines and credits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from feed.extract.tree import text_content

# Elements that are never article text, on any site.
NOISE_SELECTORS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "button",
    "nav",
    "header",
    "footer",
    "aside",
    "svg",
    "[class*=share]",
    "[class*=social]",
    "[class*=related]",
    "[class*=relate]",
    "[class*=comment]",
    "[class*=banner]",
    "[class*=advert]",
    "[class*=quangcao]",
    "[class*=breadcrumb]",
    "[class*=tags]",
    "[class*=tinlienquan]",
    "[class*=tin-lien-quan]",
    "[class*=tin-khac]",
    "[class*=tinkhac]",
    "[class*=other-news]",
    "[class*=print]",
    "[class*=rating]",
    "[class*=counter]",
    "[class*=thong-ke]",
    "[class*=truy-cap]",
    "[id*=comment]",
    "[id*=share]",
    "[id*=related]",
)
# Caption containers: kept out of the body (they describe a photo, not the story).
CAPTION_SELECTORS = (
    "figcaption",
    "[class*=caption]",
    "[class*=image_desc]",
    "[class*=img-desc]",
    "[class*=PhotoCMS_Caption]",
    "[class*=expNoEdit]",
    "table.image td.desc",
)

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
        r"^\s*\[?\s*(top|lên đầu trang|về đầu trang|quay lại|trở lại|back to top)\s*\]?\s*$",
        # Calls to action: "Chia sẻ bài viết của bạn ... tại đây", "Xem chi tiết tại đây".
        r"^\s*(chia sẻ|gửi|xem|bấm|nhấn|click|mời bạn)\b.{0,120}\btại đây\s*\.?\s*$",
        r"^\s*\(?\s*[\d.,]+\s*(bình chọn|lượt bình chọn|lượt thích|người thích)\b.*$",
        r"^\s*(xem thêm|tin tức gần đây|tin cùng chuyên mục|các tin khác|có thể bạn quan tâm)\s*:.*$",
    )
)
# A "» related story" link line: ">> Công chức được nghỉ 9 ngày", "» Xem thêm".
RELATED_LINE = re.compile(r"^\s*(>>|»|&gt;&gt;)")
# A page footer starts at the first of these lines; everything after it is dropped.
FOOTER_START = re.compile(r"^\s*(tổng biên tập|cơ quan chủ quản|giấy phép (xuất bản|hoạt động)|©|copyright)\b", re.I)

# Credits for syndicated copies: "(BBT dẫn tin từ hcma.vn)", "Nguồn: congdoan.vn", "(Theo Báo Lao Động)".
CREDIT_PATTERNS = tuple(
    re.compile(p, re.I)
    for p in (
        r"^\(?\s*(?:BBT|Ban biên tập)\s+dẫn\s+(?:tin|bài)\s+(?:từ|theo)\s*:?\s*(?P<src>[^()]+?)\s*\)?\s*\.?$",
        r"^\(?\s*Nguồn\s*:\s*(?P<src>[^()]+?)\s*\)?\s*\.?$",
        r"^\(?\s*Theo\s+(?P<src>[^()]{3,120}?)\s*\)\s*\.?$",
        r"^Theo\s+(?P<src>[\w.&'-]+(?:\s[\w.&'-]+){0,5})\s*\.?$",
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
_NAME = r"(?:[^\W\d_][\w.]*(?:\s+|$)){1,5}"
NAME_LINE = re.compile(rf"^{_NAME}(?:(?:-|–|,|&|và)\s+{_NAME}){{0,3}}(?:\([^()]{{1,80}}\))?\s*\.?$")
# "Theo Minh Nguyễn/Vcamp.vn", "Theo Sầm Hoa (Vietnamnet/Reuters)": a writer and the outlet the story came from.
WRITER_CREDIT = re.compile(
    r"^\(?\s*Theo\s+(?P<name>[^()/]{2,60}?)\s*(?:/\s*|\(\s*)(?P<src>[^()]{2,80}?)\s*\)?\s*\.?$", re.I
)
MAX_NAME_LINE = 60


# NOISE_LINES as one pattern: each of them is anchored at the start (^, no MULTILINE), so one of them finds a match
# exactly when their alternation matches at the start.
_NOISE_LINE = re.compile("|".join(f"(?:{p.pattern})" for p in NOISE_LINES), re.I)


def is_noise_line(line: str) -> bool:
    """True for counter, footer, share-bar and navigation lines."""
    return _NOISE_LINE.match(line) is not None


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


def parse_writer_credit(line: str) -> tuple[str, str] | None:
    """(writer, outlet) from a "Theo <writer>/<outlet>" or "Theo <writer> (<outlet>)" line, or None."""
    match = WRITER_CREDIT.match(line.strip())
    if not match or not NAME_LINE.match(match.group("name").strip()):
        return None
    return match.group("name").strip(), match.group("src").strip(" .")


def looks_like_name_line(line: str) -> bool:
    """True for a short closing line that is a person's or desk's name rather than a sentence."""
    text = line.strip()
    words = [w for w in re.split(r"[\s,&()–-]+", text) if w and w != "và"]
    # Every word of a name is capitalised ("Ngọc Ánh", "K. Miên"); the regex alone cannot test Vietnamese capitals.
    capitalised = all(w[0].isupper() for w in words if w[0].isalpha())
    return (
        2 <= len(text) <= MAX_NAME_LINE
        and capitalised
        and bool(NAME_LINE.match(text))
        and not text.endswith((":", ","))
    )


# --- Vocabulary for finding the main text without selectors (feed.extract.main_text) -------------------------------
# Tags that never hold article text.
NOISE_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "nav",
        "header",
        "footer",
        "aside",
        "svg",
        "select",
        "option",
        "button",
        "input",
        "textarea",
        "object",
        "embed",
        "canvas",
        "template",
        "link",
        "meta",
        "map",
        "video",
        "audio",
    }
)
# class/id/type words of boxes that are always chrome: share bars, comments, related news, ads, tags, counters.
NOISE_HINT = re.compile(
    r"comment|binh-?luan|ykien|y-kien|share|social|sociable|related|relate|lienquan|lien-quan|tinkhac|tin-khac|"
    r"banner|advert|quangcao|quang-cao|\bqc\b|qc-|\bads?\b|ads[-_]|adsense|\badv\b|sponsor|breadcrumb|"
    r"(?:^|\s)(?:[\w-]*[_-])?tags?(?:$|\s)|hienthitags|keyword|rating|\brate\b|counter|thong-?ke|truy-?cap|"
    r"popup|modal|cookie|subscribe|newsletter|login|pagination|paging|font_?sizer|email-?print|likesubject|"
    r"like-?facebook|fb-like|toolbar|hotline|copyright|divpage|nextpage",
    re.I,
)
# Words of boxes that are usually chrome but also name page wrappers ("sidebar-1" holds vnexpress's article):
# such a box goes only when it does not read as prose.
WEAK_NOISE_HINT = re.compile(
    r"othernews|other-?news|other_news|news-?other|more[-_]?news|tin-?moi|newest|mostview|most-?read|xem-?nhieu|"
    r"promo|sidebar|widget|menu|navbar|navigation|search|footer|(?:^|\s)tags?[-_]\w+",
    re.I,
)
# Names of article-body wrappers: a box so named is never pruned, whatever else its classes say.
BODY_HINT = re.compile(
    r"article-?body|articlebody|entry-?content|post-?content|article-?content|story-?body|"
    r"main-?content|news-?content|detail-?content|content-?detail|fck_detail|noi-?dung|chi-?tiet|"
    r"body-?segment|article-?text|story-?content",
    re.I,
)
# Words in class/id that mark the article body, and words that mark everything else (Readability's weights).
POSITIVE_HINT = re.compile(
    r"article|body|content|entry|main|post|text|detail|chitiet|chi-tiet|noidung|noi-dung|"
    r"fck|story|news-?content|baiviet",
    re.I,
)
NEGATIVE_HINT = re.compile(
    r"hidden|\bhid\b|combx|contact|foot|masthead|media|meta|outbrain|promo|scroll|shoutbox|"
    r"sponsor|shopping|widget|header|list|box-?news|title",
    re.I,
)
# Picture captions: figcaption and these class/id words ("chú thích ảnh" is Vietnamese for caption).
CAPTION_HINT = re.compile(
    r"caption|chu-?thich|chuthich|image_?desc|img-?desc|photo-?desc|expnoedit|\bdesc\b|"
    r"imagedescription|image-?caption|hinh-?anh-?mo-?ta",
    re.I,
)
# The standfirst ("sapo") under a headline.
SAPO_HINT = re.compile(
    r"sapo|\blead\b|summary|description|chappeau|chapeau|head-?noidung|init_content|\bphead\b|"
    r"tomtat|tom-tat|excerpt|standfirst|abstract|\bintro\b|detail-?sapo|article-?sapo|\babs\b",
    re.I,
)
_CAPTION_STYLE = re.compile(
    r"text-align:\s*center|font-style:\s*italic|font-size:\s*(?:[0-9]|1[0-1])(?:pt|px)|"
    r"color:",
    re.I,
)


def looks_like_caption_style(el: Any, text: str | None = None) -> bool:
    """True for an element styled as a caption: centred, italic, small or coloured text (on itself or a child).
    `text` is the element's text_content() when the caller has read it already."""
    whole: float | None = None  # 0.8 of the element's text length, read once and only when an <em>/<i> asks
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        tag = node.tag.lower()
        if tag in ("em", "i") and (node.text or "").strip():
            if whole is None:
                whole = len(text_content(el) if text is None else text) * 0.8
            if len(text_content(node)) >= whole:
                return True
        if node.get("align", "").lower() == "center" or _CAPTION_STYLE.search(node.get("style") or ""):
            return True
    return False


# Publisher names that metadata puts where a byline belongs ("VCCorp.vn", "Công nghệ ChannelVN", "baodantridientu").
NOT_A_PERSON = re.compile(
    r"\.(?:vn|com|net|org)\b|corp|channel|online|\bbáo\b|tạp chí|\bnews\b|admin|editor|"
    r"\bbbt\b|ban biên tập|\bđiện tử\b|\d",
    re.I,
)


def plausible_person(name: str | None) -> bool:
    """True for a byline that names people or a desk, not a publisher, a login or a domain."""
    if not name:
        return False
    text = name.strip()
    return 2 <= len(text) <= 80 and text[0].isupper() and not NOT_A_PERSON.search(text) and len(text.split()) <= 8


@dataclass
class Tail:
    """A body with its closing byline and syndication credit taken off."""

    paragraphs: list[str]
    author: str | None = None
    credit: str | None = None


def split_tail(paragraphs: list[str]) -> Tail:
    """Drop noise, related links and footers; take bylines and credits off the end of the body."""
    kept: list[str] = []
    for line in paragraphs:
        if FOOTER_START.search(line):
            break
        if not is_noise_line(line) and not RELATED_LINE.match(line):
            kept.append(line)
    tail = Tail(kept)
    # Walk back over the last few lines: credits and bylines close Vietnamese reports.
    while len(kept) > 1 and _take_closing_line(tail, kept[-1]):
        kept.pop()
    return tail


def read_closing_lines(tail: Tail, lines: list[str]) -> None:
    """Fill a tail's author and credit from lines printed after the body, stopping at the first that is neither."""
    for line in lines:
        if is_noise_line(line) or not _take_closing_line(tail, line):
            break


def _take_closing_line(tail: Tail, line: str) -> bool:
    writer = parse_writer_credit(line)
    if writer:
        # "Theo <writer>/<outlet>" names the writer better than a bare outlet line below it.
        tail.author, tail.credit = writer[0], tail.credit or writer[1]
        return True
    found_credit = parse_credit(line)
    if found_credit:
        if tail.credit is None:
            tail.credit = found_credit
        return True
    found_author = parse_author_line(line)
    if found_author and tail.author is None:
        tail.author = found_author
        return True
    if tail.author is None and looks_like_name_line(line):
        inline = INLINE_CREDIT.search(line)
        tail.author = INLINE_CREDIT.sub("", line).strip() if inline else line.strip().rstrip(".")
        if inline and tail.credit is None:
            tail.credit = inline.group("src").strip()
        return True
    return False
