"""One portal application per test process and configuration, lent to each test in turn.

`portal.create_app` costs about 15 ms, most of it werkzeug compiling a builder for each of
the portal's URL rules; the portal and admin tests ask for an application about 500 times.
An application holds nothing of a test but its extensions (the runtime, the account mailer
made on first use), its configuration and the rate limiter's counters, so `portal_app`
builds one for each distinct configuration and, each time it lends it again, restores the
extensions and the configuration it was built with, gives it the test's runtime and clears
the counters.

A test that changes an application in any other way must build its own with `create_app`.
Every lent application has served a request before a test sees it, and Flask refuses new
routes and handlers after that: a test that adds one fails instead of leaking it into the
next test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from portal import create_app
from portal.context import RUNTIME_KEY
from webcrypt.runtime import Runtime

_LENT: dict[tuple[Any, ...], tuple[Flask, dict[str, Any], dict[str, Any]]] = {}


def _shape(runtime: Runtime, test_config: Mapping[str, object]) -> tuple[Any, ...] | None:
    """What `create_app` turns into the application, or None where it must be built anew.

    The [portal] values named here are all that `create_app` reads of the configuration;
    the session secret must come from `test_config` (otherwise it is read from the test's
    own folder), and the rate limits must be counted in memory (cleared per test).
    """
    portal = runtime.config.portal
    if "SECRET_KEY" not in test_config or not str(portal.ratelimit_storage).startswith("memory:"):
        return None
    settings = tuple(sorted((key, repr(value)) for key, value in test_config.items()))
    return (
        str(portal.public_url),
        tuple(portal.public_url_aliases),
        int(portal.trusted_proxies),
        str(portal.ratelimit_storage),
        settings,
    )


def portal_app(runtime: Runtime, test_config: Mapping[str, object]) -> Flask:
    """The portal application around `runtime`, as `create_app(runtime, test_config)` builds it."""
    shape = _shape(runtime, test_config)
    if shape is None:
        return create_app(runtime, test_config)
    lent = _LENT.get(shape)
    if lent is None:
        app = create_app(runtime, test_config)
        # Served once, so that Flask refuses setup methods (see above).
        assert app.test_client().get("/favicon.ico").status_code == 200
        extensions = {key: value for key, value in app.extensions.items() if key != RUNTIME_KEY}
        _LENT[shape] = (app, dict(app.config), extensions)
        return app
    app, config, extensions = lent
    app.extensions.clear()
    app.extensions.update(extensions)
    app.extensions[RUNTIME_KEY] = runtime
    app.config.clear()
    app.config.update(config)
    app.extensions["portal.limiter"].reset()
    return app
