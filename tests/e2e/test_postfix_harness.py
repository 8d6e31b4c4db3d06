"""The Postfix harness itself, proven with a pass-through filter instead of WebCrypt.

If these fail, the end-to-end results mean nothing: the guide's blocks must
load into a real Postfix, route mail through the filter port and back through
the reinjection port, defer while the filter is away and deliver once after.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.e2e.passthrough import PassThroughFilter
from tests.support.components import need
from tests.support.postfix import (
    DATAGRAM_QUEUE,
    DOC,
    OWNER,
    PostfixInstance,
    doc_snippets,
    instance_processes,
    need_postfix,
    render,
    stop_orphans,
)
from tests.support.smtp import RecordingSink

pytestmark = pytest.mark.postfix

ROOT = Path(__file__).resolve().parents[2]
ADVISER = "adviser@bank.example"
CUSTOMER = "customer@example.com"


def message(subject: str, to: str = CUSTOMER) -> str:
    """Return a small RFC 5322 message."""
    return (
        f"From: Adviser <{ADVISER}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@bank.example>\r\n\r\nHello.\r\n"
    )


def etc_postfix_fingerprint() -> str:
    """Hash names, sizes and mtimes below /etc/postfix (absent = empty)."""
    digest = hashlib.sha256()
    root = Path("/etc/postfix")
    if root.exists():
        for path in sorted(root.rglob("*")):
            stat = path.lstat()
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def test_guide_has_every_block_the_tests_use() -> None:
    snippets = doc_snippets(DOC)
    for name in ("main.cf", "master.cf", "webcrypt.toml", "main.cf-lmtp", "master.cf-lmtp"):
        assert name in snippets, name
    main = render(snippets["main.cf"], filter_port=1111, reinject_port=2222)
    master = render(snippets["master.cf"], filter_port=1111, reinject_port=2222)
    toml = render(snippets["webcrypt.toml"], filter_port=1111, reinject_port=2222)
    assert "content_filter = webcrypt:[127.0.0.1]:1111" in main
    assert master.count("127.0.0.1:2222 inet") == 1
    assert "no_address_mappings" in master
    assert '"127.0.0.1:1111"' in toml and "smtp://127.0.0.1:2222" in toml
    assert "10025" not in main + master + toml and "10026" not in main + master + toml


def test_the_reinjection_takes_every_connection_the_filter_may_open() -> None:
    """Each filter process opens up to `max_transactions` connections to the reinjection
    smtpd and keeps some of them open between mails; with one process per core, its
    `maxproc` must cover several processes' worth, or a worker's new connection waits behind
    the others' idle ones until the relay times out. Checked for a host of eight cores."""
    snippets = doc_snippets(DOC)
    (line,) = [
        line for line in snippets["master.cf"].splitlines() if line.startswith("127.0.0.1:10026")
    ]
    maxproc = line.split()[6]
    limit = 100 if maxproc == "-" else int(maxproc)  # "-": default_process_limit
    max_transactions = tomllib.loads(snippets["webcrypt.toml"])["filter"]["max_transactions"]
    assert limit >= 8 * max_transactions, line


def test_mail_goes_through_the_filter_and_back(sink: RecordingSink) -> None:
    before = etc_postfix_fingerprint()
    with PostfixInstance(relay_port=sink.port) as mta:
        with PassThroughFilter(mta.filter_port, mta.reinject_port) as passthrough:
            mta.submit(ADVISER, [CUSTOMER], message("one"))
            received = sink.wait_for(1)
            mta.wait_until_empty()
        log = mta.log()
        root = mta.root
    assert [r.rcpt_tos for r in received] == [[CUSTOMER]]
    assert b"Subject: one" in received[0].data
    assert [s.rcpt_tos for s in passthrough.seen] == [[CUSTOMER]]
    assert f"relay=127.0.0.1[127.0.0.1]:{mta.filter_port}" in log
    assert f"relay=127.0.0.1[127.0.0.1]:{sink.port}" in log
    # The instance is gone without a trace and never touched the system's configuration.
    assert not root.exists()
    assert not mta._processes()
    assert etc_postfix_fingerprint() == before


def test_deferred_while_the_filter_is_away_then_delivered_once(sink: RecordingSink) -> None:
    with PostfixInstance(relay_port=sink.port) as mta:
        for number in range(3):
            mta.submit(ADVISER, [CUSTOMER], message(f"queued {number}"))
        deferred = mta.wait_deferred(3)
        assert all(item["queue_name"] in {"deferred", "active"} for item in deferred)
        assert sink.messages == []
        with PassThroughFilter(mta.filter_port, mta.reinject_port):
            mta.flush()
            mta.wait_until_empty(flush=True)
            received = sink.wait_for(3)
    subjects = sorted(r.parsed()["Subject"] for r in received)
    assert subjects == ["queued 0", "queued 1", "queued 2"]


def test_address_mappings_run_before_the_filter_only(sink: RecordingSink) -> None:
    alias = "virtual_alias_maps = inline:{ partners@bank.example=customer@example.com }"
    partners = "partners@bank.example"
    with (
        PostfixInstance(relay_port=sink.port, main_extra=alias) as mta,
        PassThroughFilter(mta.filter_port, mta.reinject_port) as passthrough,
    ):
        mta.submit(ADVISER, [partners], message("alias", partners))
        received = sink.wait_for(1)
        mta.wait_until_empty()
    # The filter decides on the address that really receives the mail.
    assert [s.rcpt_tos for s in passthrough.seen] == [[CUSTOMER]]
    assert [r.rcpt_tos for r in received] == [[CUSTOMER]]


