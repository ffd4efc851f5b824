"""The eventlog: schema, writing in canonical order, and digests."""
