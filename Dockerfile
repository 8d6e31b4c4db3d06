# syntax=docker/dockerfile:1
# WebCrypt gateway image: `webcrypt serve` by default; `webcrypt filter` or `webcrypt portal`
# for one part only. Configuration comes from WEBCRYPT_* environment variables
# (see docs/configuration.md); secrets are passed at run time, never baked in.

ARG PYTHON_VERSION=3.11

# --- build: the webcrypt wheel and wheels of every runtime dependency -------------------
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY keystore ./keystore
COPY webcrypt ./webcrypt
COPY portal ./portal
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgresql,mariadb,redis]"

# --- runtime: the wheels installed into a slim image, run as an unprivileged user --------
FROM python:${PYTHON_VERSION}-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/webcrypt --create-home \
        --shell /usr/sbin/nologin webcrypt
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "webcrypt[postgresql,mariadb,redis]"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WEBCRYPT_GENERAL_DATA_DIR=/var/lib/webcrypt \
    WEBCRYPT_FILTER_LISTEN=0.0.0.0:10025 \
    WEBCRYPT_PORTAL_LISTEN=0.0.0.0:8080

USER webcrypt
WORKDIR /var/lib/webcrypt
VOLUME ["/var/lib/webcrypt"]
EXPOSE 8080 10025

# The portal answers /healthz once it can serve requests (a container running only the
# filter overrides this check; see compose.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

ENTRYPOINT ["webcrypt"]
CMD ["serve"]
