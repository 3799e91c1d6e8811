"""The bot's metrics, in counts and timings only: no ids, no words, nothing about a person.

Every metric lives in `REGISTRY` (prometheus-client's own registry, not its global one, so
tests and a second application in one process start from a known set) and is served as
Prometheus text by `GET /metrics` (`bot.ops.health`). Other modules import the objects
below and count what they see:

- `UPDATES` by kind, `REPLY_SECONDS`, `TURN_SECONDS`, `CRISIS` by pathway: `bot.ptb.app`;
- `TELEGRAM_ERRORS`, `TELEGRAM_RETRY_AFTER`: every Bot API call, at the transport
  (`bot.ptb.observed`);
- `REMINDERS_DUE`, `REMINDERS_SENT`, `REMINDERS_FAILED`: the reminder sender (`bot.ptb.reminders`);
- `PARKED_UPDATES`: the update loop (`bot.ptb.updater`) and the inbox workers, for each update
  they park;
- `WEBHOOK_REQUESTS` by outcome, `INBOX_QUEUED`, `INBOX_OLDEST_SECONDS`: webhook mode
  (`bot.ptb.webhook`, `bot.ptb.inbox`);
- `OUTBOX_ALONE`: the outgoing budget's share of the one shared by all instances
  (`bot.ptb.pace`), each time the database did not answer in time;
- `craftbot_curriculum{role="served"|"published", version}` and `craftbot_curriculum_behind`:
  read at each scrape from the function `watch_curriculum` is given (`bot.ptb.app`).

Label values are short codes from a fixed set (input kinds, crisis pathway names from the
curriculum, outcomes), so the number of series stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from state.contracts import Command, Input, Other, Press, Reply, TextIn

REGISTRY = CollectorRegistry(auto_describe=True)
KINDS = ("text", "command", "press", "other", "edit")
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

UPDATES = Counter("craftbot_updates_handled", "Updates handled, by kind of input",
                  ["kind"], registry=REGISTRY)
REPLY_SECONDS = Histogram("craftbot_reply_seconds",
                          "Seconds from taking up an update to its reply sent to Telegram",
                          buckets=SECONDS, registry=REGISTRY)
TURN_SECONDS = Histogram("craftbot_database_turn_seconds",
                         "Seconds of one turn of the conversation service: progress read, engine,"
                         " write and commit (the database's share of a reply)",
                         buckets=SECONDS, registry=REGISTRY)
PROBE_SECONDS = Gauge("craftbot_database_probe_seconds",
                      "Seconds the last health probe's write transaction took", registry=REGISTRY)
CRISIS = Counter("craftbot_crisis_interrupts", "Crisis interrupts, by crisis pathway",
                 ["pathway"], registry=REGISTRY)
REMINDERS = Counter("craftbot_reminders", "Reminders: fallen due (claimed), sent, failed",
                    ["outcome"], registry=REGISTRY)
REMINDERS_DUE = REMINDERS.labels(outcome="due")
REMINDERS_SENT = REMINDERS.labels(outcome="sent")
REMINDERS_FAILED = REMINDERS.labels(outcome="failed")
TELEGRAM_ERRORS = Counter("craftbot_telegram_errors",
                          "Bot API calls that failed: network (no answer), client (4xx), server (5xx)",
                          ["kind"], registry=REGISTRY)
TELEGRAM_RETRY_AFTER = Counter("craftbot_telegram_retry_after",
                               "Bot API calls Telegram refused with 429 (retry after)", registry=REGISTRY)
PARKED_UPDATES = Counter("craftbot_parked_updates",
                         "Updates the update loop set aside instead of handling them now",
                         registry=REGISTRY)
SINCE_FETCH = Gauge("craftbot_seconds_since_fetch",
                    "Seconds since the update loop last fetched updates from Telegram", registry=REGISTRY)
WEBHOOK_REQUESTS = Counter("craftbot_webhook_requests",
                           "Webhook requests: stored (new update), duplicate, refused (secret),"
                           " bad (4xx), failed (not stored: 503, Telegram sends again)",
                           ["outcome"], registry=REGISTRY)
WEBHOOK_OUTCOMES = ("stored", "duplicate", "refused", "bad", "failed")
OUTBOX_ALONE = Counter("craftbot_outbox_alone",
                       "Times the outgoing budget shared by all instances (PostgreSQL) did not answer"
                       " in time and this instance kept to its own pace for a few seconds",
                       registry=REGISTRY)
INBOX_QUEUED = Gauge("craftbot_inbox_queued", "Updates in the webhook inbox not yet handled",
                     registry=REGISTRY)
INBOX_OLDEST_SECONDS = Gauge("craftbot_inbox_oldest_seconds",
                             "Age of the oldest update in the webhook inbox not yet handled (0: none)",
                             registry=REGISTRY)

# (served, published or None, whether the published one cannot be served here)
CurriculumStatus = Callable[[], tuple[str, str | None, bool]]


class CurriculumCollector(Collector):
    """The curriculum versions, read when scraped: the served one and the published one."""

    def __init__(self) -> None:
        self.status: CurriculumStatus | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Two gauges: each version by role (1), and whether this instance is behind (0/1)."""
        if self.status is None:
            return
        served, published, behind = self.status()
        versions = GaugeMetricFamily("craftbot_curriculum", "Curriculum versions: the one served by"
                                     " this instance and the one published in the database",
                                     labels=["role", "version"])
        versions.add_metric(["served", served], 1)
        if published is not None:
            versions.add_metric(["published", published], 1)
        yield versions
        yield GaugeMetricFamily("craftbot_curriculum_behind", "1 when this instance cannot serve"
                                " the published curriculum (its folder holds another version)",
                                value=1 if behind else 0)


CURRICULUM = CurriculumCollector()
REGISTRY.register(CURRICULUM)


def watch_curriculum(status: CurriculumStatus) -> None:
    """Report the curriculum versions from `status` at every scrape (the newest bot's)."""
    CURRICULUM.status = status


for _kind in KINDS:  # every series exists from the start, at 0
    UPDATES.labels(kind=_kind)
for _kind in ("network", "client", "server"):
    TELEGRAM_ERRORS.labels(kind=_kind)
for _kind in WEBHOOK_OUTCOMES:
    WEBHOOK_REQUESTS.labels(outcome=_kind)


def input_kind(message: Input) -> str:
    """The kind an input is counted under: text, command, press, edit or other."""
    if isinstance(message, TextIn):
        return "text"
    if isinstance(message, Command):
        return "command"
    if isinstance(message, Press):
        return "press"
    if isinstance(message, Other) and message.what == "edit":
        return "edit"
    return "other"


def count_reply(message: Input, reply: Reply, seconds: float) -> None:
    """Count one handled update: its kind, how long its reply took, the crisis interrupts it held."""
    UPDATES.labels(kind=input_kind(message)).inc()
    REPLY_SECONDS.observe(seconds)
    for event in reply.events:
        if event.kind == "crisis":
            CRISIS.labels(pathway=event.detail or "unknown").inc()


def count_telegram_answer(code: int | None) -> None:
    """Count a Bot API call's failure: None for no answer at all, else the HTTP status."""
    if code is None:
        TELEGRAM_ERRORS.labels(kind="network").inc()
    elif code == 429:
        TELEGRAM_RETRY_AFTER.inc()
        TELEGRAM_ERRORS.labels(kind="client").inc()
    elif 400 <= code < 500:
        TELEGRAM_ERRORS.labels(kind="client").inc()
    elif code >= 500:
        TELEGRAM_ERRORS.labels(kind="server").inc()


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus's text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
