"""Corporate identity for the pages and files that recipients see."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Protocol

from keystore.languages import LANGUAGES

DEFAULT_PRODUCT_NAME = "WebCrypt"
DEFAULT_COLOR = "#1f4e79"
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class BrandingSettings(Protocol):
    """The admin settings that branding is made from (keystore's Settings has them)."""

    @property
    def product_name(self) -> str: ...

    @property
    def brand_color(self) -> str: ...

    @property
    def logo_png(self) -> bytes: ...

    @property
    def logo_mime(self) -> str: ...

    @property
    def footer_en(self) -> str: ...

    @property
    def footer_de(self) -> str: ...

    @property
    def contact_en(self) -> str: ...

    @property
    def contact_de(self) -> str: ...


def safe_color(value: str) -> str:
    """Return `value` if it is a #rrggbb colour, else the default (it ends up in CSS)."""
    return value if _COLOR.fullmatch(value or "") else DEFAULT_COLOR


def logo_data_uri(image: bytes, mime: str) -> str:
    """Return the logo as a data: URI, or "" when there is none or its type is not an image."""
    if not image or mime not in LOGO_TYPES:
        return ""
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


@dataclass(frozen=True)
class Branding:
    """Product name, colour, logo and the texts an operator adds to what recipients see."""

    product_name: str = DEFAULT_PRODUCT_NAME
    brand_color: str = DEFAULT_COLOR
    logo_data_uri: str = ""
    footer: str = ""
    contact: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "brand_color", safe_color(self.brand_color))
        if not self.logo_data_uri.startswith(tuple(f"data:{t};base64," for t in LOGO_TYPES)):
            object.__setattr__(self, "logo_data_uri", "")
        if not self.product_name.strip():
            object.__setattr__(self, "product_name", DEFAULT_PRODUCT_NAME)

    @classmethod
    def from_settings(cls, settings: BrandingSettings, lang: str) -> Branding:
        """Build the branding for language `lang` ("en" or "de") from the admin settings."""
        lang = lang if lang in LANGUAGES else "en"
        return cls(
            product_name=settings.product_name,
            brand_color=settings.brand_color,
            logo_data_uri=logo_data_uri(settings.logo_png, settings.logo_mime),
            footer=getattr(settings, f"footer_{lang}", ""),
            contact=getattr(settings, f"contact_{lang}", ""),
        )
