"""The URL shape a site's articles share, learnt from the links of its listings.

On a portal the links of a listing page are its articles, and also its menus, sections, tags, "about" and
contact pages. Articles of one CMS share one URL shape; `families_of` names the shapes a URL has, and
`learn_article_pattern` takes the dominant ones among a list of links and returns them as one compiled pattern
with a confidence (the share of the links it matches), or None when no family has at least `min_support` links.

Families, each read from the path (case ignored):

- slug-id: the last segment is a slug of two words or more, then `-`, an optional prefix of up to four letters and
  an id of 3+ digits, then an optional extension: `/cong-doan/…-1234567.ldo`, `…-181628.html`,
  `…-post579523.html`, `…---oid57695`, `…-n6478.html`, `/channel/5083/202101/…-2542135/`. The prefix and the
  extension are part of the family (so `…-tag28113.html` tag pages are not `…-post123.html` articles);
- date path: `/2025/06/12/<slug>` or `/2025/06/<slug>` (WordPress and its kin);
- id then slug: `/tin-tuc/t<id>/<slug>`, `/pages/news/16853/<Slug>.html` (the directories before are literal);
- directory then slug: `/b/<mục>/<slug>.html`, `/bai-viet/<slug>`, `/chi-tiet/<slug>` (first directory literal,
  depth fixed, a slug of three words or more); at the root `/<slug>.html` with four words or more; only for a last
  segment that is no slug-id (an id says more than a directory or a length);
- query id: `index.aspx?Def=556&ID=2101` (the path and the id parameter literal);
- numeric end: `/News/Print/730` (the directories literal).

Links under a tag, topic, author or search directory (`/tag/…`, `/chu-de/…`, `/tac-gia/…`, `/tim-kiem/…`) belong
to no family and never match a learnt pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

# Directories whose pages list articles by tag, topic, author or search, never articles themselves.
NON_ARTICLE_DIRS = (
    "tag",
    "tags",
    "chu-de",
    "chude",
    "tu-khoa",
    "tukhoa",
    "keyword",
    "keywords",
    "topic",
    "topics",
    "tac-gia",
    "author",
    "tim-kiem",
    "timkiem",
    "search",
    "dang-nhap",
    "login",
)
ID_PARAMS = ("id", "itemid", "newsid", "articleid", "nid", "postid", "tinid")

SLUG = r"[^/?#.-]+(?:-[^/?#.-]+)+"  # two words or more
SLUG3 = r"[^/?#.-]+(?:-[^/?#.-]+){2,}"
SLUG4 = r"[^/?#.-]+(?:-[^/?#.-]+){3,}"
_SLUG_ID = re.compile(r"^(?P<slug>.+?[a-z0-9])-+(?P<prefix>[a-z]{0,4})(?P<id>\d{3,})(?:\.(?P<ext>[a-z]{2,5}))?$")
_EXT = re.compile(r"^(?P<stem>.+?)(?:\.(?P<ext>[a-z]{2,5}))?$")
_YEAR, _MONTH, _DAY = re.compile(r"^(?:19|20)\d{2}$"), re.compile(r"^(?:0?[1-9]|1[0-2])$"), re.compile(r"^\d{1,2}$")
_ID_DIR = re.compile(r"^(?P<prefix>[a-z]{0,2})\d{2,}$")
_GUARD = "(?!(?:/[^/?#]+)*/(?:" + "|".join(re.escape(d) for d in NON_ARTICLE_DIRS) + ")(?:/|$))"


@dataclass(frozen=True)
class Family:
    """One shape of article URL: a readable name and the path it matches, as a regular expression."""

    name: str
    regex: str
    rank: int  # the more specific families first when two are as large


@dataclass(frozen=True)
class LearnedShape:
    pattern: re.Pattern[str]  # searched in absolute URLs
    confidence: float  # share of the links given that it matches (0..1)
    families: tuple[str, ...]
    support: int  # how many of the links it matches

    @property
    def regex(self) -> str:
        return self.pattern.pattern


def _ext(ext: str | None) -> str:
    return rf"\.{re.escape(ext)}" if ext else ""


def _words(slug: str) -> int:
    return len([w for w in re.split(r"-+", slug) if w])


def families_of(url: str) -> list[Family]:
    """The article-URL families a URL belongs to (none for a tag, topic, author or search page)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    segments = [s for s in parts.path.lower().split("/") if s]
    if not segments or any(s in NON_ARTICLE_DIRS for s in segments[:-1]):
        return []
    last = segments[-1]
    out: list[Family] = []
    match = _SLUG_ID.match(last)
    slug_id = bool(match and _words(match["slug"]) >= 2)
    plain = False
    if match and slug_id:
        # "…-nam-hoc-2025" may be a slug ending in a year: then the other families are weighed as well.
        plain = not re.fullmatch(r"(?:19|20)\d{2}", match["id"]) or bool(match["prefix"])
        prefix, ext = match["prefix"], match["ext"]
        regex = rf"(?:/[^/?#]+)*/{SLUG}-+{re.escape(prefix)}\d{{3,}}{_ext(ext)}/?"
        out.append(Family(f"<slug>-{prefix}<id>" + (f".{ext}" if ext else ""), regex, 0))
    for i in range(len(segments) - 1):
        if _YEAR.match(segments[i]) and i + 1 < len(segments) - 1 and _MONTH.match(segments[i + 1]):
            rest = segments[i + 2 :]
            if len(rest) == 2 and _DAY.match(rest[0]):
                rest = rest[1:]
            if len(rest) == 1 and _words(_EXT.match(rest[0])["stem"]) >= 2:  # type: ignore[index]
                regex = rf"(?:/[^/?#]+)*/(?:19|20)\d{{2}}/\d{{1,2}}/(?:\d{{1,2}}/)?{SLUG}(?:\.[a-z]{{2,5}})?/?"
                out.append(Family("/<yyyy>/<mm>/<slug>", regex, 1))
            break
    stem_ext = _EXT.match(last)
    stem, ext = (stem_ext["stem"], stem_ext["ext"]) if stem_ext else (last, None)
    if len(segments) >= 2 and _ID_DIR.match(segments[-2]) and _words(stem) >= 2:
        dirs = "".join(f"/{re.escape(s)}" for s in segments[:-2])
        prefix = _ID_DIR.match(segments[-2])["prefix"]  # type: ignore[index]
        out.append(
            Family(
                f"{'/'.join(segments[:-2]) and '/' + '/'.join(segments[:-2])}/{prefix}<id>/<slug>",
                rf"{dirs}/{re.escape(prefix)}\d{{2,}}/{SLUG}{_ext(ext)}/?",
                2,
            )
        )
    # A slug with an id says more than its directory or its length: those families are for URLs without one.
    if len(segments) >= 2 and _words(stem) >= 3 and not _ID_DIR.match(segments[-2]) and not (slug_id and plain):
        first, depth = segments[0], len(segments)
        middle = r"(?:[^/?#]+/)" + f"{{{depth - 2}}}" if depth > 2 else ""
        name = f"/{first}/" + "<mục>/" * (depth - 2) + "<slug>" + (f".{ext}" if ext else "")
        out.append(Family(name, rf"/{re.escape(first)}/{middle}{SLUG3}{_ext(ext)}/?", 3))
    if len(segments) == 1 and _words(stem) >= 4 and not (slug_id and plain):
        out.append(Family("/<slug>" + (f".{ext}" if ext else ""), rf"/{SLUG4}{_ext(ext)}/?", 4))
    if last.isdigit() and len(last) >= 3:
        dirs = "".join(f"/{re.escape(s)}" for s in segments[:-1])
        out.append(Family("/".join(segments[:-1]) + "/<id>", rf"{dirs}/\d{{3,}}/?", 2))
    if parts.query:
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in ID_PARAMS and value.isdigit():
                path = re.escape(parts.path.lower() or "/")
                regex = rf"{path}\?(?:[^#]*&)?{re.escape(key)}=\d+(?:&[^#]*)?"
                out.append(Family(f"{parts.path.lower()}?{key}=<id>", regex, 2))
                break
    return out


