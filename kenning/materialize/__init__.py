"""Materializers: projections (folds) of the eventlog into tables for reading."""
