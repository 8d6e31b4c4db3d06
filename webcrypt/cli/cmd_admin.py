"""`webcrypt admin`: accounts of the admin frontend."""

from __future__ import annotations

import secrets
import sys

import click

from keystore.errors import KeystoreError
from keystore.roles import ROLES
from webcrypt.cli.state import Context, pass_context

MIN_PASSWORD = 12


#: No 0/o, 1/l/i: the password is read off a terminal and typed in.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    """Return a random one-time password that is easy to type (20 characters, ~99 bits)."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(5)) for _ in range(4))


@click.group()
def admin() -> None:
    """Create, list and disable admin and helpdesk accounts."""


@admin.command()
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="admin",
    show_default=True,
    help="admin: everything; helpdesk: recipient accounts only.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of generating one.",
)
@pass_context
def create(ctx: Context, email: str, role: str, password_stdin: bool) -> None:
    """Create an account for EMAIL and print its one-time password.

    The first login with it sets up the authenticator app and a password of one's own.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < MIN_PASSWORD:
            raise click.ClickException(
                f"the password from standard input must have at least {MIN_PASSWORD} characters"
            )
    else:
        password = generate_password()
    runtime = ctx.runtime()
    try:
        with runtime.keystore.session() as session:
            try:
                account = runtime.keystore.admins(session).create(
                    email, role=role, password=password
                )
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            runtime.keystore.audit(session).record(
                "admin.create", actor="cli", target=account.email, detail=f"role {role}"
            )
            address = account.email
    finally:
        runtime.close()
    click.echo(f"created {role} account {address}")
    if not password_stdin:
        click.echo(f"one-time password: {password}")
        click.echo("log in at /admin: the first login sets up two-factor login and a new password")


@admin.command("list")
@pass_context
def list_admins(ctx: Context) -> None:
    """List every account with its role and state."""
    runtime = ctx.runtime()
    try:
        with runtime.keystore.session() as session:
            accounts = runtime.keystore.admins(session).list()
            rows = [
                (
                    account.email,
                    account.role,
                    "disabled" if account.disabled else "enabled",
                    "2fa" if account.totp_secret else "2fa pending",
                    account.last_login_at.strftime("%Y-%m-%d %H:%M")
                    if account.last_login_at
                    else "never",
                )
                for account in accounts
            ]
    finally:
        runtime.close()
    if not rows:
        click.echo("no admin accounts; create one with: webcrypt admin create EMAIL")
        return
    width = max(len(row[0]) for row in rows)
    for email, role, state, factor, last in rows:
        click.echo(f"{email:<{width}}  {role:<8}  {state:<8}  {factor:<11}  last login {last}")


def _change(ctx: Context, email: str, what: str) -> str:
    """Apply `what` ("disable", "enable", "reset-2fa") to the account of EMAIL."""
    runtime = ctx.runtime()
    try:
        with runtime.keystore.session() as session:
            service = runtime.keystore.admins(session)
            account = service.get(email)
            if account is None:
                raise click.ClickException(f"no admin account for {email}")
            if what == "disable":
                service.disable(account)
            elif what == "enable":
                service.enable(account)
            else:
                service.set_totp_secret(account, None)
            runtime.keystore.audit(session).record(
                f"admin.{what}", actor="cli", target=account.email
            )
            return str(account.email)
    except KeystoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()


@admin.command()
@click.argument("email")
@pass_context
def disable(ctx: Context, email: str) -> None:
    """Disable the account of EMAIL: it can no longer log in, open sessions end."""
    click.echo(f"disabled {_change(ctx, email, 'disable')}")


@admin.command()
@click.argument("email")
@pass_context
def enable(ctx: Context, email: str) -> None:
    """Enable a disabled account again."""
    click.echo(f"enabled {_change(ctx, email, 'enable')}")


@admin.command("reset-2fa")
@click.argument("email")
@pass_context
def reset_2fa(ctx: Context, email: str) -> None:
    """Forget the authenticator of EMAIL (lost phone): the next login sets up a new one."""
    click.echo(f"two-factor login of {_change(ctx, email, 'reset-2fa')} will be set up again")
