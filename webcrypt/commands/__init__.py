"""Subcommands of `webcrypt`, one module per area."""

from __future__ import annotations

import click

from webcrypt.commands.keys import keys
from webcrypt.commands.messages import inspect, seal, send_test

COMMANDS: list[click.Command] = [keys, seal, inspect, send_test]
