"""Documents drawn from the curriculum for counselors: `craftbot graph` and `craftbot book`."""
