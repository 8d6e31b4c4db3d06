"""`webcrypt inspect`, `seal` and `send-test`: envelopes from the command line."""

from __future__ import annotations

import click

from webcrypt.envelope import EnvelopeError
from webcrypt.securehtm import extract_envelope


@click.command()
@click.argument("file", type=click.File("rb"))
def inspect(file: click.utils.LazyFile) -> None:
    """Print the authenticated header of a secure.htm (or .eml) without decrypting it."""
    from webcrypt.envelope import parse

    try:
        header = parse(extract_envelope(file.read())).header
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
