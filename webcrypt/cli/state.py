"""The state shared by every `webcrypt` subcommand."""

from __future__ import annotations

import click

from webcrypt.config.loader import Config, default_file, load_config
from webcrypt.runtime import Runtime


class Context:
    """Lazily loaded configuration and runtime, shared by the subcommands."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path or default_file())
        return self._config

    def runtime(self) -> Runtime:

        return Runtime(self.config)


pass_context = click.make_pass_decorator(Context)
