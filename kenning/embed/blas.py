"""Query-time linear algebra on one BLAS thread.

numpy's OpenBLAS starts one thread per core for every product. A query's
products are small (a dozen tokens through MiniLM, one matrix-vector product
over the stored vectors), and on a busy machine those threads wait for each
other: the numpy query encoder took 60-417 ms per query with two threads at a
load of 3.4 on two cores, and 24 ms on one. The limit holds only inside the
`with` block, so a library user's own numpy keeps its threads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_controller: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    global _controller
    if _controller is None:  # after numpy is loaded: the controller finds its BLAS then
        import numpy  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
