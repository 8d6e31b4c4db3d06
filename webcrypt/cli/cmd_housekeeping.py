"""`webcrypt housekeeping`: run the lifecycle jobs once (from cron or a systemd timer)."""

from __future__ import annotations

import logging
import sys

import click

from webcrypt.cli.state import Context, pass_context


@click.group(invoke_without_command=True)
@click.option("--quiet", is_flag=True, help="Print nothing unless something went wrong.")
@click.pass_context
def housekeeping(click_ctx: click.Context, quiet: bool) -> None:
    """Send due notices, rotate and destroy keys, delete unused accounts, purge the ledger.

    Safe to run from several hosts at once; run it every few minutes.
    """
    if click_ctx.invoked_subcommand is not None:
        return

    # heavy: the lifecycle jobs and the keystore only when the command runs, not for --help.
    from webcrypt.lifecycle.jobs import run_housekeeping

    ctx = click_ctx.find_object(Context)
    assert ctx is not None, "the webcrypt group sets the context"
    logging.basicConfig(
        level=getattr(logging, str(ctx.config.general.log_level).upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    runtime = ctx.runtime()
    try:
        report = run_housekeeping(runtime)
    finally:
        runtime.close()
    if not quiet or not report.ok:
        click.echo(report.summary())
    for failure in report.failures:
        click.echo(f"problem: {failure}", err=True)
    if not report.ok:
        sys.exit(1)


@housekeeping.command("read-receipts")
@click.argument("adviser")
@click.argument("state", type=click.Choice(["on", "off"]))
@pass_context
def read_receipts(ctx: Context, adviser: str, state: str) -> None:
    """Turn read receipts on or off for one ADVISER (an internal address)."""
    # heavy: the keystore (SQLAlchemy) only when the command runs, not for --help.
    from keystore.periodic import LifecycleService

    runtime = ctx.runtime()
    try:
        with runtime.keystore.session() as session:
            LifecycleService(session, clock=runtime.clock).set_adviser_read_receipts(
                adviser, state == "on", actor="command line"
            )
            runtime.keystore.audit(session).record(
                "adviser.read_receipts", actor="command line", target=adviser, detail=state
            )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ADVISER") from None
    finally:
        runtime.close()
    click.echo(f"read receipts for {adviser}: {state}")
