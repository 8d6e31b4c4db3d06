from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime as _datetime
from datetime import tzinfo
from typing import TypedDict, Unpack

from babel import Locale
from babel.support import NullTranslations
from flask import Flask

# The options Babel() and init_app() share (the library also takes them by position; this
# project passes them by name).
class _Options(TypedDict, total=False):
    default_locale: str
    default_domain: str
    default_translation_directories: str
    default_timezone: str
    locale_selector: Callable[[], str | Locale | None] | None
    timezone_selector: Callable[[], str | None] | None

class Babel:
    def __init__(
        self,
        app: Flask | None = None,
        date_formats: dict[str, str | None] | None = None,
        configure_jinja: bool = True,
        **options: Unpack[_Options],
    ) -> None: ...
    def init_app(self, app: Flask, **options: Unpack[_Options]) -> None: ...
    def list_translations(self) -> list[Locale]: ...

def get_locale() -> Locale | None: ...
def get_timezone() -> tzinfo | None: ...
def get_translations() -> NullTranslations: ...
def force_locale(locale: str | Locale | None) -> AbstractContextManager[None]: ...
def refresh() -> None: ...
def format_datetime(
    datetime: _datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def gettext(string: str, **variables: object) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: object) -> str: ...

# A LazyString translates when it is rendered; wtforms (labels, messages) and Jinja take
# it wherever they take a str, and it implements every str method by delegation.
def lazy_gettext(string: str, **variables: object) -> str: ...
def lazy_ngettext(singular: str, plural: str, num: int, **variables: object) -> str: ...
