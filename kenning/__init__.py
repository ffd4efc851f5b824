"""kenning: a deterministic eventlog of a repository's history, notes and code.

    import kenning

    with kenning.open(".") as k:
        k.scrape()
        answer = k.scry("why did we drop the cache")

`kenning.open` and the `Kenning` handle load on first use, so `import kenning`
stays cheap for the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Bumped whenever a scraper or the canonical encoding changes what the
# eventlog holds for the same repository; part of every digest.
FORMAT_VERSION = 1

if TYPE_CHECKING:
    from kenning.api.handle import DigestReport, Kenning, ScrapeReport, open
    from kenning.errors import KenningError
    from kenning.eventlog.reader import StoredEvent
    from kenning.scry.code_lookup import Call, Definition
    from kenning.scry.search import Answer, Result

__all__ = ["Answer", "Call", "Definition", "DigestReport", "Kenning", "KenningError",
           "Result", "ScrapeReport", "StoredEvent", "open"]

_HOMES = {"open": "kenning.api.handle", "Kenning": "kenning.api.handle",
          "ScrapeReport": "kenning.api.handle", "DigestReport": "kenning.api.handle",
          "KenningError": "kenning.errors", "StoredEvent": "kenning.eventlog.reader",
          "Call": "kenning.scry.code_lookup", "Definition": "kenning.scry.code_lookup",
          "Answer": "kenning.scry.search", "Result": "kenning.scry.search"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'kenning' has no attribute {name!r}")
