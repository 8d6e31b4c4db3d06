"""What `webcrypt serve` tells the operator last: what to do next, and what to fix."""

from __future__ import annotations

from webcrypt.config.loader import Config


def banner_next_steps(config: Config, *, with_filter: bool, with_portal: bool) -> list[str]:
    """Return the closing lines of the start-up banner: the next steps, then the warnings."""
    lines = [""]
    if with_filter:
        lines += [
            "Next: send a test mail through it; it prints where its secure.htm is and the PIN:",
            "  .venv/bin/webcrypt send-test --to you@example.com",
        ]
        if with_portal:
            lines.append(
                f"  then open that secure.htm in a browser: it leads to {config.portal.public_url}"
            )
    if with_portal:
        lines += [
            "Admin frontend: create an account with",
            f"  .venv/bin/webcrypt admin create admin@{config.filter.internal_domains[0]}",
            f"  then log in at {config.portal.public_url}/admin",
        ]
    from_environment = sorted(
        origin for origin in set(config.origins.values()) if origin.startswith("WEBCRYPT_")
    )
    if from_environment:
        lines += [
            "Set in the environment: " + ", ".join(from_environment) + ".",
            "  Other webcrypt commands see these only when set again: put them in "
            "webcrypt.toml instead.",
        ]
    lines += [f"Check: {warning}" for warning in config.warnings()]
    lines.append("Stop with Ctrl-C.")
    return lines
