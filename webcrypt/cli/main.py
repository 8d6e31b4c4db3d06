"""The `webcrypt` command: the composition root that wires filter, portal and keystore.

Each subcommand lives in a `cmd_*` module that is imported only when the command runs (or
``--help`` lists it); those modules import only click at the top and load the keystore,
the filter or the portal in the command's body. ``webcrypt --version`` and ``--help`` so
never load SQLAlchemy, aiosmtpd or Flask (``tests/webcrypt/test_cli_imports.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

import click

from keystore.errors import KeystoreError
from webcrypt import __version__
from webcrypt.cli.state import Context
from webcrypt.config.errors import ConfigError
from webcrypt.errors import WebcryptError

COMMANDS = {
    "admin": "webcrypt.cli.cmd_admin:admin",
    "config": "webcrypt.cli.cmd_serve:show_config",
    "filter": "webcrypt.cli.cmd_serve:filter_command",
    "housekeeping": "webcrypt.cli.cmd_housekeeping:housekeeping",
    "init": "webcrypt.cli.cmd_serve:init",
    "inspect": "webcrypt.cli.cmd_messages:inspect",
    "keys": "webcrypt.cli.cmd_keys:keys",
    "portal": "webcrypt.cli.cmd_serve:portal_command",
    "seal": "webcrypt.cli.cmd_messages:seal",
    "send-test": "webcrypt.cli.cmd_messages:send_test",
    "serve": "webcrypt.cli.cmd_serve:serve",
}
"""Every subcommand: its name and where it is defined ("module:attribute")."""


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when the command is needed.

    Turns configuration and keystore errors into one readable line and exit code 1.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, KeystoreError, WebcryptError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
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


if __name__ == "__main__":
    main()
