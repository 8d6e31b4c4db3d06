"""Benchmark the portal: secure.htm to the rendered message page, against envelope.open.

For messages of about 100 KB, 2 MB and 10 MB (text, HTML and an incompressible PDF) this
measures, in one run, two ways a logged-in recipient opens a message:

* button: secure.htm's button posts the envelope to /open (multipart, as its form says);
  the page that comes back is posted on to /read the way its form says (its enctype),
  and the rendered message page comes back;
* upload: secure.htm is uploaded as a file on /upload (multipart) and the rendered
  message page comes back;

each against the envelope's own parse + open of the same armored text, run in turns with
it (median wall and CPU time of each, and the median ratio portal / open of the pairs).
Request bodies are encoded once beforehand, as the browser encodes them: the portal's time
is from the request body in to the page out (Flask test client in-process).

Also printed: the peak memory (tracemalloc) of one upload and of one envelope open, and
where the portal's CPU time goes, in more opens with timers around its steps (each step's
own time, without the steps it calls; a step that a flow should run but did not fails the run):
form (parsing the posted form), extract (the envelope out of secure.htm), unarmor
(envelope.parse: the header), check (the login, ledger and keystore look-ups), decrypt
(envelope.open), limits (the MIME limit scan), parse (the MIME tree), view (decoding parts,
headers, attachments), sanitize (nh3 on HTML bodies), render (the page templates with the
carried envelope) and the rest (other: Flask, sessions, the response).

Run: .venv/bin/python bench/portal.py [--repeat N]
"""

from __future__ import annotations

import argparse
import html
import importlib
import io
import os
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Collection
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.support.runtime import build_runtime, folder_environ, seal_for
from webcrypt import envelope
from webcrypt.runtime import Runtime
from webcrypt.sealing.securehtm import extract_envelope, render_secure_htm

ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.com"
PASSWORD = "benchmark password 2026"
SIZES = {"100 KB": 100 * 1024, "2 MB": 2 * 1024 * 1024, "10 MB": 10 * 1024 * 1024}
TEXT = "Guten Tag,\nanbei die Unterlagen.\n"
HTML = "<p>Guten Tag,</p><p>anbei die <b>Unterlagen</b>.</p>"


def build_message(size: int) -> bytes:
    """Return a mail of about `size` bytes: text and HTML plus an incompressible PDF."""
    message = EmailMessage(policy=SMTP)
    message["From"] = ADVISER
    message["To"] = CUSTOMER
    message["Subject"] = "Benchmark"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@bank.example>"
    message.set_content(TEXT)
    message.add_alternative(HTML, subtype="html")
    # base64 in the mail adds a third (and line breaks); aim for the total size.
    payload = max(1024, int(size * 0.735) - 1024)
    message.add_attachment(
        os.urandom(payload), maintype="application", subtype="pdf", filename="scan.pdf"
    )
    return message.as_bytes()


def make_runtime(directory: Path) -> Runtime:
    """Build a runtime on a fresh SQLite keystore (with the real password hashing)."""
    return build_runtime(folder_environ(directory), fast=False)


def seal_for_customer(runtime: Runtime, raw: bytes) -> str:
    """Seal `raw` for the customer as the filter does (account, key, ledger); return secure.htm."""
    sealed = seal_for(runtime, raw, to=CUSTOMER, sender=ADVISER, days=30)
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipient = recipients.get(CUSTOMER)
        assert recipient is not None
        if recipient.password_hash is None:
            recipients.set_password(recipient, PASSWORD)
    return render_secure_htm(sealed.armored, sealed.header)


def csrf(page: bytes) -> str:
    """Return the CSRF token of a page."""
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token"
    return match.group(1).decode()


Body = tuple[bytes, str]  # a request body and its Content-Type


def multipart(fields: dict[str, Any]) -> Body:
    """Encode a multipart/form-data body as a browser sends it."""
    boundary, data = encode_multipart(fields)
    return data, f"multipart/form-data; boundary={boundary}"


