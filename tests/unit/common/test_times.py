import datetime

from overcast.common.times import iso, iso_seconds


def test_forms():
    moment = datetime.datetime(2026, 11, 22, 2, 30, 3, 120)
    assert iso(moment) == "2026-11-22T02:30:03.000120Z"
    assert iso_seconds(moment) == "2026-11-22T02:30:03Z"
    assert iso(moment.replace(tzinfo=datetime.UTC).timestamp()) == "2026-11-22T02:30:03.000120Z"
    aware = datetime.datetime(2026, 11, 22, 3, 30, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert iso_seconds(aware) == "2026-11-22T02:30:03Z"
    assert iso(None) is None and iso_seconds(None) is None
    assert iso(datetime.datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000000Z"
