"""kenning: a deterministic eventlog of a repository's history, notes and code."""

__version__ = "0.1.0"

# Bumped whenever a scraper or the canonical encoding changes what the
# eventlog holds for the same repository; part of every digest.
FORMAT_VERSION = 1
