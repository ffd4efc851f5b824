"""The logic behind every command: status, verify, export, and scrape-then-materialize."""
