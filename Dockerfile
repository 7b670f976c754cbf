# demo-relay: the service and its page in one image.
#
#   docker build -t demo-relay .        (after `make install`, which builds the page into the sources)
#
# BASE_IMAGE is any Debian bookworm: debian:bookworm-slim where a registry answers, else the local base
# scripts/local-images makes with debootstrap. Stage 1 installs the product (no dev extras) into a
# virtualenv; stage 2 carries that virtualenv alone, runs as a non-root user and reports readiness.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS python
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

FROM python AS build
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# The page is part of the package (entrypoints/http/page); building it needs Node 20+ (make install).
RUN test -f src/entrypoints/http/page/index.html \
 || { echo "the page is not built: run make install (or npm --prefix frontend run build) first" >&2; exit 1; }
RUN python3 -m venv /opt/demo-relay \
 && /opt/demo-relay/bin/pip install --no-cache-dir --disable-pip-version-check -q -c requirements.lock .

FROM python AS runtime
COPY --from=build /opt/demo-relay /opt/demo-relay
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/demo-relay demo-relay
USER demo-relay
# Made by its user, so a named volume mounted here starts out writable by it.
RUN mkdir -p /var/lib/demo-relay/data
WORKDIR /var/lib/demo-relay
# Listen on every interface; DATA_DIR holds local media (mount a volume shared by the instances).
ENV PATH=/opt/demo-relay/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/var/lib/demo-relay/data \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# Ready = database reachable, migrations applied, not draining (SIGTERM turns it 503 at once).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["demo-relay", "serve"]
