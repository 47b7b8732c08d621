"""Canonical URLs, identity keys and declared canonicals: one table a rule."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed.lang.urls import article_id, canonicalize_url, host_of, identity_key, pick_canonical, same_site

# (input, canonical spelling)
CANONICAL = [
    # scheme and host case, default ports
    ("HTTP://WWW.Hcma.VN/tin-tuc/a.html", "http://www.hcma.vn/tin-tuc/a.html"),
    ("https://hcma.vn:443/a", "https://hcma.vn/a"),
    ("http://hcma.vn:80/a", "http://hcma.vn/a"),
    ("http://127.0.0.1:8765/a", "http://127.0.0.1:8765/a"),
    ("https://hcma.vn./a", "https://hcma.vn/a"),
    # fragments
    ("https://hcma.vn/a.html#binh-luan", "https://hcma.vn/a.html"),
    ("https://hcma.vn/a.html#", "https://hcma.vn/a.html"),
    # trailing slashes (the root keeps its one slash)
    ("https://hcma.vn/tin-tuc/hoi-nghi/", "https://hcma.vn/tin-tuc/hoi-nghi"),
    ("https://hcma.vn/tin-tuc/hoi-nghi//", "https://hcma.vn/tin-tuc/hoi-nghi"),
    ("https://hcma.vn", "https://hcma.vn/"),
    ("https://hcma.vn/?", "https://hcma.vn/"),
    # tracking and session parameters, query order
    ("https://hcma.vn/a?utm_source=fb&utm_medium=social&id=5", "https://hcma.vn/a?id=5"),
    ("https://hcma.vn/a?fbclid=IwAR0abc&gidzl=xyz&zarsrc=10", "https://hcma.vn/a"),
    ("https://hcma.vn/a?UTM_Campaign=x&b=2&a=1", "https://hcma.vn/a?a=1&b=2"),
    ("https://hcma.vn/a?PHPSESSID=abc123&id=7", "https://hcma.vn/a?id=7"),
    ("https://hcma.vn/a;jsessionid=0A1B2C?id=7", "https://hcma.vn/a?id=7"),
    ("https://hcma.vn/a?id=5&empty=", "https://hcma.vn/a?empty=&id=5"),
    # percent-encoding: hex case, unreserved characters decoded, reserved kept, raw Unicode encoded
    ("https://hcma.vn/tin%2ftuc/%7euser/%e1%ba%a1", "https://hcma.vn/tin%2Ftuc/~user/%E1%BA%A1"),
    ("https://hcma.vn/tin-tức/hội-nghị", "https://hcma.vn/tin-t%E1%BB%A9c/h%E1%BB%99i-ngh%E1%BB%8B"),
    ("https://hcma.vn/a b", "https://hcma.vn/a%20b"),
    ("https://hcma.vn/a?q=hội nghị", "https://hcma.vn/a?q=h%E1%BB%99i+ngh%E1%BB%8B"),
    # path case is the server's business: kept
    ("https://hcma.vn/Tin-Tuc/Hoi-Nghi.html", "https://hcma.vn/Tin-Tuc/Hoi-Nghi.html"),
    # dot segments, stray whitespace from HTML attributes, protocol-relative and bare-host URLs
    ("https://hcma.vn/a/./b/../c", "https://hcma.vn/a/c"),
    ("  https://hcma.vn/a\n/b\t ", "https://hcma.vn/a/b"),
    ("//hcma.vn/a", "http://hcma.vn/a"),
    ("hcma.vn/tin-tuc/a.html", "http://hcma.vn/tin-tuc/a.html"),
    # internationalised host names become punycode
    ("https://HỘI.vn/a", "https://xn--hi-79s.vn/a"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL)
def test_canonicalize_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), CANONICAL)
def test_canonicalize_url_is_idempotent(url: str, expected: str) -> None:
    assert canonicalize_url(canonicalize_url(url)) == canonicalize_url(url)


def test_nfd_and_nfc_slugs_agree() -> None:
    nfc_url = "https://ldld.vn/tin-tức/hội-nghị-tổng-kết"
    nfd_url = unicodedata.normalize("NFD", nfc_url)
    assert nfd_url != nfc_url
    assert canonicalize_url(nfd_url) == canonicalize_url(nfc_url)
    nfd_escaped = canonicalize_url(nfd_url.replace("https", "http")).replace("http:", "https:")
    assert canonicalize_url(nfd_escaped) == canonicalize_url(nfc_url)


# Groups of URLs naming the same article: every edition shares one identity key and one article id.
SAME_ARTICLE = [
    (
        "http://hcma.vn/tin-tuc/hoi-nghi-123.html",
        "https://hcma.vn/tin-tuc/hoi-nghi-123.html",
        "https://www.hcma.vn/tin-tuc/hoi-nghi-123.html/",
        "https://m.hcma.vn/tin-tuc/hoi-nghi-123.html",
        "https://hcma.vn/tin-tuc/hoi-nghi-123.html?utm_source=zalo&zarsrc=30#top",
    ),
    (
        "https://laodong.vn/cong-doan/hoi-nghi-123.ldo",
        "https://amp.laodong.vn/cong-doan/hoi-nghi-123.ldo",
        "https://laodong.vn/cong-doan/hoi-nghi-123.ldo?amp=1",
        "https://laodong.vn/amp/cong-doan/hoi-nghi-123.ldo",
    ),
    (
        "https://baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.html",
        "https://baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.amp.html",
        "https://baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.html/amp",
        "http://wap.baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.html",
    ),
    (
        "https://congdoan.vn/a?id=5&cat=2",
        "https://congdoan.vn/a?cat=2&id=5&outputType=amp",
        "https://www.congdoan.vn/a?id=5&cat=2&fbclid=x",
    ),
]


@pytest.mark.parametrize("group", SAME_ARTICLE)
def test_editions_share_identity(group: tuple[str, ...]) -> None:
    keys = {identity_key(u) for u in group}
    assert len(keys) == 1, keys
    assert len({article_id(u) for u in group}) == 1


# Pairs that look alike but are different articles.
DIFFERENT = [
    ("https://hcma.vn/a?id=5", "https://hcma.vn/a?id=6"),
    ("https://hcma.vn/tin-tuc/hoi-nghi-1", "https://hcma.vn/tin-tuc/hoi-nghi-2"),
    ("https://hcma.vn/Tin/A", "https://hcma.vn/tin/a"),
    ("https://hcma.vn/a", "https://hcma.com.vn/a"),
    ("https://mobile.vn/a", "https://vn/a"),  # "mobile.vn" is a site, not an edition
    ("https://hcma.vn/example", "https://hcma.vn/ex"),
    ("https://hcma.vn/a?view=1", "https://hcma.vn/a"),
    ("https://hcma.vn/a?page=2", "https://hcma.vn/a"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_articles_differ(a: str, b: str) -> None:
    assert identity_key(a) != identity_key(b)
    assert article_id(a) != article_id(b)


def test_article_id_shape() -> None:
    value = article_id("https://hcma.vn/a")
    assert len(value) == 20 and all(c in "0123456789abcdef" for c in value)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://www.hcma.vn/tin-tuc/a", "hcma.vn"),
        ("hcma.vn", "hcma.vn"),
        ("www.hcma.vn", "hcma.vn"),
        ("HCMA.VN", "hcma.vn"),
        ("m.laodong.vn/a", "laodong.vn"),
        ("Báo Lao Động", ""),
        ("", ""),
    ],
)
def test_host_of(text: str, host: str) -> None:
    assert host_of(text) == host


def test_same_site() -> None:
    assert same_site("https://www.ldld.namdinh.gov.vn/a", "ldld.namdinh.gov.vn")
    assert same_site("https://congdoan.namdinh.gov.vn/a", "namdinh.gov.vn")
    assert not same_site("https://hcma.vn/a", "https://laodong.vn/a")
    assert not same_site("https://hcma.vn/a", "Báo Lao Động")
    assert not same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")
    assert same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b")
    assert same_site("http://hcma.vn:80/a", "hcma.vn")


PAGE = "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html?utm_source=fb"
# (declared rel=canonical / og:url in that order, the URL the page is filed under)
DECLARED = [
    (
        ("https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html",),
        "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html",
    ),
    (
        ("/tin-tuc/hoi-nghi-tong-ket-2024-123.html",),
        "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html",
    ),
    (
        ("http://www.ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html",),
        "http://www.ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html",
    ),
    # the home page or the section as canonical: a CMS default, not this article
    (("https://ldld.namdinh.gov.vn/",), "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html"),
    (("https://ldld.namdinh.gov.vn/tin-tuc",), "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html"),
    # another outlet named as canonical: the copy stays its own record
    (
        ("https://laodong.vn/cong-doan/hoi-nghi.ldo",),
        "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html",
    ),
    (("javascript:void(0)",), "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html"),
    # a bad rel=canonical falls through to og:url
    (
        ("https://ldld.namdinh.gov.vn/", "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123"),
        "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123",
    ),
    ((None, ""), "https://ldld.namdinh.gov.vn/tin-tuc/hoi-nghi-tong-ket-2024-123.html"),
]


@pytest.mark.parametrize(("declared", "expected"), DECLARED)
def test_pick_canonical(declared: tuple[str | None, ...], expected: str) -> None:
    assert pick_canonical(PAGE, *declared) == expected


def test_another_loopback_site_is_another_site() -> None:
    page = "http://127.0.0.1:8002/cong-doan/ban-sao-2207153.html"
    assert pick_canonical(page, "http://127.0.0.1:8001/tin-tuc/goc-11204.html") == page


def test_amp_page_names_its_main_edition() -> None:
    amp = "https://baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.html/amp"
    assert pick_canonical(amp, "https://baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.html") == (
        "https://baonamdinh.vn/tin/hoi-nghi-ban-chap-hanh.html"
    )


# --- properties: any text, any URL shape (IDNA, IPv6, percent-escapes, Vietnamese slugs in NFC and NFD) ------

_VIET_WORDS = [
    "hội-nghị",
    "tổng-kết",
    "công-đoàn",
    "Đại-hội",
    "người-lao-động",
    "thuỷ",
    "thủy",
    "hoà",
    "hòa",
    "tin-tức",
]
_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_HOSTS = st.one_of(
    st.builds(".".join, st.lists(_LABEL, min_size=1, max_size=3)).map(lambda h: h + ".vn"),
    st.sampled_from(
        [
            "HỘI.vn",
            "công-đoàn.vn",
            "www.ldld.vn.",
            "m.hcma.vn",
            "xn--hi-79s.vn",
            "127.0.0.1",
            "[::1]",
            "[2001:DB8::1]",
            "[fe80::1%25eth0]",
            "[::1",
            "",
            "a..b",
            "-a.vn",
            "ß.vn",
            "Ⅸ.vn",
        ]
    ),
)
_PORTS = st.one_of(st.just(""), st.integers(0, 70000).map(lambda p: f":{p}"), st.sampled_from([":", ":abc", ":-1"]))
_ESCAPES = st.binary(min_size=1, max_size=4).map(lambda b: "".join(f"%{x:02x}" for x in b))
_ODD_SEGMENTS = st.sampled_from([".", "..", "", "a b", "%", "~x"])
_SEGMENTS = st.one_of(st.sampled_from(_VIET_WORDS), _LABEL, _ESCAPES, _ODD_SEGMENTS)
_PATHS = st.lists(_SEGMENTS, max_size=5).map(lambda parts: "/" + "/".join(parts))
_QUERIES = st.lists(
    st.tuples(
        st.sampled_from(["id", "utm_source", "fbclid", "amp", "q", "Page"]),
        st.one_of(st.sampled_from(_VIET_WORDS), _LABEL, _ESCAPES),
    ),
    max_size=3,
)
_URLS = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}{host}{port}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "") + fragment
    ),
    st.sampled_from(["http://", "https://", "HTTPS://", "//", "", "ftp://", "javascript:"]),
    _HOSTS,
    _PORTS,
    _PATHS,
    _QUERIES,
    st.sampled_from(["", "#binh-luan", "#"]),
)
_ANY = st.one_of(_URLS, st.text(max_size=80))


@pytest.mark.reliability("property-urls")
@settings(max_examples=400, deadline=None)
@given(_ANY)
def test_canonicalize_never_raises_and_is_idempotent(url: str) -> None:
    canonical = canonicalize_url(url)
    assert isinstance(canonical, str)
    assert canonicalize_url(canonical) == canonical
    assert identity_key(canonical) == identity_key(url)
    assert article_id(canonical) == article_id(url)
    host_of(url), same_site(url, canonical), pick_canonical(canonical, url, "/a", None)


@pytest.mark.reliability("property-urls")
@settings(max_examples=200, deadline=None)
@given(_URLS, st.sampled_from(["NFC", "NFD", "NFKC"]))
def test_unicode_form_of_a_url_never_changes_its_identity(url: str, form: str) -> None:
    if form == "NFKC" and unicodedata.normalize("NFKC", url) != unicodedata.normalize("NFC", url):
        return  # compatibility folding ("Ⅸ" → "IX") is a different spelling, not another form of the same one
    variant = unicodedata.normalize(form, url)
    assert canonicalize_url(variant) == canonicalize_url(url)
    assert article_id(variant) == article_id(url)


@pytest.mark.reliability("property-urls")
@settings(max_examples=200, deadline=None)
@given(
    _URLS,
    st.sampled_from(["utm_source=zalo", "fbclid=IwAR0", "gidzl=x1", "zarsrc=30"]),
    st.sampled_from(["", "#top", "#binh-luan"]),
)
def test_tracking_parameters_and_fragments_never_change_the_article(url: str, tracking: str, fragment: str) -> None:
    base = url.split("#", 1)[0]
    if not base.startswith(("http://", "https://")) or "[" in base or _ports_are_odd(base):
        return
    marked = base + ("&" if "?" in base else "?") + tracking + fragment
    assert article_id(marked) == article_id(base)


def _ports_are_odd(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        _ = urlsplit(url).port
    except ValueError:
        return True
    return False
