"""Make an HTML mail safe to show: nh3 sanitizing, remote content blocked, cid: images inlined."""

from __future__ import annotations

import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from urllib.parse import unquote

import nh3

#: Image types shown inline as data: URIs (SVG is not: it can carry script and links).
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})

_TAGS = (set(nh3.ALLOWED_TAGS) | {"font", "center", "tfoot", "th"}) - {"map", "area"}
_ATTRIBUTES: dict[str, set[str]] = deepcopy(nh3.ALLOWED_ATTRIBUTES)
for _tag in _TAGS:
    _ATTRIBUTES.setdefault(_tag, set()).update({"style", "title", "dir", "lang", "align"})
for _tag in ("table", "td", "th", "tr", "tbody", "thead", "tfoot"):
    _ATTRIBUTES[_tag].update({"bgcolor", "valign", "width", "height", "border"})
_ATTRIBUTES["table"].update({"cellpadding", "cellspacing"})
_ATTRIBUTES["font"].update({"color", "face", "size"})

#: CSS properties kept in style attributes: layout and typography, nothing that loads
#: a resource or positions content over the page.
_STYLE_PROPERTIES = frozenset(
    [
        "color",
        "background-color",
        "font",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "line-height",
        "letter-spacing",
        "text-align",
        "text-decoration",
        "text-indent",
        "text-transform",
        "vertical-align",
        "white-space",
        "word-break",
        "word-wrap",
        "overflow-wrap",
        "direction",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "border",
        "border-top",
        "border-right",
        "border-bottom",
        "border-left",
        "border-color",
        "border-style",
        "border-width",
        "border-collapse",
        "border-spacing",
        "border-radius",
        "width",
        "max-width",
        "min-width",
        "height",
        "max-height",
        "min-height",
        "display",
        "list-style-type",
        "table-layout",
        "caption-side",
        "empty-cells",
    ]
)

_DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif|webp|bmp));base64,[A-Za-z0-9+/=\s]+\Z")
_UNSAFE_CSS = re.compile(r"expression|url\s*\(|javascript:|behavior|binding|@import|\\|&", re.I)
_SAFE_LINK = re.compile(r"(?:https?:|mailto:)", re.IGNORECASE)


@dataclass(frozen=True)
class CleanHtml:
    """A sanitized HTML body and what was left out of it."""

    html: str
    blocked_remote: int


def clean_html(html: str, inline_images: Mapping[str, str]) -> CleanHtml:
    """Sanitize a mail's HTML body; `inline_images` maps Content-IDs to data: URIs."""
    blocked = 0

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        if tag == "img" and attribute == "src":
            source = value.strip()
            if source.lower().startswith("cid:"):
                return inline_images.get(content_id_key(source[4:]))
            if _DATA_IMAGE.match(source):
                return source
            blocked += 1
            return None
        if tag == "a" and attribute == "href":
            return value if _SAFE_LINK.match(value.strip()) else None
        if attribute == "style":
            return _clean_style(value)
        return value

    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head", "noscript", "template"},
        attributes=_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        url_relative="deny",
        filter_style_properties=set(_STYLE_PROPERTIES),
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return CleanHtml(cleaned, blocked)


def _clean_style(value: str) -> str | None:
    """Drop style declarations whose value could load, run or smuggle anything."""
    kept = [
        declaration
        for declaration in value.split(";")
        if declaration.strip() and not _UNSAFE_CSS.search(declaration)
    ]
    return "; ".join(part.strip() for part in kept) or None


def frame_document(body: str, stylesheet: str) -> str:
    """Wrap a sanitized body into the document shown in the sandboxed frame."""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f'<link rel="stylesheet" href="{stylesheet}"><base target="_blank">'
        f"</head><body>{body}</body></html>"
    )


def content_id_key(value: str) -> str:
    """Return the lookup key of a Content-ID, from its header or a cid: URL."""

    return unquote(value).strip().strip("<>").lower()
