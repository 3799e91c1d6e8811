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
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: install it with its dependencies, without the build's files or pip's cache.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRAFTBOT_STORAGE__DATABASE=/data/craftbot.sqlite3
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --no-log-init --home-dir /data --create-home \
        --shell /usr/sbin/nologin craftbot \
    && chmod 700 /data
USER 10001
WORKDIR /data
VOLUME ["/data"]
# Until the bot serves /healthz (127.0.0.1:9464, a later change), healthy means: a `craftbot run`
# process is alive (process 1 is compose's init, so every process is looked at) and the
# database opens read-only and answers. The first minute is grace: the bot creates the database.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import glob, os, sqlite3; assert any(b'craftbot\\x00run' in open(p, 'rb').read() for p in glob.glob('/proc/[0-9]*/cmdline')); sqlite3.connect('file:' + os.environ['CRAFTBOT_STORAGE__DATABASE'] + '?mode=ro', uri=True).execute('select count(*) from sqlite_master').fetchone()"]
ENTRYPOINT ["craftbot"]
CMD ["run"]
