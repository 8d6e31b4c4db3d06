"""`webcrypt inspect`, `seal` and `send-test`: envelopes from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import click

from webcrypt.cli.state import Context, pass_context


@click.command()
@click.argument("file", type=click.File("rb"))
def inspect(file: BinaryIO) -> None:
    """Print the authenticated header of a secure.htm (or .eml) without decrypting it."""
    # heavy: the envelope format (cryptography) only when the command runs, not for --help.
    from webcrypt.envelope import EnvelopeError
    from webcrypt.sealing.securehtm import read_envelope

    try:
        header = read_envelope(file.read()).header
    except EnvelopeError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from None
    rows = [
        ("format", f"webcrypt/v{header.version}"),
        ("message id", header.message_id),
        ("recipient", header.recipient),
        ("sender", header.sender),
        ("key", f"{header.key_id} version {header.key_version}"),
        ("created", header.created.isoformat()),
        ("expires", header.expires.isoformat()),
        ("portal", header.portal_url),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name.ljust(width)}  {value}")
    click.echo(
        "(the header is authenticated only when the message is opened with the key)", err=True
    )


@click.command("send-test")
@click.option("--to", "recipient", required=True, help="External address to send the test to.")
@click.option(
    "--from",
    "sender",
    help="Internal sender (the adviser). Default: adviser@ the first internal domain.",
)
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for the filter.")
@pass_context
def send_test(ctx: Context, recipient: str, sender: str | None, timeout: float) -> None:
    """Send a test mail through the running filter and show how to open it."""
    # heavy: smtplib and the email package only when the command runs, not for --help.
    from webcrypt.cli.sendtest import send_test_mail

    send_test_mail(ctx.config, recipient, sender, timeout)


@click.command()
@click.option("--to", "recipient", required=True, help="The recipient's address.")
@click.option(
    "--from",
    "sender",
    help="The sender shown in the envelope. Default: noreply@ the first internal domain.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write secure.htm. Default: standard output.",
)
@click.argument("file", type=click.File("rb"))
@pass_context
def seal(
    ctx: Context, recipient: str, sender: str | None, output: str | None, file: BinaryIO
) -> None:
    """Seal the message in FILE (an RFC 5322 mail, - for stdin) into secure.htm for one recipient.

    For batch senders such as invoicing jobs: a new recipient gets an account, and its
    one-time PIN is printed to standard error, to be passed on by phone or letter.
    """
    # heavy: envelope and secure.htm only when the command runs, not for --help.
    from webcrypt.runtime import return_large_buffers
    from webcrypt.sealing.batch import seal_one

    return_large_buffers()  # the sealed pieces go back to the system once written
    runtime = ctx.runtime()
    try:
        sender = sender or f"noreply@{runtime.internal_domains().domains[0]}"
        result = seal_one(runtime, file.read(), recipient=recipient, sender=sender)
    finally:
        runtime.close()
    if output:
        with Path(output).open("wb") as page:
            result.write(page)
    else:
        sys.stdout.flush()
        result.write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    click.echo(f"sealed message {result.message_id} for {result.recipient}", err=True)
    if result.pin:
        click.echo(
            f"new account {result.recipient}: one-time PIN {result.pin} "
            "(pass it on by phone or letter, never by mail)",
            err=True,
        )
