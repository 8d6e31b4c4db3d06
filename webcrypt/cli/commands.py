"""Subcommands of `webcrypt`, one module per area."""

from __future__ import annotations

import click

from webcrypt.cli.cmd_admin import admin
from webcrypt.cli.cmd_housekeeping import housekeeping
from webcrypt.cli.cmd_keys import keys
from webcrypt.cli.cmd_messages import inspect, seal, send_test

COMMANDS: list[click.Command] = [admin, keys, seal, inspect, send_test, housekeeping]
