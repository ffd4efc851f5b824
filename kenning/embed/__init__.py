"""Embedding models (onnxruntime in bulk, numpy for queries, a static model distilled
from MiniLM) and the content-addressed vector cache."""
