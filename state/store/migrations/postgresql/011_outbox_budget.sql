-- One outgoing budget per bot, shared by every instance (state/store/pgbudget.py reads and
-- writes it; bot/ptb/outbox.py decides what to ask). A token bucket: `tokens` messages may go
-- now, refilled at the bot's rate up to its burst as the bucket's time moves on. Times are
-- seconds since the epoch from the instances' clocks (NTP keeps them within milliseconds);
-- `updated_at` only moves forward, so a clock a little ahead refills a little early once,
-- never again and again. `hold_until` is a 429 for the whole bot that one instance met: every
-- instance holds until then. `bot` is a hash of the bot's token, never the token. Nothing
-- about a person is kept here.
CREATE TABLE outbox_budget (
    bot        TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    hold_until DOUBLE PRECISION NOT NULL DEFAULT 0
);

-- Take up to `wanted` messages from `who`'s bucket, leaving at least `reserve` in it (a
-- negative reserve lets crisis help go into debt, and ignores a hold: it goes whatever this
-- answers). One statement, one round trip: the row is locked FOR UPDATE for its instant, so
-- instances asking at once are served one after the other. A clock more than `tolerance`
-- seconds behind the bucket's time is believed rather than waited for (`clock_behind`; the
-- caller logs it): a wrong clock must not stop every other instance's messages.
CREATE FUNCTION outbox_take(who TEXT, now DOUBLE PRECISION, rate DOUBLE PRECISION,
                            capacity DOUBLE PRECISION, wanted INTEGER, reserve DOUBLE PRECISION,
                            tolerance DOUBLE PRECISION)
RETURNS TABLE (taken INTEGER, left_tokens DOUBLE PRECISION, held_until DOUBLE PRECISION,
               clock_behind BOOLEAN) LANGUAGE sql AS $$
    WITH seen AS (
        SELECT b.bot, b.hold_until AS hold, b.updated_at AS since,
               now < b.updated_at - tolerance AS behind,
               least(capacity, b.tokens + rate * greatest(0, now - b.updated_at)) AS refilled
        FROM outbox_budget AS b WHERE b.bot = who
        FOR UPDATE
    ), granting AS (
        SELECT s.*, CASE WHEN reserve >= 0 AND s.hold > now THEN 0
                         ELSE least(wanted, greatest(0, floor(s.refilled - reserve)))::INTEGER END AS n
        FROM seen AS s
    )
    UPDATE outbox_budget AS b
    SET tokens = g.refilled - g.n,
        updated_at = CASE WHEN g.behind THEN now ELSE greatest(g.since, now) END
    FROM granting AS g WHERE b.bot = g.bot
    RETURNING g.n, b.tokens, b.hold_until, g.behind
$$
