"""`webcrypt init`, `config`, `serve`, `filter` and `portal`: setting up and running."""

from __future__ import annotations

import click

from webcrypt.cli.state import Context, pass_context


@click.command()
@pass_context
def init(ctx: Context) -> None:
    """Create the data folder, master key and session key, and migrate the keystore."""
    # heavy: the keystore and its migrations (SQLAlchemy, Alembic) only when the command runs.
    from webcrypt.bootstrap import initialize

    report = initialize(ctx.config)
    for item in report.created:
        click.echo(f"created {item}")
    click.echo(f"keystore ready (master key {report.master_key.key_id})")


@click.command("config")
@click.option("--reference", is_flag=True, help="Print every key with help, as Markdown.")
@pass_context
def show_config(ctx: Context, reference: bool) -> None:
    """Print the effective configuration, secrets masked."""
    if reference:
        # The schema's reference text: the config loader only when the command runs.
        from webcrypt.config.loader import reference as config_reference

        click.echo(config_reference(), nl=False)
        return
    config = ctx.config
    click.echo(f"# source: {config.source}")
    for key, value, origin in config.describe():
        click.echo(f"{key} = {value}" + ("" if origin == "default" else f"    # from {origin}"))
    for warning in config.warnings():
        click.echo(f"warning: {warning}", err=True)


@click.command()
@pass_context
def serve(ctx: Context) -> None:
    """Run the filter and the portal in one process (the embedded default)."""
    # heavy: keystore, filter and portal only when the command runs, not for --help.
    from webcrypt.cli import serving

    serving.serve(ctx, with_filter=True, with_portal=True)


@click.command("filter")
@click.option(
    "--workers",
    type=click.IntRange(0, 256),
    help="Filter processes on the one listen address; 0 = one per core. "
    "Default: filter.workers of the configuration.",
)
@pass_context
def filter_command(ctx: Context, workers: int | None) -> None:
    """Run only the SMTP/LMTP content filter, in one process per core."""
    # heavy: keystore and filter only when the command runs, not for --help.
    from webcrypt.cli import serving

    serving.serve_filter(ctx, workers)


@click.command("portal")
@pass_context
def portal_command(ctx: Context) -> None:
    """Run only the web portal."""
    # heavy: keystore and portal only when the command runs, not for --help.
    from webcrypt.cli import serving

    serving.serve(ctx, with_filter=False, with_portal=True)
