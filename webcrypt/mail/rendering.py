"""Rendering the texts of the mails the gateway writes, from ``webcrypt/templates``.

A mail template is ``<folder>/<name>.<lang>.txt`` (first line = subject, then a blank line,
then the text body) with an optional ``<name>.<lang>.html`` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from keystore.languages import LANGUAGES


@dataclass(frozen=True)
class Rendered:
    """A rendered mail text: subject, plain text and optional HTML."""

    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("webcrypt", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def language(lang: str | None, default: str = "en") -> str:
    """Return a supported language code, falling back to `default` and then English."""
    for candidate in (lang, default):
        if candidate in LANGUAGES:
            return candidate
    return "en"


def render_template(name: str, **context: Any) -> str:
    """Render one template of ``webcrypt/templates`` (HTML ones are autoescaped)."""
    return _environment().get_template(name).render(**context)


def render_mail(folder: str, name: str, lang: str, **context: Any) -> Rendered:
    """Render ``<folder>/<name>.<lang>.txt`` (and ``.html`` when it exists)."""
    env = _environment()
    text = env.get_template(f"{folder}/{name}.{lang}.txt").render(**context)
    subject, _, body = text.partition("\n")
    html: str | None
    try:
        html_template = env.get_template(f"{folder}/{name}.{lang}.html")
    except jinja2.TemplateNotFound:
        html = None
    else:
        html = html_template.render(subject_line=subject.strip(), **context)
    return Rendered(subject=subject.strip(), text=body.lstrip("\n"), html=html)
