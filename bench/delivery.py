"""The filter's own work per message, without its SMTP server: `Delivery.process` in one thread.

    python bench/delivery.py                 2,000 mails of 20 KB, 3 rounds
    python bench/delivery.py --size 200000 --count 500
    python bench/delivery.py --profile       cProfile of one round, by own time

Each message is planned, sealed for one external recipient whose account exists, put into
its carrier, recorded in a fresh SQLite keystore (the ledger entry and the exactly-once
records) and relayed into Postfix's `smtp-sink` (C, so the sink costs this process nothing),
exactly as the filter's worker threads do after the SMTP server has received it. The
baseline, in the same process and the same rounds, hands the same messages unchanged to the
same relay client. Printed per round: CPU milliseconds per message of each, and their ratio;
at the end the median. This is the part of a message's cost that the SMTP server does not
add (see `bench/filter.py` for the whole server, and docs/operations.md for the figures).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (
    ADVISER,
    CUSTOMER,
    KB,
    filter_environ,
    filter_runtime,
    free_port,
    message,
    smtp_sink,
    wait_port,
)


def cpu_per_message(work: Callable[[bytes], None], mails: list[bytes]) -> float:
    """CPU milliseconds per message of `work` over `mails`."""
    started = time.process_time()
    for mail in mails:
        work(mail)
    return (time.process_time() - started) / len(mails) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20 * KB, help="bytes per message")
    parser.add_argument("--count", type=int, default=2000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile one filter round")
    args = parser.parse_args()

    # Imported here, after the path is set: the gateway's modules, as the filter loads them.
    from webcrypt.smtp.delivery import Delivery

    sink_port = free_port()
    sink = subprocess.Popen(smtp_sink(sink_port))
    try:
        wait_port(sink_port)
        data_dir = tempfile.mkdtemp(prefix="webcrypt-bench-")
        environ = filter_environ(data_dir, free_port(), sink_port)  # the port stays unused
        delivery = Delivery(filter_runtime(environ))
        template = message(args.size)
        serial = iter(range(1 << 62))

        def mails() -> list[bytes]:
            """`count` messages, each with a Message-ID of its own (so none is a retry)."""
            return [
                template.replace(b"Subject:", b"Message-ID: <%d@bank.example>\r\nSubject:" % n, 1)
                for n in (next(serial) for _ in range(args.count))
            ]

        def filtered(mail: bytes) -> None:
            outcomes, _ = delivery.process(mail, ADVISER, [CUSTOMER], trusted=True)
            assert outcomes[0].result == "delivered", outcomes

        def relayed(mail: bytes) -> None:
            delivery.relay.send(mail, mail_from=ADVISER, rcpt_tos=[CUSTOMER])

        # Warm up: the account (argon2 for its PIN), the statements, the relay's connection.
        for mail in mails()[:50]:
            filtered(mail)
            relayed(mail)
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(cpu_per_message, filtered, mails())
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
            return
        print(f"{args.count} mails of {args.size} bytes per round, one thread, smtp-sink")
        print(f"{'round':>5} {'filter ms':>10} {'relay ms':>9} {'ratio':>6}")
        ratios = []
        for number in range(args.rounds):
            batch = mails()
            filter_ms = cpu_per_message(filtered, batch)
            relay_ms = cpu_per_message(relayed, batch)
            ratios.append(filter_ms / relay_ms)
            print(f"{number:>5} {filter_ms:>10.3f} {relay_ms:>9.3f} {ratios[-1]:>6.2f}")
        print(f"filter / relay CPU per message: {statistics.median(ratios):.2f}x (median)")
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
