"""The registry of scrapers, in the order they run (later ones read git history)."""

from __future__ import annotations

import importlib

from kenning.scrapers.base import Scraper

# name -> "module:Class"; imported only when that scraper runs.
SCRAPERS: dict[str, str] = {
    "git": "kenning.scrapers.git:GitScraper",
    "sessions": "kenning.scrapers.sessions:SessionScraper",
    "code": "kenning.scrapers.code:CodeScraper",
}


def load(name: str) -> Scraper:
    module, _, cls = SCRAPERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