def test_one_recipient_per_filter_delivery(sink: RecordingSink) -> None:
    recipients = ["a@example.com", "b@example.net", "c@bank.example"]
    with (
        PostfixInstance(relay_port=sink.port) as mta,
        PassThroughFilter(mta.filter_port, mta.reinject_port) as passthrough,
    ):
        mta.submit(ADVISER, recipients, message("three"))
        sink.wait_for(3)
        mta.wait_until_empty()
    assert sorted(s.rcpt_tos[0] for s in passthrough.seen) == sorted(recipients)
    assert all(len(s.rcpt_tos) == 1 for s in passthrough.seen)


def test_lmtp_variant_delivers_many_recipients_at_once(sink: RecordingSink) -> None:
    recipients = ["a@example.com", "b@example.net"]
    with (
        PostfixInstance(relay_port=sink.port, variant="lmtp") as mta,
        PassThroughFilter(mta.filter_port, mta.reinject_port, lmtp=True) as passthrough,
    ):
        mta.submit(ADVISER, recipients, message("lmtp"))
        received = sink.wait_for(1)
        mta.wait_until_empty()
    assert [sorted(s.rcpt_tos) for s in passthrough.seen] == [recipients]
    assert sorted(r for item in received for r in item.rcpt_tos) == recipients


def test_instance_lives_in_a_folder_of_its_own() -> None:
    mta = PostfixInstance(relay_port=1)
    try:
        assert str(mta.config_dir).startswith(str(mta.root))
        assert "/etc/postfix" not in mta.main_cf()
        assert os.stat(mta.root).st_mode & 0o777 == 0o755
    finally:
        mta.stop()


def postconf_warnings(config_dir: Path) -> str:
    """Run postconf over main.cf and master.cf of `config_dir`; return its complaints."""
    found = ""
    for option in ("-n", "-M", "-P"):
        result = subprocess.run(
            ["/usr/sbin/postconf", "-c", str(config_dir), option],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        found += result.stderr
    return found


@pytest.mark.parametrize("variant", ["smtp", "lmtp"])
def test_guide_blocks_pass_postconf_without_warnings(tmp_path: Path, variant: str) -> None:
    need_postfix()
    mta = PostfixInstance(relay_port=1, variant=variant)
    try:
        mta.config_dir.mkdir()
        (mta.config_dir / "main.cf").write_text(mta.main_cf())
        (mta.config_dir / "master.cf").write_text(mta.master_cf())
        assert postconf_warnings(mta.config_dir) == ""
    finally:
        mta.stop()


def test_compose_postfix_start_script_builds_a_clean_configuration(tmp_path: Path) -> None:
    """Replay the compose file's Postfix start command on Debian's files, then postconf."""
    need_postfix()
    need(Path("/usr/share/postfix/main.cf.dist").exists(), "Debian's main.cf.dist is missing")
    service = yaml.safe_load((ROOT / "compose.yaml").read_text())
    configs = {name: item["content"] for name, item in service["configs"].items()}
    etc, run = tmp_path / "etc", tmp_path / "run"
    etc.mkdir()
    run.mkdir()
    shutil.copy("/usr/share/postfix/main.cf.dist", etc / "main.cf.orig")
    shutil.copy("/usr/share/postfix/master.cf.dist", etc / "master.cf.orig")
    for mount in service["services"]["postfix"]["configs"]:
        (run / Path(mount["target"]).name).write_text(configs[mount["source"]])
    script = service["services"]["postfix"]["command"][2].replace("$$", "$")
    script = script.split("&& exec postfix start-fg")[0]
    script = script.replace("/etc/postfix/", f"{etc}/").replace("/run/webcrypt/", f"{run}/")
    script = script.replace("postconf ", f"postconf -c {etc} ")
    # Keep the replay away from the system's spool.
    script += (
        f' && postconf -c {etc} -e "queue_directory = {tmp_path}" "data_directory = {tmp_path}"'
    )
    subprocess.run(["sh", "-c", script], check=True, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
    assert postconf_warnings(etc) == ""
    services = subprocess.run(
        ["/usr/sbin/postconf", "-c", str(etc), "-M"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^webcrypt\s+unix\s+-\s+-\s+n\s+-\s+10\s+smtp", services, re.M)
    assert re.search(r"^127\.0\.0\.1:10026\s+inet", services, re.M)
    assert not re.search(r"^\S+\s+\S+\s+\S+\s+\S+\s+y\s", services, re.M), "chroot left on"


def test_an_instance_whose_test_process_died_is_stopped_by_the_next_one() -> None:
    with RecordingSink() as sink:
        orphan = PostfixInstance(relay_port=sink.port, content_filter=False)
        try:
            orphan.start()
            assert instance_processes(orphan.config_dir)
            # As if the run that started it had been killed: its owner is gone.
            gone = subprocess.Popen(["true"])
            gone.wait()
            (orphan.root / OWNER).write_text(str(gone.pid), encoding="ascii")
            stop_orphans()
            assert instance_processes(orphan.config_dir) == []
            assert not orphan.root.exists()
        finally:
            orphan.stop()


def test_an_instance_of_a_living_test_process_is_left_alone() -> None:
    with (
        RecordingSink() as sink,
        PostfixInstance(relay_port=sink.port, content_filter=False) as mine,
    ):
        stop_orphans()
        assert instance_processes(mine.config_dir)


def test_the_log_socket_holds_an_instances_start_up_burst() -> None:
    # With Linux's default of 10, postlogd could wait for itself and hang the instance.
    need_postfix()
    assert int(DATAGRAM_QUEUE.read_text()) >= 512
