"""The long-running commands: `webcrypt serve`, `filter` and `portal`.

`serve` runs filter and portal in one process (the embedded default). `filter` runs the
filter in one process per worker (`filter.workers`, see `webcrypt.cli.workers`); with one
worker it runs in this process, as `serve` does. The portal is one process with threads;
run several `webcrypt portal` behind a proxy for more.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable

import click

from webcrypt import __version__
from webcrypt.bootstrap import initialize, is_embedded_default
from webcrypt.cli.banner import banner_next_steps
from webcrypt.cli.state import Context
from webcrypt.cli.stopping import Wakeup, run_until_stopped
from webcrypt.cli.workers import Supervisor, listening_sockets, worker_count
from webcrypt.config.loader import Config
from webcrypt.lifecycle.jobs import Scheduler
from webcrypt.runtime import Runtime, return_large_buffers

log = logging.getLogger("webcrypt")

DRAIN_TIMEOUT = 30.0
"""Seconds a stopping filter lets the messages it has accepted finish."""


def setup_logging(config: Config, *, with_pid: bool = False) -> None:
    """Log one line per event to stderr at the configured level (with the process id)."""
    pid = " [%(process)d]" if with_pid else ""
    logging.basicConfig(
        level=getattr(logging, str(config.general.log_level).upper()),
        format=f"%(asctime)s %(levelname)s{pid} %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def prepare(ctx: Context, *, with_pid: bool = False) -> Config:
    """Log, warn about insecure settings, and initialize the embedded defaults on first start."""
    config = ctx.config
    setup_logging(config, with_pid=with_pid)
    for warning in config.warnings():
        log.warning(warning)
    report = initialize(config, create_master_key=is_embedded_default(config))
    for item in report.created:
        click.echo(f"created {item}")
    return config


def _start_filter(runtime: Runtime, sock: socket.socket | None = None) -> Callable[[], None]:
    """Start the filter on its event loop thread; return its stop."""
    # aiosmtpd only in a process that runs the filter (not `webcrypt portal`, nor --help).
    from webcrypt.smtp.handler import FilterServer

    return_large_buffers()  # freed message buffers go back to the system (the memory bound)
    filter_server = FilterServer(runtime, sock=sock)
    filter_server.start()
    return lambda: filter_server.stop(DRAIN_TIMEOUT)


def _start_housekeeping(runtime: Runtime, cleanups: list[Callable[[], None]]) -> None:
    """Run the housekeeping jobs in this process when configured so."""
    config = runtime.config
    if config.housekeeping.mode == "internal":
        scheduler = Scheduler(runtime, interval=config.housekeeping.interval)
        scheduler.start()
        cleanups.append(scheduler.stop)


def _banner(config: Config, *, with_filter: bool, with_portal: bool, workers: int = 1) -> str:
    lines = [f"WebCrypt {__version__}"]
    if with_filter:
        processes = f", {workers} worker processes" if workers > 1 else ""
        lines.append(
            f"  filter   smtp://{config.filter.listen} ({config.filter.protocol}{processes})"
        )
        lines.append(f"  relay    {config.describe_value('filter.relay')}")
    if config.housekeeping.mode == "internal":
        lines.append(f"  housekeeping every {config.housekeeping.interval} s")
    if with_portal:
        lines.append(f"  portal   {config.portal.public_url} (listening on {config.portal.listen})")
    lines.append(f"  keystore {config.describe_value('keystore.url')}")
    lines.append(f"  master key {config.keystore.master_key_file}")
    lines.append(f"  config   {config.source}")
    lines += banner_next_steps(config, with_filter=with_filter, with_portal=with_portal)
    return "\n".join(lines)


def serve(ctx: Context, *, with_filter: bool, with_portal: bool) -> None:
    """Run the filter, the portal or both in this process until SIGTERM or Ctrl-C."""
    config = prepare(ctx)
    wakeup = Wakeup().install()  # a SIGTERM while starting stops the process once it runs
    runtime = Runtime(config)
    cleanups: list[Callable[[], None]] = [runtime.close]
    if with_filter:
        cleanups.append(_start_filter(runtime))
    _start_housekeeping(runtime, cleanups)

    block: Callable[[], None] | None = None
    if with_portal:
        # Flask only in a process that runs the portal: the filter never loads it (and this
        # is the one import of portal from below it, see the import-linter contract).
        import portal

        # waitress with request and response bodies held in memory (no temporary files).
        server = portal.create_server(runtime)
        cleanups.append(server.close)
        block = server.run

    click.echo(_banner(config, with_filter=with_filter, with_portal=with_portal))
    stopped = run_until_stopped(block, cleanups, wakeup)
    if stopped.stop_signal is None:  # the portal's server ended by itself
        raise SystemExit(1)


def filter_worker(config: Config, sock: socket.socket, slot: int, wakeup: Wakeup) -> int:
    """One worker of `webcrypt filter --workers N`: serve on `sock` until SIGTERM."""
    runtime = Runtime(config)
    cleanups: list[Callable[[], None]] = [runtime.close, _start_filter(runtime, sock)]
    if slot == 0:
        _start_housekeeping(runtime, cleanups)
    run_until_stopped(None, cleanups, wakeup)
    return 0


def serve_filter(ctx: Context, workers: int | None) -> None:
    """Run the filter: in this process with one worker, else in forked worker processes."""
    count = worker_count(ctx.config.filter.workers if workers is None else workers)
    if count == 1:
        serve(ctx, with_filter=True, with_portal=False)
        return
    config = prepare(ctx, with_pid=True)
    # The filter's modules are loaded once here, before the workers are forked.
    from webcrypt.smtp import handler  # noqa: F401

    sockets = listening_sockets(str(config.filter.listen), count)
    supervisor = Supervisor(config, sockets, filter_worker, drain_timeout=DRAIN_TIMEOUT)
    status = supervisor.run(
        ready=lambda: click.echo(
            _banner(config, with_filter=True, with_portal=False, workers=count)
        )
    )
    click.echo("stopped", err=True)
    if status:
        raise SystemExit(status)
