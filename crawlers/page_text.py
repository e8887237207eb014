"""Text out of HTML the way a reader sees it: line breaks kept, hidden noise and quotes left out."""
from __future__ import annotations

import re

import lxml.html
from lxml import etree

_BLOCK_TAGS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "section", "article"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BLANKS = re.compile(r"[ \t\u00a0\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_SOURCE_NEWLINES = re.compile(r"[\r\n]+")


def _drop(element) -> None:
    # Keep the tail: it is the text that follows the element, not part of it.
    element.drop_tree()


def visible_text(fragment: str | etree._Element, drop_selectors: tuple[str, ...] = ()) -> str:
    """The text of an HTML fragment with <br> and blocks as newlines.

    `drop_selectors` are CSS selectors removed first (e.g. a forum's quote boxes or jammer noise);
    elements hidden with inline CSS and scripts are always removed.
    """
    if isinstance(fragment, str):
        if not fragment.strip():
            return ""
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    else:
        root = fragment
    for selector in drop_selectors:
        for element in root.cssselect(selector):
            _drop(element)
    for element in root.xpath(".//script|.//style|.//noscript|.//*[@style]"):
        if element.tag in ("script", "style", "noscript") or _HIDDEN_STYLE.search(element.get("style", "")):
            _drop(element)
    # Newlines in HTML source are just spaces to a reader; only <br> and blocks break lines.
    for element in root.iter():
        if element.text:
            element.text = _SOURCE_NEWLINES.sub(" ", element.text)
        if element.tail:
            element.tail = _SOURCE_NEWLINES.sub(" ", element.tail)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    text = "".join(root.itertext())
    lines = [_BLANKS.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
