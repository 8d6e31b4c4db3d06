"""The `webcrypt` command: the composition root that wires filter, portal and keystore."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from keystore.errors import KeystoreError
from webcrypt import __version__
from webcrypt.bootstrap import initialize, is_embedded_default
from webcrypt.cli.banner import banner_next_steps
from webcrypt.cli.commands import COMMANDS
from webcrypt.cli.state import Context, pass_context
from webcrypt.config.loader import Config, ConfigError
from webcrypt.config.loader import reference as config_reference
from webcrypt.errors import WebcryptError
from webcrypt.lifecycle.jobs import Scheduler

log = logging.getLogger("webcrypt")


class FriendlyGroup(click.Group):
    """Turn configuration and keystore errors into one readable line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:

        try:
            return super().invoke(ctx)
        except (ConfigError, KeystoreError, WebcryptError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=FriendlyGroup)
@click.option(
    "--config",
    "config_path",
    envvar="WEBCRYPT_CONFIG",
    type=click.Path(dir_okay=False),
    help="Configuration file (TOML). Default: ./webcrypt.toml, else var/webcrypt.toml, "
    "else built-in defaults; WEBCRYPT_* variables override it.",
)
@click.version_option(__version__, prog_name="webcrypt")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """WebCrypt secure-mail gateway."""
    ctx.obj = Context(config_path)


def setup_logging(config: Config) -> None:
    """Log one line per event to stderr at the configured level."""
    logging.basicConfig(
        level=getattr(logging, str(config.general.log_level).upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@pass_context
def init(ctx: Context) -> None:
    """Create the data folder, master key and session key, and migrate the keystore."""

    report = initialize(ctx.config)
    for item in report.created:
        click.echo(f"created {item}")
    click.echo(f"keystore ready (master key {report.master_key.key_id})")


@main.command("config")
@click.option("--reference", is_flag=True, help="Print every key with help, as Markdown.")
@pass_context
def show_config(ctx: Context, reference: bool) -> None:
    """Print the effective configuration, secrets masked."""
    if reference:
        click.echo(config_reference(), nl=False)
        return
    config = ctx.config
    click.echo(f"# source: {config.source}")
    for key, value, origin in config.describe():
        click.echo(f"{key} = {value}" + ("" if origin == "default" else f"    # from {origin}"))
    for warning in config.warnings():
        click.echo(f"warning: {warning}", err=True)


def _prepare(ctx: Context) -> Any:
    """Initialize the embedded defaults on first start, then build the runtime."""

    config = ctx.config
    setup_logging(config)
    for warning in config.warnings():
        log.warning(warning)
    report = initialize(config, create_master_key=is_embedded_default(config))
    for item in report.created:
        click.echo(f"created {item}")
    return ctx.runtime()


class Stop(Exception):
    """Raised in the main thread by SIGTERM to leave the server loop."""


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    # Further signals must not interrupt the drain that follows.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Stop


def _run_until_stopped(block: Callable[[], None], cleanups: list[Callable[[], None]]) -> None:
    """Run `block` until Ctrl-C or SIGTERM, then run every cleanup in reverse order."""
    signal.signal(signal.SIGTERM, _on_stop_signal)
    signal.signal(signal.SIGINT, _on_stop_signal)
    try:
        block()
    except Stop:
        click.echo("stopping: finishing messages in progress ...", err=True)
    finally:
        for cleanup in reversed(cleanups):
            try:
                cleanup()
            except Exception:
                log.exception("error while stopping")
        click.echo("stopped", err=True)


def _wait_for_signal() -> None:
    """Block the main thread until a signal handler raises."""
    threading.Event().wait()


def _serve(ctx: Context, *, with_filter: bool, with_portal: bool) -> None:
    runtime = _prepare(ctx)
    config = runtime.config
    cleanups: list[Callable[[], None]] = [runtime.close]
    lines = [f"WebCrypt {__version__}"]

    if with_filter:
        # aiosmtpd only in a process that runs the filter (not `webcrypt portal`, nor --help).
        from webcrypt.smtp.handler import FilterServer

        filter_server = FilterServer(runtime)
        filter_server.start()
        cleanups.append(filter_server.stop)
        lines.append(f"  filter   smtp://{config.filter.listen} ({config.filter.protocol})")
        lines.append(f"  relay    {config.describe_value('filter.relay')}")

    if config.housekeeping.mode == "internal":
        scheduler = Scheduler(runtime, interval=config.housekeeping.interval)
        scheduler.start()
        cleanups.append(scheduler.stop)
        lines.append(f"  housekeeping every {config.housekeeping.interval} s")

    block: Callable[[], None]
    if with_portal:
        # Flask only in a process that runs the portal: the filter never loads it (and this
        # is the one import of portal from below it, see the import-linter contract).
        import portal

        # waitress with request and response bodies held in memory (no temporary files).
        server = portal.create_server(runtime)
        cleanups.append(server.close)
        block = server.run
        lines.append(f"  portal   {config.portal.public_url} (listening on {config.portal.listen})")
    else:
        block = _wait_for_signal

    lines.append(f"  keystore {config.describe_value('keystore.url')}")
    lines.append(f"  master key {config.keystore.master_key_file}")
    lines.append(f"  config   {config.source}")
    lines += banner_next_steps(config, with_filter=with_filter, with_portal=with_portal)
    click.echo("\n".join(lines))
    _run_until_stopped(block, cleanups)


@main.command()
@pass_context
def serve(ctx: Context) -> None:
    """Run the filter and the portal in one process (the embedded default)."""
    _serve(ctx, with_filter=True, with_portal=True)


@main.command("filter")
@pass_context
def filter_command(ctx: Context) -> None:
    """Run only the SMTP/LMTP content filter."""
    _serve(ctx, with_filter=True, with_portal=False)


@main.command("portal")
@pass_context
def portal_command(ctx: Context) -> None:
    """Run only the web portal."""
    _serve(ctx, with_filter=False, with_portal=True)


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
