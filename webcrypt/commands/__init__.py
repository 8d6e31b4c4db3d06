"""Subcommands of `webcrypt`, one module per area."""

from __future__ import annotations

import click

from webcrypt.commands.admin import admin
from webcrypt.commands.housekeeping import housekeeping
from webcrypt.commands.keys import keys
from webcrypt.commands.messages import inspect, seal, send_test

COMMANDS: list[click.Command] = [admin, keys, seal, inspect, send_test, housekeeping]
