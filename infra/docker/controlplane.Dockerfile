# The control plane image: the SPA built in a Node stage, the Python dependencies built into a
# virtual environment in a second, and a runtime stage with neither compilers nor Node, as a
# non-root user. One image for web, worker, beat and migrate (docker-compose.yml).
FROM node:20.20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11.14-slim-bookworm AS python-deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/ /tmp/requirements/
RUN /opt/venv/bin/pip install -r /tmp/requirements/prod.txt

FROM python:3.11.14-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=controlplane.settings.prod \
    TETHER_FRONTEND_DIST=/srv/tether/app/frontend/dist \
    TETHER_STATIC_ROOT=/srv/tether/static
RUN groupadd --system --gid 10001 tether && useradd --system --uid 10001 --gid tether --home /srv/tether tether
COPY --from=python-deps /opt/venv /opt/venv
WORKDIR /srv/tether/app
COPY manage.py ./
COPY controlplane/ controlplane/
COPY --from=frontend /src/frontend/dist frontend/dist
# Placeholders for this one command only (RUN, not ENV: nothing stays in the image). The code
# and static files stay owned by root: the app user can read them, not change them.
RUN TETHER_SECRET_KEY=build-only-placeholder-secret-key-not-used-at-runtime \
    TETHER_MASTER_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    TETHER_ALLOWED_HOSTS=localhost TETHER_PUBLIC_URL=https://localhost \
    python manage.py collectstatic --noinput
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["uvicorn", "controlplane.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off", "--proxy-headers", "--forwarded-allow-ips", "*"]
