# The agent image: the `tether` package with its docker, kubernetes, ecs and cloud-run extras, git for git
# sources, run as a non-root user. It opens no port. Build from the repository root:
#   docker build -f infra/docker/agent.Dockerfile -t tether/agent:<version> .
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY agent/ /src/agent/
RUN /opt/venv/bin/pip install "/src/agent[docker,kubernetes,ecs,cloud-run]"

FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tether \
    && useradd --system --uid 10001 --gid tether --home /var/lib/tether --create-home tether
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /var/lib/tether
HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["tether", "agent", "status", "--quiet", "--work-dir", "/var/lib/tether"]
ENTRYPOINT ["tether", "agent"]
CMD ["start", "--pool", "default", "--work-dir", "/var/lib/tether"]
