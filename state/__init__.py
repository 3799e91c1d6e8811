"""The engine side of craftbot: everything that is not Telegram.

Rooms, and what each may import (kept by tests/test_layering.py):

    contracts       the plain data the rooms pass each other          (nothing)
    curriculum/     what counselors write: schema, loading, validation (contracts)
    engine/         input + progress -> reply, synchronous, no I/O     (curriculum, contracts)
      safety/         crisis detection, the crisis guide and flow      (engine and below)
      between_sessions/ reminders, check-ins, reviews, settings       (engine and below)
    storage         the store's contract: its Protocols and records     (contracts)
    store/          the only room that touches the database            (contracts, storage)
    reports/        counts, never people: statistics and charts        (store, engine, ...)
    service/        async, no Telegram: one transaction per input      (all of the above)
"""
