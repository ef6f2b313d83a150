"""``hour_of``: the UTC hour a moment falls in, as the funnel keys its rows (the text is
remembered per hour, so that a replay does not build it for every event)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from projections.read_model import hour_of


def test_the_hour_is_the_utc_hour_whatever_the_zone_and_however_close_to_its_edges() -> None:
    wib, wita, wit = (timezone(timedelta(hours=h)) for h in (7, 8, 9))
    assert hour_of(datetime(2021, 1, 13, 18, 30, tzinfo=wib)) == "2021-01-13T11:00:00+00:00"
    assert hour_of(datetime(2021, 1, 1, 6, 59, 59, 999_999, tzinfo=wib)) == "2020-12-31T23:00:00+00:00"
    assert hour_of(datetime(2021, 1, 1, 7, 0, tzinfo=wib)) == "2021-01-01T00:00:00+00:00"
    assert hour_of(datetime(2021, 1, 1, 8, 0, tzinfo=wita)) == hour_of(datetime(2021, 1, 1, 9, 0, tzinfo=wit))
    rng = random.Random(12)
    for _ in range(20_000):
        zone = rng.choice([wib, wita, wit, UTC, timezone(timedelta(hours=-5, minutes=-30))])
        moment = datetime(2020, 1, 1, tzinfo=zone) + timedelta(seconds=rng.randint(0, 10**8),
                                                               microseconds=rng.randint(0, 999_999))
        assert hour_of(moment) == moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0).isoformat()
