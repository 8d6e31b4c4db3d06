"""The runtime's own answers, on a fresh SQLite keystore."""

from __future__ import annotations

from pathlib import Path

from keystore.masterkey import MasterKey
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime


def test_is_internal_agrees_with_the_filter_on_idn_domains(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "WEBCRYPT_KEYSTORE_URL": f"sqlite:///{tmp_path / 'keystore.db'}",
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "xn--bnk-qla.example",
        }
    )
    runtime = Runtime(config, master_key=MasterKey.generate())
    try:
        runtime.keystore.upgrade()
        # normalize_address gives the Unicode form of a domain configured in ASCII form.
        assert runtime.is_internal("berater@bänk.example")
        assert runtime.is_internal("<Berater@XN--BNK-QLA.example>")
        assert not runtime.is_internal("kunde@bank.example")
    finally:
        runtime.close()
