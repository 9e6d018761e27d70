"""Backoff schedules, with no ORM."""

DEFAULT_SCHEDULE = "10, 60, 300, 1800, 7200"


def parse_schedule(text):
    """Delays in seconds of a comma-separated schedule such as ``"10, 60, 300"``."""
    delays = []
    for raw in (text or "").split(","):
        part = raw.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"'{part}' is not a whole number of seconds")
        delays.append(int(part))
    if not delays:
        raise ValueError("the backoff schedule needs at least one delay")
    return delays


def delay_after(attempt, schedule):
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Past the end of the schedule the last delay repeats.
    """
    delays = parse_schedule(schedule)
    return delays[min(attempt, len(delays)) - 1]
