"""What counselors write: the YAML schema, loading, the two validation passes, markup,
locale texts, moves and step fingerprints. No asyncio, no SQL; imports only `state.contracts`.
"""
