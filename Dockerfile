# craftbot in a container: the bot, its bundled curriculum and nothing else; progress in /data.
#   docker build -t craftbot .
#   docker run -e CRAFTBOT_TELEGRAM_TOKEN -e CRAFTBOT_DATA_KEY -v craftbot-data:/data craftbot
# Every setting comes from the environment as CRAFTBOT_SECTION__KEY (see config.example.yaml),
# or from a mounted file: ... craftbot run --config /config/config.yaml

# Stage 1: build the wheel (the curriculum travels inside it as package data).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY bot/ bot/
COPY state/ state/
COPY curriculum/ curriculum/
# requirements.txt names the wheel with the `postgres` extra (its file name carries the version).
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && set -- /wheels/*.whl && echo "$1[postgres]" > /wheels/requirements.txt

# Stage 2: install it with its dependencies, without the build's files or pip's cache. The
# `postgres` extra (psycopg with its own libpq, psycopg_pool) comes too, so one image runs on
# SQLite (the default) or, with CRAFTBOT_STORAGE__URL, on PostgreSQL as one of several instances.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRAFTBOT_STORAGE__DATABASE=/data/craftbot.sqlite3
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --requirement /wheels/requirements.txt && rm -rf /wheels \
    && useradd --system --uid 10001 --no-log-init --home-dir /data --create-home \
        --shell /usr/sbin/nologin craftbot \
    && chmod 700 /data
USER 10001
WORKDIR /data
VOLUME ["/data"]
# Healthy while the bot answers 200 on /healthz: its update loop has fetched from Telegram
# lately and its database takes a write (503 "polling" or "database" otherwise). The bot serves
# it on metrics.listen (127.0.0.1:9464 by default); the probe asks the port that
# CRAFTBOT_METRICS__LISTEN names, if set. The first minute is grace for the first long poll.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('CRAFTBOT_METRICS__LISTEN', ':9464').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
ENTRYPOINT ["craftbot"]
CMD ["run"]
