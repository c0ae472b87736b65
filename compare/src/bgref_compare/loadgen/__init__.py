"""The load generator and its client side: the generator's process (run as
``python -m bgref_compare.loadgen._loadgen``), its HTTP/1.1 client, the accounting of
every request against the log, and the bench that starts a stack and a generator run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgref_compare._lazy import lazy_names

if TYPE_CHECKING:
    from ._accounting import FAILED, Accounting, account, classify, count_messages
    from ._bench import Bench, CpuPlan, LoadGenError, LoadOutcome, RunningStack, new_run_id
    from ._connection import BALANCED, HOT, POLICIES, ROUND_ROBIN, Connection, ConnectionPool
    from ._histogram import LogHistogram
    from ._http import HTTPParseError, RequestTemplate, Response, ResponseParser, post_request
    from ._loadgen import run_spec
    from ._owners import connection_owners
    from ._spec import LoadSpec, Phase
    from ._stats import cdf_points, percentile, spread, summarize_ms
    from ._tail import LogTail

# Loaded on first use: ``python -m bgref_compare.loadgen._loadgen`` imports this package
# first, and must find ``_loadgen`` not yet imported (else runpy warns) and start fast.
_LAZY = {
    "LogHistogram": "._histogram",
    "FAILED": "._accounting",
    "Accounting": "._accounting",
    "account": "._accounting",
    "classify": "._accounting",
    "count_messages": "._accounting",
    "Bench": "._bench",
    "CpuPlan": "._bench",
    "LoadGenError": "._bench",
    "LoadOutcome": "._bench",
    "RunningStack": "._bench",
    "new_run_id": "._bench",
    "BALANCED": "._connection",
    "HOT": "._connection",
    "POLICIES": "._connection",
    "ROUND_ROBIN": "._connection",
    "Connection": "._connection",
    "ConnectionPool": "._connection",
    "HTTPParseError": "._http",
    "RequestTemplate": "._http",
    "Response": "._http",
    "ResponseParser": "._http",
    "post_request": "._http",
    "LoadSpec": "._spec",
    "Phase": "._spec",
    "run_spec": "._loadgen",
    "connection_owners": "._owners",
    "cdf_points": "._stats",
    "percentile": "._stats",
    "spread": "._stats",
    "summarize_ms": "._stats",
    "LogTail": "._tail",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "BALANCED",
    "FAILED",
    "HOT",
    "POLICIES",
    "ROUND_ROBIN",
    "Accounting",
    "Bench",
    "Connection",
    "ConnectionPool",
    "CpuPlan",
    "HTTPParseError",
    "LoadGenError",
    "LoadOutcome",
    "LoadSpec",
    "LogHistogram",
    "LogTail",
    "Phase",
    "RequestTemplate",
    "Response",
    "ResponseParser",
    "RunningStack",
    "account",
    "cdf_points",
    "classify",
    "connection_owners",
    "count_messages",
    "new_run_id",
    "percentile",
    "post_request",
    "run_spec",
    "spread",
    "summarize_ms",
]
