"""The error of a wrong configuration (apart from the loader, so that catching it is cheap)."""


class ConfigError(Exception):
    """A configuration value is wrong; the message names the key and what is allowed."""
