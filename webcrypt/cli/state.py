"""The state shared by every `webcrypt` subcommand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from webcrypt.config.loader import Config
    from webcrypt.runtime import Runtime


class Context:
    """Lazily loaded configuration and runtime, shared by the subcommands."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            # The schema and its parsers only when a command reads the configuration.
            from webcrypt.config.loader import default_file, load_config

            self._config = load_config(self.config_path or default_file())
        return self._config

    def runtime(self) -> Runtime:
        """Open the keystore and what else a process needs (`webcrypt.runtime.Runtime`)."""
        # heavy: the keystore (SQLAlchemy) only for a command that uses it, not for --help.
        from webcrypt.runtime import Runtime

        return Runtime(self.config)


pass_context = click.make_pass_decorator(Context)
