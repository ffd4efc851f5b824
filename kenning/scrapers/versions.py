"""Each scraper's version and the options it reads. Bump a version when what the
scraper makes from the same input changes (events, or a unit's status such as
"partial").

The engine puts it into every unit's fingerprint and into the scrape position,
so an upgraded kenning reads again what its scrapers now read differently, even
on an unchanged commit (before, the no-op check kept the old events). A module
of its own, so that check needs no scraper imported (code and sessions take
~100 ms to import).
"""

VERSIONS = {"git": 2, "sessions": 7, "code": 19}

# The scrape options (kenning.scrapers.base.ScrapeOptions) each scraper's events depend
# on. They join its version in the fingerprints, so a changed option re-reads exactly
# the scrapers it concerns, once; every other scraper's units stay as they are.
OPTIONS = {"git": (), "sessions": ("session_paths", "worktree"),
           "code": ("code_max_bytes", "code_exclude", "code_extensions",
                    "session_paths")}  # documentation files outside the session paths
