from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime as _datetime
from datetime import tzinfo

from babel import Locale
from babel.support import NullTranslations
from flask import Flask

class Babel:
    def __init__(
        self,
        app: Flask | None = None,
        date_formats: dict[str, str | None] | None = None,
        configure_jinja: bool = True,
        *,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | Locale | None] | None = None,
        timezone_selector: Callable[[], str | None] | None = None,
    ) -> None: ...
    def init_app(
        self,
        app: Flask,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | Locale | None] | None = None,
        timezone_selector: Callable[[], str | None] | None = None,
    ) -> None: ...
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
