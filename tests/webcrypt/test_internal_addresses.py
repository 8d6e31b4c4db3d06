"""Who is internal: one table, asked of every place that decides it.

The filter's rules, the runtime (commands, housekeeping) and the portal (replies go only to
internal addresses) must give the same answer, because they all call
`keystore.addresses.is_internal`. The company's domains are configured in mixed spellings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from keystore.addresses import canonical_domain, is_internal
from keystore.masterkey import MasterKey
from keystore.settings import Settings
from portal import context as portal_context
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime, effective_internal_domains
from webcrypt.smtp.rules.rulecontext import Context

CONFIGURED = "Bank.Example., xn--bnk-qla.example, straße.example"

TABLE = [
    # case and the trailing dot
    ("adviser@bank.example", True),
    ("Adviser@BANK.EXAMPLE", True),
    ("adviser@bank.example.", True),
    # angle brackets, blanks, #secure in any case
    ("<adviser@bank.example>", True),
    ("  <adviser@bank.example#secure> ", True),
    ("adviser@bank.example#SECURE", True),
    # IDN: the Unicode and the xn-- form of one domain, in any case and normalization form
    ("berater@bänk.example", True),
    ("berater@BÄNK.example", True),
    ("berater@ba\u0308nk.example", True),
    ("berater@xn--bnk-qla.example", True),
    ("berater@XN--BNK-QLA.EXAMPLE", True),
    ("kunde@xn--strae-oqa.example", True),
    ("kunde@strasse.example", False),  # another domain under IDNA 2008, not a spelling
    # subdomains and look-alikes are not internal unless listed
    ("x@mail.bank.example", False),
    ("x@bank.example.evil.example", False),
    ("x@evilbank.example", False),
    ("x@bank.examples", False),
    ('"adviser@bank.example"@evil.example', False),
    # garbage
    ("", False),
    ("<>", False),
    ("bank.example", False),
    ("@bank.example", False),
    ("adviser@", False),
    ("adviser@bank..example", False),
    ("adviser@xn--zz-.example", False),
    ("adviser@[127.0.0.1]", False),
    ("Adviser <adviser@bank.example>", False),
]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    folder = tmp_path_factory.mktemp("internal")
    config = load_config(
        environ={
            "WEBCRYPT_GENERAL_DATA_DIR": str(folder),
            "WEBCRYPT_KEYSTORE_URL": f"sqlite:///{folder / 'keystore.db'}",
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": CONFIGURED,
        }
    )
    runtime = Runtime(config, master_key=MasterKey.generate())
    runtime.keystore.upgrade()
    yield runtime
    runtime.close()


def _rules(runtime: Runtime) -> Callable[[str], bool]:
    return Context(
        "", (), internal_domains=frozenset(runtime.internal_domains().domains)
    ).is_internal


def _portal(runtime: Runtime) -> Callable[[str], bool]:
    app = Flask(__name__)
    app.extensions[portal_context.RUNTIME_KEY] = runtime

    def ask(address: str) -> bool:
        with app.app_context():
            return portal_context.is_internal(address)

    return ask


DECIDERS: dict[str, Callable[[Runtime], Callable[[str], bool]]] = {
    "function": lambda runtime: lambda a: is_internal(a, CONFIGURED.split(",")),
    "rules": _rules,
    "runtime": lambda runtime: runtime.is_internal,
    "portal": _portal,
}


@contextmanager
def internal_domains(runtime: Runtime, domains: str) -> Iterator[None]:
    """Save `domains` as the admin setting of internal domains; clear it afterwards."""
    with runtime.keystore.session() as session:
        runtime.keystore.settings(session).update({"internal_domains": domains}, actor="test")
    try:
        runtime.refresh_settings()
        yield
    finally:
        with runtime.keystore.session() as session:
            runtime.keystore.settings(session).update({"internal_domains": ""}, actor="test")
        runtime.refresh_settings()


@pytest.mark.parametrize("decider", sorted(DECIDERS))
@pytest.mark.parametrize(("address", "internal"), TABLE)
def test_every_place_agrees_on_who_is_internal(
    runtime: Runtime, decider: str, address: str, internal: bool
) -> None:
    assert DECIDERS[decider](runtime)(address) is internal


def test_the_admin_setting_in_either_form_gives_the_same_answers(runtime: Runtime) -> None:
    """The admin settings store Unicode domains; the configuration may hold xn-- ones."""
    with internal_domains(runtime, "XN--BNK-QLA.example"):
        for name in ("rules", "runtime", "portal"):
            ask = DECIDERS[name](runtime)
            assert ask("berater@bänk.example") and ask("berater@xn--bnk-qla.example")


@pytest.mark.parametrize(
    ("domain", "canonical"),
    [
        ("Bank.Example.", "bank.example"),
        ("XN--BNK-QLA.example", "bänk.example"),
        ("ba\u0308nk.example", "bänk.example"),
        ("bank..example", ""),
        ("[127.0.0.1]", ""),
        ("", ""),
    ],
)
def test_canonical_domain(domain: str, canonical: str) -> None:
    assert canonical_domain(domain) == canonical


def test_the_admin_setting_replaces_the_configured_domains() -> None:
    configured = ("bank.example", "Filiale.example")
    found = effective_internal_domains(Settings(internal_domains=("zweig.example",)), configured)
    assert found.domains == ("zweig.example",) and found.source == "settings"
    assert found.from_config == ("bank.example", "filiale.example")


def test_without_an_admin_setting_the_configured_domains_serve_in_their_order() -> None:
    found = effective_internal_domains(
        Settings(), ("Zweig.example", "bank.example", "zweig.example")
    )
    assert found.domains == ("zweig.example", "bank.example") and found.source == "config"
    assert found.from_settings == ()


def test_every_place_uses_the_same_domains_in_force(runtime: Runtime) -> None:
    """The filter, the runtime and the portal see the admin setting once it is saved."""
    with internal_domains(runtime, "zweig.example, bank.example"):
        assert runtime.internal_domains().domains == ("zweig.example", "bank.example")
        for name in ("rules", "runtime", "portal"):
            ask = DECIDERS[name](runtime)
            assert ask("a@zweig.example") and not ask("berater@bänk.example"), name
