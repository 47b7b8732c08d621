"""Every page error the crawler can report has Vietnamese words (feed.health.words, the one table of error classes).

The errors are made the way the crawler makes them: Scrapy's and Twisted's exceptions that end a download (the
retry middleware's list, named by `GenericSpider.describe` from their message or, when it has none, their type),
the refusals of our middlewares, the spider's and the extractor's own messages, and how a run can finish.
"""

from __future__ import annotations

import unicodedata

import pytest
from scrapy.settings import default_settings
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from feed.app.crawl_report import plain_error
from feed.health.words import ERROR_CLASSES, FALLBACK, FINISH_WORDS, error_class, failure_in_vietnamese, in_vietnamese


def described(exc: BaseException) -> str:
    """What GenericSpider.describe stores for a download that failed with exc (no response attached)."""
    failure = Failure(exc)
    return failure.getErrorMessage() or (failure.type.__name__ if failure.type else "unknown failure")


def download_failures() -> list[str]:
    texts = []
    for name in default_settings.RETRY_EXCEPTIONS:
        kind = load_object(name) if isinstance(name, str) else name
        assert isinstance(kind, type) and issubclass(kind, BaseException), kind
        texts.append(described(kind()))  # the bare exception: only its type names it
    return texts


CRAWLER_TEXTS = [
    # Twisted's and Scrapy's words for a download that failed, as they reach the spider with a message
    "DNS lookup failed: no results for hostname lookup: congdoan-tinh.invalid.",
    "TCP connection timed out: 110: Connection timed out.",
    "Getting http://ldld.example.vn/tin-tuc/ took longer than 180.0 seconds.",
    "Connection was refused by other side: 111: Connection refused.",
    "No route to host: 113: No route to host.",
    "[<twisted.python.failure.Failure twisted.internet.error.ConnectionLost: Connection to the other side was lost "
    "in a non-clean fashion: Connection lost.>]",
    "[<twisted.python.failure.Failure OpenSSL.SSL.Error: [('SSL routines', '', 'certificate verify failed')]>]",
    "Cancelling download of http://ldld.example.vn/a.pdf: expected response size (99999999) larger than download "
    "max size (10485760).",
    "Received a body larger than download max size (10485760 bytes); the download was cut off",
    "Could not open CONNECT tunnel with proxy 127.0.0.1:3128 [{'status': 407, 'reason': b'Proxy Auth'}]",
    # our middlewares' refusals
    "Forbidden by robots.txt",
    "max redirections reached (more than 20 redirects)",
    "redirect loop: http://ldld.example.vn/a → http://ldld.example.vn/b → http://ldld.example.vn/a",
    "cookie gate: http://ldld.example.vn/ answers only a script that sets a cookie (document.cookie)",
    # the spider's and the extractor's own
    "needs JavaScript: http://ldld.example.vn/ has no article links in its HTML, only scripts (React)",
    "the homepage is not a web page",
    "sitemap unreadable: not XML",
    "not a text page (application/pdf)",
    "binary content, not a text page",
    "empty page",
    "no title found",
    "no article text found",
    "the source's title and body selectors match nothing on this page",
    "render: browser needs Chromium at /usr/bin/chromium (apt-get install chromium): not found",
    "could not store http://ldld.example.vn/tin-tuc/dai-hoi.html",
]


def is_vietnamese(text: str) -> bool:
    """Written in Vietnamese: NFC, with at least one letter carrying a Vietnamese diacritic."""
    return unicodedata.is_normalized("NFC", text) and any(
        c in text for c in "ăâđêôơưạảấầẩậắằẳặẹẻẽếềểệịỉọỏốồổộớờởợụủứừửựỳỵỷỹ"
    )


@pytest.mark.parametrize("text", [*download_failures(), *CRAWLER_TEXTS])
def test_every_error_the_crawler_can_report_has_vietnamese_words(text: str) -> None:
    known = error_class(text)
    assert known is not None, f"no error class knows {text!r}"
    said = in_vietnamese(text)
    assert said.text_vi == known.vi != FALLBACK and said.detail == text
    assert is_vietnamese(known.vi), known
    assert plain_error(text) == (known.plain or " ".join(text.split())[:120])


def test_every_class_has_both_wordings_where_they_are_used() -> None:
    assert len({c.name for c in ERROR_CLASSES}) == len(ERROR_CLASSES)
    assert all(is_vietnamese(c.vi) for c in ERROR_CLASSES)
    assert all(c.plain is None or c.plain.isascii() for c in ERROR_CLASSES)
    # the operator's short words and the reader's sentence for the same failure
    text = "Connection was refused by other side: 111: Connection refused."
    assert (plain_error(text), in_vietnamese(text).text_vi) == (
        "the site refused the connection",
        "Máy chủ từ chối kết nối",
    )
    # a certificate failure Twisted wraps in ResponseNeverReceived is named as such in both
    wrapped = "[<twisted.python.failure.Failure OpenSSL.SSL.Error: certificate verify failed>] ResponseNeverReceived"
    assert error_class(wrapped) is not None and error_class(wrapped).name == "tls"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "reason",
    [
        "store_failed",
        "store_lost",
        "closespider_timeout",
        "closespider_errorcount",
        "closespider_pagecount",
        "memusage_exceeded",
        "shutdown",
        "cancelled",
    ],
)
def test_every_way_a_run_can_end_badly_has_vietnamese_words(reason: str) -> None:
    assert is_vietnamese(FINISH_WORDS[reason])
    assert failure_in_vietnamese([], reason, None) == FINISH_WORDS[reason]
