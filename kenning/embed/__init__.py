"""Embedding backends (sentence-transformers in bulk, numpy for queries) and the vector cache."""
