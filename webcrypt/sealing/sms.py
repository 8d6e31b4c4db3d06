"""Sending a one-time PIN by SMS: a small interface, and the gateways that implement it.

A gateway has one method, ``send(phone, text)``, which returns once the provider took the
message and raises `SmsError` otherwise. The operator names one in the configuration
(``[sms] gateway``) as ``<provider>:<address>``; `open_gateway` looks the provider up in
`PROVIDERS`. The one shipped is ``webhook:``: an HTTP POST of JSON to the operator's own
SMS service or a provider's API. To add a provider, write a class with ``send`` and add a
factory ``(address, token, timeout) -> gateway`` to `PROVIDERS` (docs/accounts.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Protocol

PHONE_HEADER = "X-WebCrypt-Phone"
"""The header an adviser sets to give the customer's mobile number (removed before sealing)."""

PHONE_AUDIT = "recipient.phone"
"""The audit action of a stored or removed mobile number (by an admin or an adviser's header)."""

_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SmsError(Exception):
    """The SMS was not accepted by the gateway; the message says why."""


class SmsGateway(Protocol):
    """Anything that can send a short text to a phone number."""

    def send(self, phone: str, text: str) -> None:
        """Send `text` to `phone` (E.164, such as +4917612345678); raise SmsError if refused."""
        ...


def normalize_phone(value: str) -> str:
    """Return a phone number in E.164 form (+ and digits); raise ValueError when it is not one.

    Blanks, dots, dashes, slashes and brackets are dropped; ``00`` in front becomes ``+``.
    """
    text = re.sub(r"[\s.\-/()]", "", value or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _PHONE.match(text):
        raise ValueError("not an international phone number such as +49 176 12345678")
    return text


def masked_phone(phone: str | None) -> str:
    """Return a number with only its last three digits shown (for admins and the audit log)."""
    return f"+...{phone[-3:]}" if phone else "none"


class WebhookGateway:
    """POST ``{"to": phone, "text": text}`` as JSON to a URL; any 2xx answer means sent."""

    def __init__(self, url: str, token: str = "", timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, phone: str, text: str) -> None:
        """Post the SMS to the webhook; raise SmsError on any other answer or no answer."""
        # Heavy (http.client, email) and needed only when a PIN goes by SMS.
        import urllib.error
        import urllib.request

        body = json.dumps({"to": phone, "text": text}).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "WebCrypt"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 (the operator's own http(s) URL, checked by open_gateway)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            raise SmsError(f"the SMS gateway answered {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise SmsError(f"the SMS gateway cannot be reached ({exc})") from None
        if not 200 <= status < 300:
            raise SmsError(f"the SMS gateway answered {status}")


PROVIDERS: dict[str, Callable[[str, str, float], SmsGateway]] = {
    "webhook": lambda address, token, timeout: WebhookGateway(address, token, timeout),
}
"""The SMS providers by the name written before the colon in ``[sms] gateway``."""


def open_gateway(spec: str, *, token: str = "", timeout: float = 10.0) -> SmsGateway | None:
    """Return the gateway `spec` names (``provider:address``), or None when it is empty."""
    if not spec:
        return None
    provider, _, address = spec.partition(":")
    if provider not in PROVIDERS or not address:
        known = ", ".join(f"{name}:..." for name in PROVIDERS)
        raise ValueError(f"unknown SMS gateway {spec!r}; known: {known}")
    if provider == "webhook" and not address.startswith(("https://", "http://")):
        raise ValueError("a webhook gateway needs an http(s) URL, such as webhook:https://...")
    return PROVIDERS[provider](address, token, timeout)


def pin_sms_text(pin: str, *, product_name: str, portal_url: str, lang: str) -> str:
    """Return the SMS that carries a one-time PIN (short: one SMS of 160 characters)."""
    if lang == "de":
        return f"{product_name}: Ihre Einmal-PIN lautet {pin}. Anmeldung: {portal_url}"
    return f"{product_name}: your one-time PIN is {pin}. Log in at {portal_url}"
