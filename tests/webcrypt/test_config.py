"""The configuration schema: defaults, file, environment and clear errors."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from keystore.values import domains
from webcrypt.config.loader import SCHEMA, Config, ConfigError, default_file, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webcrypt.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_setup() -> None:
    config = load_config(environ={})
    assert config.keystore.url == "sqlite:///var/keystore.db"
    assert config.keystore.master_key_file == "var/master.key"
    assert config.filter.listen == "127.0.0.1:10025"
    assert config.filter.relay == "outbox:var/outbox"
    assert config.portal.public_url == "http://127.0.0.1:8080"
    assert config.portal_relay == "outbox:var/outbox"
    assert config.filter.idle_timeout > 600


def test_file_then_environment_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[filter]\ninternal_domains = ["bank.example", "Bank.DE"]\nprotocol = "lmtp"\n'
        '[general]\ndata_dir = "/srv/wc"\n',
    )
    config = load_config(path, environ={"WEBCRYPT_FILTER_PROTOCOL": "smtp"})
    assert config.filter.internal_domains == ("bank.example", "bank.de")
    assert config.filter.protocol == "smtp"
    assert config.keystore.url == "sqlite:////srv/wc/keystore.db"
    assert dict((key, origin) for key, _, origin in config.describe())["filter.protocol"] == (
        "WEBCRYPT_FILTER_PROTOCOL"
    )


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[portal]\npublic_url = "https://secure.bank.example/"\n')
    config = load_config(environ={"WEBCRYPT_CONFIG": str(path)})
    assert config.portal.public_url == "https://secure.bank.example"
    assert config.source == str(path)


def test_lists_from_environment_are_comma_separated() -> None:
    config = load_config(environ={"WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example, bank.de"})
    assert config.filter.internal_domains == ("bank.example", "bank.de")


@pytest.mark.parametrize(
    ("env", "named", "allowed"),
    [
        ({"WEBCRYPT_FILTER_PROTOCOL": "esmtp"}, "filter.protocol", "smtp or lmtp"),
        ({"WEBCRYPT_FILTER_LISTEN": "10025"}, "filter.listen", "host:port"),
        ({"WEBCRYPT_FILTER_IDLE_TIMEOUT": "300"}, "filter.idle_timeout", "above 600"),
        ({"WEBCRYPT_FILTER_RELAY": "mail.example"}, "filter.relay", "outbox:DIR"),
        ({"WEBCRYPT_FILTER_RELAY": "lmtp://mail.example:24"}, "filter.relay", "smtp://"),
        ({"WEBCRYPT_FILTER_INTERNAL_DOMAINS": "a@b.example"}, "filter.internal_domains", "domains"),
        ({"WEBCRYPT_PORTAL_PUBLIC_URL": "ftp://x"}, "portal.public_url", "http(s) URL"),
        ({"WEBCRYPT_PORTAL_THREADS": "many"}, "portal.threads", "whole number"),
        ({"WEBCRYPT_KEYSTORE_URL": "keystore.db"}, "keystore.url", "database URL"),
    ],
)
def test_wrong_value_names_key_and_what_is_allowed(
    env: dict[str, str], named: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=env)
    assert named in str(info.value)
    assert allowed in str(info.value)


def test_the_shared_validators_speak_english_in_the_file() -> None:
    """The admin pages translate these messages; the configuration file keeps them in English."""
    with pytest.raises(ConfigError) as info:
        load_config(environ={"WEBCRYPT_FILTER_MAX_TRANSACTIONS": "0"})
    assert "max_transactions = '0' is not allowed (must be between 1 and 1000)" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_config(environ={"WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank..example"})
    assert "('bank..example' is not a domain name)" in str(info.value)


def test_unknown_key_and_section_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key filter\.lisen.*listen"):
        load_config(write(tmp_path, '[filter]\nlisen = "x"\n'), environ={})
    with pytest.raises(ConfigError, match=r"unknown section \[filtre\]"):
        load_config(write(tmp_path, "[filtre]\n"), environ={})


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[filter\n"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})


def test_secrets_are_masked() -> None:
    config = load_config(
        environ={
            "WEBCRYPT_KEYSTORE_URL": "postgresql+psycopg://wc:s3cret@db/wc",
            "WEBCRYPT_FILTER_RELAY": "smtp://mx:25?starttls=1&user=wc&password=hunter22",
            "WEBCRYPT_PORTAL_METRICS_TOKEN": "tok3n",
        }
    )
    shown = "\n".join(value for _, value, _ in config.describe())
    for secret in ("s3cret", "hunter22", "tok3n"):
        assert secret not in shown
    # Shown masked, not left out (which would also keep the secrets out of `shown`).
    assert "smtp://mx:25?starttls=1&user=wc&password=****" in shown.splitlines()
    assert "postgresql+psycopg://wc:****@db/wc" in shown.splitlines()
    assert config.describe_value("keystore.url") == "postgresql+psycopg://wc:****@db/wc"


def test_every_option_has_help_and_valid_default() -> None:
    for section, options in SCHEMA.items():
        for option in options:
            assert option.help and option.allowed, f"{section}.{option.name}"
            option.parse(option.default)


def test_each_section_type_has_the_keys_and_types_of_the_schema() -> None:
    config = load_config(environ={"WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example"})
    sections = typing.get_type_hints(Config)
    for name, options in SCHEMA.items():
        section_type = sections[name]
        fields = typing.get_type_hints(section_type)
        assert list(fields) == [option.name for option in options], name
        for option in options:
            value = getattr(getattr(config, name), option.name)
            declared = typing.get_origin(fields[option.name]) or fields[option.name]
            assert isinstance(value, declared), f"{name}.{option.name}: {value!r}"
    assert set(SCHEMA) == set(sections) - {"source", "origins"}


def test_demo_defaults_warn() -> None:
    assert any("internal_domains" in w for w in load_config(environ={}).warnings())
    config = load_config(
        environ={
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
            "WEBCRYPT_PORTAL_PUBLIC_URL": "https://secure.bank.example",
        }
    )
    assert config.warnings() == []


def test_reference_document_is_current() -> None:
    from webcrypt.config.loader import reference

    document = Path(__file__).parents[2] / "docs" / "configuration.md"
    assert document.read_text(encoding="utf-8") == reference(), (
        "docs/configuration.md is stale: run `webcrypt config --reference > docs/configuration.md`"
    )


def test_domains_are_read_as_the_admin_settings_read_them() -> None:
    """The file and the admin settings compare a domain in one form (IDNA 2008, lower case)."""
    written = "Bank.Example., xn--strae-oqa.example  Straße.example"
    config = load_config(environ={"WEBCRYPT_FILTER_INTERNAL_DOMAINS": written})
    assert config.filter.internal_domains == domains(written)
    assert config.filter.internal_domains == ("bank.example", "straße.example")


def test_the_public_url_follows_the_portal_listen_address_when_not_set() -> None:
    config = load_config(environ={"WEBCRYPT_PORTAL_LISTEN": "127.0.0.1:18080"})
    assert config.portal.public_url == "http://127.0.0.1:18080"
    assert ("portal.public_url", "http://127.0.0.1:18080", "portal.listen") in config.describe()
    assert not any("public_url" in warning for warning in config.warnings())
    every_interface = load_config(environ={"WEBCRYPT_PORTAL_LISTEN": "0.0.0.0:8443"})
    assert every_interface.portal.public_url == "http://127.0.0.1:8443"
    assert any("recipients cannot reach" in w for w in every_interface.warnings())
    ipv6 = load_config(environ={"WEBCRYPT_PORTAL_LISTEN": "[::1]:8081"})
    assert ipv6.portal.public_url == "http://[::1]:8081"


@pytest.mark.parametrize(
    ("listen", "public_url", "warned"),
    [
        ("127.0.0.1:18080", "http://127.0.0.1:8080", "names port 8080"),
        ("127.0.0.1:18080", "http://localhost:18080", None),
        ("10.0.0.5:8080", "http://127.0.0.1:8080", "on this machine only"),
        ("10.0.0.5:8080", "https://secure.bank.example", None),
        ("127.0.0.1:8080", "https://secure.bank.example/webcrypt", None),
    ],
)
def test_a_public_url_that_misses_the_portal_is_warned_about(
    listen: str, public_url: str, warned: str | None
) -> None:
    config = load_config(
        environ={
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
            "WEBCRYPT_PORTAL_LISTEN": listen,
            "WEBCRYPT_PORTAL_PUBLIC_URL": public_url,
        }
    )
    found = [w for w in config.warnings() if "public_url" in w and "not https" not in w]
    if warned is None:
        assert found == []
    else:
        assert len(found) == 1 and warned in found[0], found


@pytest.mark.parametrize(
    "public_url", ["secure.bank.example", "/portal", "ftp://x.example", "https://x.example/?a=1"]
)
def test_a_public_url_must_be_absolute(public_url: str) -> None:
    with pytest.raises(ConfigError, match=r"portal\.public_url") as raised:
        load_config(environ={"WEBCRYPT_PORTAL_PUBLIC_URL": public_url})
    assert "https://" in str(raised.value)


def test_every_command_finds_the_same_file(tmp_path: Path) -> None:
    assert default_file(environ={}, cwd=tmp_path) is None
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "webcrypt.toml").write_text('[portal]\nlisten = "127.0.0.1:18081"\n')
    found = default_file(environ={}, cwd=tmp_path)
    assert found == str(tmp_path / "var" / "webcrypt.toml")
    assert load_config(found, environ={}).portal.public_url == "http://127.0.0.1:18081"
    (tmp_path / "webcrypt.toml").write_text("")
    assert default_file(environ={}, cwd=tmp_path) == str(tmp_path / "webcrypt.toml")
    named = {"WEBCRYPT_CONFIG": "/etc/webcrypt.toml"}
    assert default_file(environ=named, cwd=tmp_path) == "/etc/webcrypt.toml"
