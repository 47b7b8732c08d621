"""The one HTML parser of extraction and the judge, and the two element helpers they need from lxml.html.

Pages are parsed with a plain `etree.HTMLParser`, not lxml.html's: lxml.html's parser looks up a Python element
class (`HtmlElementClassLookup.lookup`, a Python call) every time a Python proxy of an element is made, and a page's
walks make thousands (144,000 lookups in a 600-page crawl, about a tenth of extraction's time). The tree libxml2
builds is the same; only `text_content()` and `drop_tree()`, methods of lxml.html's elements, are missing from the
plain ones, and are here as functions, written as lxml.html writes them (they also take lxml.html elements).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

# What lxml.html.HTMLParser() is, less the element class lookup (same libxml2 options: recover, no network, …).
PARSER = etree.HTMLParser()
# lxml.html's HtmlMixin.text_content(): the XPath string-value of the element (text nodes only, no comments).
_STRING = etree.XPath("string()", smart_strings=False)


def parse_document(page: str) -> etree._Element:
    """The page's <html> element, as lxml.html.document_fromstring(page) reads it; ParserError when it holds none."""
    root = etree.fromstring(page, PARSER)
    if root is None:
        raise etree.ParserError("Document is empty")
    return root


def text_content(element: Any) -> str:
    """The text of the element and everything inside it (lxml.html's `text_content()`)."""
    text: str = _STRING(element)
    return text


def drop_tree(element: etree._Element) -> None:
    """Remove the element and what it holds, its tail text joined to the previous sibling or parent (lxml.html's
    `drop_tree()`)."""
    parent = element.getparent()
    assert parent is not None
    if element.tail:
        previous = element.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + element.tail
        else:
            previous.tail = (previous.tail or "") + element.tail
    parent.remove(element)
