"""scry: lexical, semantic and hybrid search, file reports, retrieval evaluation."""

import os

# Query-time numpy work is a few small matrix products: one BLAS thread is as fast and,
# on a busy machine, far steadier than a pool that spins. Only effective before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
