"""The engine: one input and a person's progress in, one reply out; synchronous, no I/O.

Its core (the engine, the turn, step views, the state machine, catch-up, discreet mode)
imports `state.curriculum` and `state.contracts`; its two sub-rooms, `safety` and
`between_sessions`, may use the core, and only the core's `engine` module uses them.
"""
