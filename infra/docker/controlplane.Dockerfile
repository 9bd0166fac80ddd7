# The control plane image: the SPA built in a Node stage, served by the Python stage.
FROM node:20.20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11.14-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=controlplane.settings.prod \
    TETHER_FRONTEND_DIST=/srv/tether/app/frontend/dist \
    TETHER_STATIC_ROOT=/srv/tether/static
RUN groupadd --system tether && useradd --system --gid tether --home /srv/tether tether
WORKDIR /srv/tether/app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/prod.txt
COPY manage.py ./
COPY controlplane/ controlplane/
COPY --from=frontend /src/frontend/dist frontend/dist
RUN TETHER_SECRET_KEY=build-only-placeholder-secret-key-not-used-at-runtime \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    TETHER_ALLOWED_HOSTS=localhost TETHER_PUBLIC_URL=https://localhost \
    python manage.py collectstatic --noinput \
    && chown -R tether:tether /srv/tether
USER tether
EXPOSE 8000
CMD ["uvicorn", "controlplane.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off", "--proxy-headers", "--forwarded-allow-ips", "*"]
