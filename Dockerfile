# genvid's container image: Debian's Python, genvid installed from the production lock, a non-root user.
#   docker build -t genvid .            (or: make image, which also starts it and checks /health)
#   docker run -e PORT=8080 ... genvid            web (gunicorn on $PORT)
#   docker run ... genvid worker | genvid release  the Procfile's other process types
#   docker run ... genvid genvid credits grant you@example.com 100 --reason launch   any other command
# Configuration is the environment, exactly as on Heroku (README: Configuration, Deploy to Heroku).
ARG BASE=docker.io/library/debian:bookworm-slim

FROM ${BASE} AS build
# Both empty unless given (`make image` gives them where the machine needs it): extra apt-get options (a host
# whose clock is off needs the Release files' dates unchecked), and a CA bundle mounted into the build for pip
# behind a TLS-inspecting proxy (`buildah bud -v "$CA:/run/build-ca.crt:ro" --build-arg
# BUILD_CA_BUNDLE=/run/build-ca.crt`); the bundle is only mounted while RUN steps run, never stored.
ARG APT_OPTIONS=""
ARG BUILD_CA_BUNDLE=""
RUN apt-get ${APT_OPTIONS} update \
 && apt-get ${APT_OPTIONS} install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first (their layer is reused until the lock changes), then the project without dependencies.
COPY requirements.txt ./
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN if [ -n "$BUILD_CA_BUNDLE" ]; then export PIP_CERT="$BUILD_CA_BUNDLE"; fi \
 && python3 -m venv /opt/genvid \
 && grep -v -E '^\.([[:space:]]|$)' requirements.txt > /tmp/dependencies.txt \
 && /opt/genvid/bin/pip install -r /tmp/dependencies.txt
COPY setup.cfg pyproject.toml README.md ./
COPY genvid genvid
COPY db db
COPY migrations migrations
RUN if [ -n "$BUILD_CA_BUNDLE" ]; then export PIP_CERT="$BUILD_CA_BUNDLE"; fi \
 && /opt/genvid/bin/pip install --no-deps . \
 && /opt/genvid/bin/pip check \
 && rm -rf /opt/genvid/lib/python3*/site-packages/pip /opt/genvid/lib/python3*/site-packages/setuptools

FROM ${BASE}
ARG APT_OPTIONS=""
RUN apt-get ${APT_OPTIONS} update \
 && apt-get ${APT_OPTIONS} install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/genvid --shell /usr/sbin/nologin genvid \
 && mkdir -p /var/lib/genvid/media && chown genvid:genvid /var/lib/genvid/media
COPY --from=build /opt/genvid /opt/genvid
WORKDIR /app
COPY Procfile gunicorn.conf.py wsgi.py ./
COPY container/procfile-run /usr/local/bin/procfile-run
ENV PATH=/opt/genvid/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    PORT=8080 \
    MEDIA_DIR=/var/lib/genvid/media
USER genvid
EXPOSE 8080
# /health touches nothing but the web process (see genvid/http/health.py); only meaningful for the web type.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=4)"]
ENTRYPOINT ["procfile-run"]
CMD ["web"]
