-- Each person's latest reply on its way out (state/store/replies.py, state/service/redelivery.py).
-- Written in the transaction that saves the turn (so a turn saved always has its reply), with
-- the update it answers and how many of its messages Telegram has accepted so far (`accepted`,
-- raised as each send is accepted). An update taken again after a kill sends the messages not
-- yet accepted; once the reply has gone out whole, `done_at` is set and `body` overwritten
-- with NULL (secure_delete is on), and the row stays, one per person, as the record that this
-- update's reply went out: a second delivery of it stays silent, on any instance. `body` is the
-- reply's messages and buttons as JSON, sealed with the person's data key like other stored
-- text (state/store/sealing.py): replies echo what the person wrote. The row goes with their
-- data (/delete, retention).
CREATE TABLE replies (
    user_id   INTEGER PRIMARY KEY,
    update_id INTEGER NOT NULL,
    body      TEXT,
    accepted  INTEGER NOT NULL DEFAULT 0,
    made_at   REAL NOT NULL,
    done_at   REAL
)
