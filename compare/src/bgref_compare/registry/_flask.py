"""Flask's entry: a bounded thread pool behind gunicorn (gthread), and its variants.

Its server's figures (web processes, request threads, pool threads) are the
package's defaults, declared here for the report's theoretical capacity.
"""

from __future__ import annotations

from ._schema import SIGTERM, Impl, Process, Variant

__all__ = ["FLASK"]

FLASK = Impl(
    id="flask",
    summary="Flask, a bounded thread pool with a bounded queue, gunicorn (gthread)",
    model="thread-pool",
    mechanism=(
        "The request thread only puts the message on a bounded queue; a pool thread "
        "does the write. The per-request cost of the WSGI stack dwarfs the hand-off."
    ),
    versions=("flask", "werkzeug", "gunicorn"),
    package="bgref-flask",
    path="packages/flask",
    processes=(
        Process(
            "web",
            (
                "{python}",
                "-m",
                "gunicorn",
                "--config",
                "python:bgref_flask.gunicorn_conf",
                "--bind",
                "127.0.0.1:{port}",
                "bgref_flask:create_app()",
            ),
        ),
    ),
    workers_env="BGREF_WORKERS",
    queue_size_env="BGREF_QUEUE_SIZE",
    trace_env="BGREF_TRACE",
    retries_writes=True,
    holds_writes=True,
    # bgref_flask.gunicorn_conf's ``workers`` and bgref_flask's DEFAULT_WORKERS
    # (compare/tests/test_capacity.py checks both against the package).
    web_processes=2,
    default_workers=4,
    workers_per_web_process=True,
    workers_noun="pool threads",
    # bgref_flask.gunicorn_conf's ``threads`` (gthread workers).
    request_threads=4,
    # Gunicorn reads extra command-line flags from GUNICORN_CMD_ARGS.
    recycle_env={"GUNICORN_CMD_ARGS": "--max-requests {n} --max-requests-jitter 10"},
    grace_env={"GUNICORN_CMD_ARGS": "--graceful-timeout {s}"},
    drain_overrun_log="work pool not drained",
    variants=(
        Variant(
            "thread-daemon",
            "/lab/thread-daemon/",
            "`threading.Thread(target=..., daemon=True).start()` per request: no bound, no drain",
            "The Flask Mega-Tutorial, Part X: Email Support (a thread per email); "
            "Python docs, threading: daemon threads are abruptly stopped at shutdown",
            claims_contract=False,
            loses={SIGTERM: "threads still running when the worker exits are killed"},
            benchmarked=True,
            # Its unbounded threads (or backlog) show above capacity.
            shows_at=("above",),
        ),
        Variant(
            "thread",
            "/lab/thread/",
            "`threading.Thread(target=...).start()` per request (non-daemon): no bound, no drain",
            "The Flask Mega-Tutorial, Part X: Email Support (a thread per email)",
            benchmarked=True,
            shows_at=("above",),
        ),
    ),
)
