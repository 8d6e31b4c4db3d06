"""The security phrase the login page shows between the address and the password.

The customer chooses the phrase at the first login. A forged page that copies the portal
cannot know it, so a login page without it is a fake. It is never put in secure.htm: one
forwarded file would give it away.

An address without an account (or without a phrase yet) gets a decoy: two words picked by
a keyed hash of the address, the same on every visit and in every language, so the page
does not tell whether an account exists.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from keystore.addresses import normalize_address
from portal.context import runtime, services
from webcrypt.sealing.securehtm import portal_origin

# English and German decoys, so that either looks like a customer's own choice. German
# adjectives are stems that take the ending of the noun's gender.
_EN_ADJECTIVES = (
    "Blue", "Green", "Quiet", "Golden", "Silver", "Little", "Old", "Bright", "Warm", "Wild",
    "Gentle", "Red", "Sunny", "Misty", "Happy", "Lucky",
)  # fmt: skip
_EN_NOUNS = (
    "tractor", "harbour", "lantern", "meadow", "river", "garden", "kettle", "bicycle",
    "orchard", "violin", "mountain", "lighthouse", "teapot", "window", "forest", "sailboat",
)  # fmt: skip
_DE_ADJECTIVES = (
    "Grün", "Blau", "Rot", "Still", "Hell", "Warm", "Alt", "Klein", "Wild", "Sanft",
    "Golden", "Bunt", "Froh", "Kühl", "Weit", "Leis",
)  # fmt: skip
_DE_NOUNS = (
    ("Wiese", "e"), ("Leuchtturm", "er"), ("Garten", "er"), ("Laterne", "e"), ("Fluss", "er"),
    ("Fahrrad", "es"), ("Teekanne", "e"), ("Apfelbaum", "er"), ("Geige", "e"), ("Haus", "es"),
    ("Segelboot", "es"), ("Tür", "e"), ("Berg", "er"), ("Insel", "e"), ("Fenster", "es"),
    ("Brücke", "e"),
)  # fmt: skip
_LABEL = b"webcrypt-portal/decoy-phrase/v1\x00"


def decoy_phrase(address: str, key: bytes) -> str:
    """Return the decoy phrase of `address` under `key` (the portal's secret key)."""
    try:
        canonical = normalize_address(address)
    except ValueError:
        canonical = address.strip().lower()
    digest = hmac.new(key, _LABEL + canonical.encode("utf-8"), hashlib.sha256).digest()
    if digest[0] & 1:
        stem = _DE_ADJECTIVES[digest[1] % len(_DE_ADJECTIVES)]
        noun, ending = _DE_NOUNS[digest[2] % len(_DE_NOUNS)]
        return f"{stem}{ending} {noun}"
    adjective = _EN_ADJECTIVES[digest[1] % len(_EN_ADJECTIVES)]
    return f"{adjective} {_EN_NOUNS[digest[2] % len(_EN_NOUNS)]}"


def phrase_for(address: str) -> str:
    """Return the phrase to show for `address`: the account's own, else its decoy."""
    phrase: str | None = None
    with services() as found:
        recipient = found.recipients.get(address)
        if recipient is not None and recipient.password_hash:
            phrase = found.recipients.security_phrase(recipient)
    if phrase:
        return phrase
    return decoy_phrase(address, str(current_app.config["SECRET_KEY"]).encode("utf-8"))


def login_origin() -> str:
    """Return the portal's public address as `https://host/` for the login page to name.

    Taken from the configuration, never from the request's Host header, which a proxy in
    front of a forged page could set.
    """
    return portal_origin(str(runtime().config.portal.public_url))
