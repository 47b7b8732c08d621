# unionfeed: the scheduled container. One process schedules every source, crawls each in a child process,
# publishes feeds and serves them (with /healthz) on port 8080.
#   docker build -t unionfeed .
#   docker run -d -p 8080:8080 -v unionfeed-data:/data -v unionfeed-config:/config unionfeed
# See docs/operations.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependency layer: rebuilt only when pyproject.toml changes, not on every source edit.
COPY pyproject.toml ./
# Optional extras to include, e.g. --build-arg EXTRAS=postgres (the psycopg driver for a PostgreSQL store).
ARG EXTRAS=""
RUN python -m venv /opt/venv \
 && python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = os.environ.get('EXTRAS', '').replace(',', ' ').split(); \
print('\n'.join(p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]))" \
      > /tmp/requirements.txt \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install -r /tmp/requirements.txt
# The project itself, without touching the dependencies installed above.
COPY README.md ./
COPY src/ src/
COPY scrapers/ scrapers/
RUN /opt/venv/bin/pip install --no-deps . \
 && /opt/venv/bin/unionfeed --help > /dev/null \
 && /opt/venv/bin/pip uninstall --yes --quiet pip

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="unionfeed" \
      org.opencontainers.image.description="Monitoring feed of Vietnamese trade-union news"
# The working folder holds config -> /config and data -> /data: unionfeed's default paths (config/sources.yaml,
# data/) land on the volumes, so every command works without flags (docker run … unionfeed status).
RUN groupadd --system --gid 10001 unionfeed \
 && useradd --system --uid 10001 --gid unionfeed --home-dir /data --shell /usr/sbin/nologin unionfeed \
 && mkdir -p /data /config /app \
 && chown unionfeed:unionfeed /data \
 && ln -s /config /app/config \
 && ln -s /data /app/data
COPY --from=build /opt/venv /opt/venv
# The shipped sources and settings; a named volume on /config starts with these, a bind mount replaces them.
COPY config/ /config/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TZ=Asia/Ho_Chi_Minh \
    UNIONFEED_LOG_FORMAT=json
VOLUME ["/data", "/config"]
EXPOSE 8080
USER unionfeed
WORKDIR /app
# /healthz answers from the scheduler's own server thread: it fails when the process is gone or stuck.
HEALTHCHECK --interval=60s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
# SIGTERM (docker stop) lets a running crawl stop cleanly within --stop-grace seconds; give docker stop more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["unionfeed"]
CMD ["run", "--serve", "--host", "0.0.0.0", "--port", "8080", "--stop-grace", "8"]
