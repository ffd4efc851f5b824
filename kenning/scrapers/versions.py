"""Each scraper's version: bump it when what it makes from the same input changes
(events, or a unit's status such as "partial").

The engine puts it into every unit's fingerprint and into the scrape position,
so an upgraded kenning reads again what its scrapers now read differently, even
on an unchanged commit (before, the no-op check kept the old events). A module
of its own, so that check needs no scraper imported (code and sessions take
~100 ms to import).
"""

VERSIONS = {"git": 2, "sessions": 7, "code": 15}