def form_body(page: bytes, action: str) -> Body:
    """Encode the form of `page` that posts to `action` the way its enctype says.

    Hidden fields are sent with their values; line ends in them as CRLF, as browsers do.
    """
    forms = re.findall(rb"<form\b([^>]*)>(.*?)</form>", page, re.DOTALL)
    found = [(tag, content) for tag, content in forms if f'action="{action}"'.encode() in tag]
    assert len(found) == 1, f"no single form posts to {action}"
    tag, content = found[0]
    fields = {
        html.unescape(name.decode()): html.unescape(value.decode()).replace("\n", "\r\n")
        for name, value in re.findall(
            rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', content
        )
    }
    assert "envelope" in fields, f"the form to {action} carries no envelope"
    if b'enctype="multipart/form-data"' in tag:
        return multipart(fields)
    return urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded"


class Split:
    """CPU time spent in the portal's steps while they are patched in.

    Each step is patched where the portal calls it (where the name was imported); a step's
    time is its own, without the time of the timed steps it calls. CPU time of this process
    (everything runs in it) is measured: it is little disturbed by other work on the machine.
    """

    STEPS = (
        ("form", "werkzeug.formparser", "FormDataParser.parse"),
        ("extract", "portal.reader", "read_envelope"),
        ("unarmor", "webcrypt.envelope", "parse"),
        ("unarmor", "webcrypt.sealing.securehtm", "parse"),
        ("check", "portal.reading", "_check"),
        ("decrypt", "webcrypt.envelope", "open"),
        ("limits", "portal.reader", "check_limits"),
        ("limits", "portal.reading", "check_limits"),
        ("parse", "portal.mimeview", "parse"),
        ("view", "portal.reading", "build_view"),
        ("sanitize", "portal.mimeview", "clean_html"),
        ("render", "portal.reading", "render_carrying"),
        ("render", "portal.reader", "render_carrying"),
    )

    def __init__(self) -> None:
        self.seconds = dict.fromkeys((step for step, _, _ in self.STEPS), 0.0)
        self.calls = dict.fromkeys(self.seconds, 0)
        self.runs = 0
        self.total = 0.0
        self._inner: list[float] = []  # time of timed steps inside the running ones

    def measure(self, action: Callable[[], object], expected: Collection[str]) -> None:
        """Run `action` with the steps timed; fail if a step in `expected` was not called."""
        unknown = set(expected) - set(self.seconds)
        assert not unknown, f"no such steps: {unknown}"
        calls = dict(self.calls)
        originals = []
        for step, module_name, name in self.STEPS:
            owner: Any = importlib.import_module(module_name)
            *path, attribute = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = (
                owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
            )
            originals.append((owner, attribute, original))
            setattr(owner, attribute, self._timed(step, original))
        try:
            start = time.process_time()
            action()
            self.total += time.process_time() - start
        finally:
            for owner, attribute, original in reversed(originals):
                setattr(owner, attribute, original)
        self.runs += 1
        missing = [step for step in expected if self.calls[step] == calls[step]]
        assert not missing, (
            f"steps that did not run (no longer timed where they are patched): {missing}"
        )

    def _timed(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.calls[step] += 1
            self._inner.append(0.0)
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.process_time() - start
                inner = self._inner.pop()
                self.seconds[step] += elapsed - inner
                if self._inner:
                    self._inner[-1] += elapsed

        return timed

    def line(self) -> str:
        """The mean split in milliseconds, with the rest of the time as "other"."""
        seconds = {step: value / self.runs for step, value in self.seconds.items()}
        seconds["other"] = self.total / self.runs - sum(seconds.values())
        return " ".join(f"{step} {value * 1000:.1f}" for step, value in seconds.items())


Timing = tuple[float, float, float, float, float, float]
"""Medians of one pairing: portal wall, open wall, their ratio, portal CPU, open CPU, ratio."""


def paired_times(
    portal: Callable[[], object], baseline: Callable[[], object], repeat: int
) -> Timing:
    """Time `portal` and `baseline` in turns; return the medians and the median ratios.

    Each portal run is compared with the baseline run just before it, so that a change in
    the machine's load moves both. CPU time (this process) is less disturbed than wall
    time when other work shares the machine.
    """
    rows = []
    for _ in range(repeat):
        row = []
        for action in (portal, baseline):
            start, cpu = time.perf_counter(), time.process_time()
            action()
            row += [time.perf_counter() - start, time.process_time() - cpu]
        rows.append(row)
    wall, cpu, base_wall, base_cpu = (
        statistics.median(column) for column in zip(*rows, strict=True)
    )
    wall_ratio = statistics.median(row[0] / row[2] for row in rows)
    cpu_ratio = statistics.median(row[1] / row[3] for row in rows)
    return wall, base_wall, wall_ratio, cpu, base_cpu, cpu_ratio


def peak_memory(action: Callable[[], object]) -> int:
    """Return the peak Python memory allocated while `action` runs, in bytes."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


COMMON = ("form", "check", "decrypt", "limits", "parse", "view", "sanitize", "render")
FLOWS = {"button": (*COMMON, "unarmor"), "upload": (*COMMON, "extract", "unarmor")}


def measure(client: Any, runtime: Runtime, label: str, size: int, repeat: int) -> None:
    """Time and measure one message size; print its lines."""
    raw = build_message(size)
    secure_htm = seal_for_customer(runtime, raw).encode()
    armored = extract_envelope(secure_htm)
    token = csrf(client.get("/upload").data)

    def post(path: str, body: Body) -> bytes:
        response = client.post(path, data=body[0], content_type=body[1])
        assert response.status_code == 200, (path, response.status)
        return bytes(response.data)

    def shown(page: bytes) -> None:
        assert b"scan.pdf" in page and b"Unterlagen" in page, "not the message page"

    # What secure.htm's form sends: the button's lang and the textarea's text (the envelope
    # without its last line end, CRLF line ends).
    button = multipart({"lang": "en", "envelope": armored.rstrip("\n").replace("\n", "\r\n")})
    read = form_body(post("/open", button), "/read")
    upload = multipart(
        {"csrf_token": token, "file": FileStorage(io.BytesIO(secure_htm), "secure.htm")}
    )
    flows = {
        "button": lambda: shown(post("/read", read)) if post("/open", button) else None,
        "upload": lambda: shown(post("/upload", upload)),
    }

    def envelope_open() -> None:
        with runtime.keystore.session() as session:
            recipients = runtime.keystore.recipients(session)
            recipient = recipients.get(CUSTOMER)
            parsed = envelope.parse(armored)
            key = recipients.key(recipient.id, parsed.header.key_version)
        assert envelope.open(parsed, key) == raw

    for flow in flows.values():
        flow()  # warm up templates and caches
    for name, flow in flows.items():
        wall, open_wall, wall_ratio, cpu, open_cpu, cpu_ratio = paired_times(
            flow, envelope_open, repeat
        )
        split = Split()
        for _ in range(repeat):
            split.measure(flow, FLOWS[name])
        body = (read if name == "button" else upload)[0]
        print(
            f"{label:>8} {name:>7} {len(body) / 2**20:>5.1f}MB {wall * 1000:>7.1f}ms "
            f"{open_wall * 1000:>7.1f}ms {wall_ratio:>5.1f}x "
            f"{cpu * 1000:>7.1f}ms {open_cpu * 1000:>7.1f}ms {cpu_ratio:>5.1f}x"
        )
        print(f"{'':>16} split (CPU ms, mean of {repeat}): {split.line()}")
    portal_peak = peak_memory(flows["upload"])
    open_peak = peak_memory(envelope_open)
    print(
        f"{'':>16} peak memory: upload {portal_peak / 2**20:.1f}MB, open {open_peak / 2**20:.1f}MB"
    )


def main() -> None:
    """Run the benchmark and print the lines of each message size."""
    from portal import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=0, help="runs per size (default: by size)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        runtime = make_runtime(Path(directory))
        app = create_app(
            runtime,
            {
                "SECRET_KEY": "benchmark",
                "RATELIMIT_OPEN": "100000 per minute",
                "RATELIMIT_UPLOAD": "100000 per minute",
                "RATELIMIT_LOGIN": "100000 per minute",
            },
        )
        client = app.test_client()
        seal_for_customer(runtime, build_message(1024))  # account with a password
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"csrf_token": csrf(page.data), "email": CUSTOMER, "password": PASSWORD},
        )
        assert response.status_code == 302, "login failed"

        print(
            f"{'message':>8} {'flow':>7} {'body':>7} {'portal':>9} {'open':>9} {'ratio':>6} "
            f"{'portal cpu':>9} {'open cpu':>9} {'ratio':>6}"
        )
        for label, size in SIZES.items():
            measure(client, runtime, label, size, args.repeat or (20 if size < 2**20 else 5))
        runtime.close()


if __name__ == "__main__":
    main()
