"""`webcrypt keys`: recipient key versions and the master key."""

from __future__ import annotations

import os
from pathlib import Path

import click

from webcrypt.cli.state import Context, pass_context


@click.group()
def keys() -> None:
    """Rotate recipient keys or the master key."""


@keys.command()
@click.argument("address", required=False)
@click.option("--all", "all_recipients", is_flag=True, help="Rotate every recipient's key.")
@pass_context
def rotate(ctx: Context, address: str | None, all_recipients: bool) -> None:
    """Add a new key version for ADDRESS (or --all); new messages use it."""
    if bool(address) == all_recipients:
        raise click.UsageError("give either one ADDRESS or --all")
    runtime = ctx.runtime()
    try:
        with runtime.keystore.session() as session:
            recipients = runtime.keystore.recipients(session)
            if all_recipients:
                count = recipients.rotate_all_keys()
                click.echo(f"rotated the keys of {count} recipients")
                return
            assert address is not None
            recipient = recipients.get(address)
            if recipient is None:
                raise click.ClickException(f"no recipient account for {address}")
            version = recipients.rotate_key(recipient)
            click.echo(f"{recipient.address}: new key version {version}")
    finally:
        runtime.close()


@keys.command("rotate-master")
@pass_context
def rotate_master(ctx: Context) -> None:
    """Re-wrap every recipient key under a new master key, in one transaction."""
    # heavy: the keystore (SQLAlchemy) only when the command runs, not for --help.
    from keystore.masterkey import MasterKey
    from keystore.masterrotation import rotate_master_key
    from webcrypt.bootstrap import MASTER_KEY_ENV, write_secret_file

    runtime = ctx.runtime()
    new_key = MasterKey.generate()
    key_path = Path(ctx.config.keystore.master_key_file)
    from_env = bool(os.environ.get(MASTER_KEY_ENV))
    staged = key_path.with_name(key_path.name + ".new")
    try:
        if not from_env:
            if staged.exists():
                raise click.ClickException(
                    f"{staged} exists from an interrupted rotation: check which key the keystore "
                    "uses, keep that one as the master key file, delete the other, and run again"
                )
            # Write the new key before the database changes so no crash can leave keys
            # wrapped under a master key that exists nowhere.
            write_secret_file(staged, (new_key.to_base64() + "\n").encode())
        count = rotate_master_key(runtime.keystore, new_key)
    except BaseException:
        # The transaction rolled back: the keystore still uses the old master key.
        if not from_env:
            staged.unlink(missing_ok=True)
        raise
    finally:
        runtime.close()
    if from_env:
        click.echo(f"re-wrapped {count} keys. Set {MASTER_KEY_ENV} on every instance to:")
        click.echo(new_key.to_base64())
        return
    backup = key_path.with_name(key_path.name + ".old")
    os.replace(key_path, backup)
    os.replace(staged, key_path)
    click.echo(f"re-wrapped {count} keys under master key {new_key.key_id}")
    click.echo(
        f"the previous master key is in {backup}: copy {key_path} to every instance, "
        "then destroy the backup"
    )
