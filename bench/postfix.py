"""Postfix with the filter against Postfix alone: the rate of mail arriving at the sink.

    python bench/postfix.py                     2000 mails of 20 KB, 3 rounds each way
    python bench/postfix.py --count 500 --rounds 1
    python bench/postfix.py --recipient-limit 1 --sealed 0

Two private Postfix instances (tests/support/postfix.py) relay to one Postfix `smtp-sink`
(C, so the sink costs next to nothing): "alone" relays straight on, "filter" is configured
with the blocks of docs/postfix.md (after-queue content filter, reinjection on a port of its
own) in front of a `webcrypt filter` process with a fresh SQLite keystore. Postfix's
`smtp-source` submits the mails (``-s`` sessions at once) to one instance, then the other,
round after round, so both see the same background load. A round's time runs from the
first submission until the sink has counted every mail of the round (`smtp-sink -c`), not
until a queue looks empty. Printed per round: mails per second of each, their ratio, and
the load average; at the end the median ratio.

By default every mail carries the trigger word and goes to one external customer whose
account exists (sealed); ``--sealed 0`` sends mail without a trigger (passed on unchanged).
``--recipient-limit`` overrides the guide's ``webcrypt_destination_recipient_limit``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import cpu_seconds, load_average, smtp_sink, smtp_source, tree_cpu
from tests.e2e.gateway import Gateway
from tests.support.components import free_port
from tests.support.postfix import PostfixInstance

_COUNTER = re.compile(rb"mesg=(\d+)")


class CountingSink:
    """Postfix's smtp-sink on a free port; `count` is the number of mails it received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            smtp_sink(self.port, "-c", backlog=1024),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.count = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        pending = b""
        while chunk := self.process.stdout.read1(4096):
            pending += chunk
            found = _COUNTER.findall(pending)
            if found:
                self.count = int(found[-1])
            pending = pending[-64:]

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the sink counted {self.count} of {count} mails in time")
            time.sleep(0.01)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def submit(port: int, count: int, size: int, sessions: int, subject: str) -> None:
    command = smtp_source(port, sessions=sessions, count=count, size=size, subject=subject)
    subprocess.run(command, check=True)


def instance_cpu(mta: PostfixInstance) -> float:
    """CPU seconds of a Postfix instance so far: its live processes, and what the master
    reaped of the processes that ended."""
    pids = mta._processes()
    master = min(pids) if pids else 0
    return sum(cpu_seconds(pid, children=pid == master) for pid in pids)


def round_rate(
    mta: PostfixInstance,
    sink: CountingSink,
    count: int,
    size: int,
    sessions: int,
    subject: str,
    watched: dict[str, float] | None = None,
    filter_pid: int = 0,
    postfixes: tuple[PostfixInstance, ...] = (),
) -> float:
    """Submit `count` mails to `mta`; return mails per second counted at the sink.

    `watched` gets the CPU milliseconds per mail of the Postfix instances and the filter.
    """
    before = sink.count
    cpu = [instance_cpu(p) for p in postfixes], tree_cpu(filter_pid) if filter_pid else 0.0
    started = time.perf_counter()
    submit(mta.smtp_port, count, size, sessions, subject)
    sink.wait_for(before + count, timeout=600)
    elapsed = time.perf_counter() - started
    if watched is not None:
        watched["postfix"] = (
            sum(instance_cpu(p) - b for p, b in zip(postfixes, cpu[0], strict=True)) / count * 1000
        )
        watched["filter"] = ((tree_cpu(filter_pid) - cpu[1]) / count * 1000) if filter_pid else 0.0
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="mails per round")
    parser.add_argument("--size", type=int, default=20 * 1024, help="bytes per mail")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each")
    parser.add_argument("--sessions", type=int, default=20, help="smtp-source sessions")
    parser.add_argument("--sealed", type=int, default=1, help="1: trigger word, 0: none")
    parser.add_argument("--recipient-limit", type=int, help="webcrypt recipient limit")
    parser.add_argument("--filter-env", action="append", default=[], help="NAME=VALUE")
    parser.add_argument(
        "--profile", help="py-spy the filter process (CPU, collapsed stacks) into this file"
    )
    args = parser.parse_args()
    subject = "WebCrypt Unterlagen" if args.sealed else "Unterlagen"
    override = (
        f"webcrypt_destination_recipient_limit = {args.recipient_limit}\n"
        if args.recipient_limit
        else ""
    )
    root = Path(tempfile.mkdtemp(prefix="webcrypt-bench-postfix-"))
    sink = CountingSink()
    alone = PostfixInstance(relay_port=sink.port, content_filter=False)
    filtered = PostfixInstance(relay_port=sink.port, main_override=override)
    gateway = Gateway(root, config_toml=filtered.webcrypt_toml())
    try:
        alone.start()
        filtered.start()
        gateway.init()
        extra = dict(item.split("=", 1) for item in args.filter_env)
        process = gateway.filter(**extra)
        # The customer's account (argon2 for the PIN) and every process warm, not measured.
        for mta in (alone, filtered):
            round_rate(mta, sink, 20, args.size, 4, subject)
        print(
            f"{args.count} mails of {args.size} bytes per round, smtp-source -s {args.sessions}, "
            f"{'sealed' if args.sealed else 'passed on'}, cpus={os.cpu_count()}"
        )
        print(
            f"{'round':>5} {'alone/s':>9} {'filter/s':>9} {'ratio':>6}   CPU ms/mail: "
            f"{'postfix':>7} | {'postfix':>7} {'filter':>6}   load average"
        )
        ratios = []
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    *(str(Path(sys.executable).with_name("py-spy")), "record"),
                    *("-o", args.profile, "--format", "raw", "-p", str(process.pid)),
                ],
                stdout=subprocess.DEVNULL,
            )
        for number in range(args.rounds):
            rates = {}
            order = [("alone", alone), ("filter", filtered)]
            if number % 2:
                order.reverse()
            cpu: dict[str, dict[str, float]] = {"alone": {}, "filter": {}}
            for name, mta in order:
                rates[name] = round_rate(
                    mta,
                    sink,
                    args.count,
                    args.size,
                    args.sessions,
                    subject,
                    watched=cpu[name],
                    filter_pid=process.pid if name == "filter" else 0,
                    postfixes=(mta,),
                )
            ratios.append(rates["filter"] / rates["alone"])
            print(
                f"{number:>5} {rates['alone']:>9.1f} {rates['filter']:>9.1f} "
                f"{ratios[-1]:>6.2f}   {'':>12}{cpu['alone']['postfix']:>7.2f} | "
                f"{cpu['filter']['postfix']:>7.2f} {cpu['filter']['filter']:>6.2f}   "
                f"{load_average()}"
            )
        if spy is not None:
            spy.send_signal(2)
            spy.wait(60)
        print(
            f"filter/alone: {statistics.median(ratios):.2f}x "
            f"(median of {len(ratios)} rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    finally:
        gateway.stop()
        alone.stop()
        filtered.stop()
        sink.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