def compile_families(regexes: Iterable[str]) -> re.Pattern[str]:
    """One pattern, searched in absolute URLs, matching the path of any of these families (query and fragment
    allowed after it unless the family names its query), never a tag, topic, author or search page."""
    alternation = "|".join(f"(?:{r})" for r in regexes)
    return re.compile(rf"^https?://[^/?#]+{_GUARD}(?:{alternation})(?:[?#].*)?$", re.IGNORECASE)


def learn_article_pattern(urls: Iterable[str], *, min_support: int = 3) -> LearnedShape | None:
    """The dominant article-URL families among a listing's links, as one pattern, or None without a clear family.

    The largest family is taken (the more specific first when two are as large); another joins it when it covers
    links the chosen ones do not, at least min_support and half as many as the largest (a site with two article
    shapes, e.g. `.ldo` and `.tld` editions)."""
    links = list(dict.fromkeys(u for u in urls if u))
    if not links:
        return None
    members: dict[Family, set[str]] = {}
    for url in links:
        for family in families_of(url):
            members.setdefault(family, set()).add(url)
    if not members:
        return None
    ranked = sorted(members, key=lambda f: (-len(members[f]), f.rank, f.name))
    top = len(members[ranked[0]])
    if top < min_support:
        return None
    chosen: list[Family] = []
    covered: set[str] = set()
    for family in ranked:
        fresh = members[family] - covered
        if not chosen or len(fresh) >= max(min_support, top / 2):
            chosen.append(family)
            covered |= members[family]
    pattern = compile_families(f.regex for f in chosen)
    matched = [u for u in links if pattern.search(u)]
    return LearnedShape(pattern, round(len(matched) / len(links), 3), tuple(f.name for f in chosen), len(matched))


# Any article shape at all, for a site whose links show no clear family: slug-id (no tag-like prefix), date paths,
# id then slug, long slugs, query ids.
ANY_ARTICLE = compile_families(
    [
        rf"(?:/[^/?#]+)*/{SLUG}-+(?!tag|tags|page|trang)[a-z]{{0,4}}\d{{3,}}(?:\.[a-z]{{2,5}})?/?",
        rf"(?:/[^/?#]+)*/(?:19|20)\d{{2}}/\d{{1,2}}/(?:\d{{1,2}}/)?{SLUG}(?:\.[a-z]{{2,5}})?/?",
        rf"(?:/[^/?#]+)*/[a-z]{{0,2}}\d{{2,}}/{SLUG}(?:\.[a-z]{{2,5}})?/?",
        rf"(?:/[^/?#]+)*/{SLUG4}(?:\.[a-z]{{2,5}})?/?",
        r"(?:/[^/?#]*)*\?(?:[^#]*&)?(?:" + "|".join(ID_PARAMS) + r")=\d+",
    ]
)
