"""LogHandler: logging records as escaped, whole lines through a LogWriter."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bgref_linelog import LogHandler, LogWriter, read_messages

FORMAT = "%(levelname)s %(name)s %(message)s"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own, that does not propagate to the root's handlers."""
    log = logging.getLogger(f"test.handler.{os.getpid()}.{id(object())}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def _attach(logger: logging.Logger, handler: LogHandler) -> LogHandler:
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    return handler


def test_each_record_is_one_line_and_cannot_forge_another(
    logger: logging.Logger, log_path: Path
) -> None:
    _attach(logger, LogHandler(log_path))
    forged = "user=bob\nINFO app login ok user=admin\r\x1b[2K"
    logger.info("login failed %s", forged)
    logger.warning("plain")
    assert read_messages(log_path) == [
        f"INFO {logger.name} login failed {forged}",
        "WARNING " + logger.name + " plain",
    ]
    assert log_path.read_bytes().count(b"\n") == 2


def test_a_traceback_stays_inside_its_record(logger: logging.Logger, log_path: Path) -> None:
    _attach(logger, LogHandler(log_path))
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    [line] = read_messages(log_path)
    assert line.startswith(f"ERROR {logger.name} failed\nTraceback (most recent call last):")
    assert line.endswith("ValueError: boom")


def test_threads_write_whole_lines(logger: logging.Logger, log_path: Path) -> None:
    _attach(logger, LogHandler(log_path))
    payload = "x" * 5000

    def work(n: int) -> None:
        for i in range(300):
            logger.info("t%d-%d %s", n, i, payload)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = Counter(
        f"INFO {logger.name} t{n}-{i} {payload}" for n in range(8) for i in range(300)
    )
    assert Counter(read_messages(log_path)) == expected


def test_processes_write_whole_lines(logger: logging.Logger, log_path: Path) -> None:
    # The handler is made before the fork, as in a Celery or gunicorn --preload parent.
    _attach(logger, LogHandler(log_path))
    logger.info("parent")
    payload = "y" * 20_000
    children = []
    for n in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            for i in range(200):
                logger.info("p%d-%d %s", n, i, payload)
            os._exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    expected = Counter(
        [f"INFO {logger.name} parent"]
        + [f"INFO {logger.name} p{n}-{i} {payload}" for n in range(4) for i in range(200)]
    )
    assert Counter(read_messages(log_path)) == expected


def test_a_rotated_file_is_reopened(logger: logging.Logger, log_path: Path) -> None:
    _attach(logger, LogHandler(LogWriter(log_path, reopen_check=0)))
    logger.info("before")
    rotated = log_path.with_name("log.txt.1")
    log_path.rename(rotated)
    logger.info("after")
    assert read_messages(rotated) == [f"INFO {logger.name} before"]
    assert read_messages(log_path) == [f"INFO {logger.name} after"]


def test_a_failing_path_is_retried(logger: logging.Logger, log_path: Path) -> None:
    handler = _attach(logger, LogHandler(log_path))
    log_path.mkdir()
    logger.info("held")
    assert handler.writer.held == 1
    log_path.rmdir()
    handler.close()  # the last try writes it
    assert read_messages(log_path) == [f"INFO {logger.name} held"]


def test_an_error_that_cannot_pass_goes_to_handle_error(
    logger: logging.Logger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = _attach(logger, LogHandler(tmp_path / ("x" * 300)))
    failed: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", failed.append)
    logger.info("lost")
    assert [record.getMessage() for record in failed] == ["lost"]


def test_recursion_errors_propagate(logger: logging.Logger, log_path: Path) -> None:
    handler = _attach(logger, LogHandler(log_path))

    class Deep(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            raise RecursionError

    handler.setFormatter(Deep())
    with pytest.raises(RecursionError):
        logger.info("x")


def test_nonblocking_records_on_a_loop_go_out_with_the_iteration(
    logger: logging.Logger, log_path: Path
) -> None:
    handler = _attach(logger, LogHandler(log_path, nonblocking=True))

    async def main() -> list[str]:
        logger.info("one")
        logger.info("two")
        before = read_messages(log_path)
        await asyncio.sleep(0)
        return before

    assert asyncio.run(main()) == []
    logger.info("no loop: at once")
    assert read_messages(log_path) == [
        f"INFO {logger.name} one",
        f"INFO {logger.name} two",
        f"INFO {logger.name} no loop: at once",
    ]
    assert handler.nonblocking


def test_nonblocking_refuses_fsync(log_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot wait for fsync"):
        LogHandler(LogWriter(log_path, fsync=True), nonblocking=True)


def test_linelog_own_records_are_left_to_other_handlers(log_path: Path) -> None:
    handler = LogHandler(log_path)
    handler.handle(logging.makeLogRecord({"name": "bgref_linelog", "msg": "cannot write"}))
    handler.handle(logging.makeLogRecord({"name": "app", "msg": "kept"}))
    handler.close()
    assert read_messages(log_path) == ["kept"]


def test_filters_may_drop_or_replace_records(log_path: Path) -> None:
    handler = LogHandler(log_path)
    handler.addFilter(lambda record: record.msg != "dropped")
    assert not handler.handle(logging.makeLogRecord({"msg": "dropped"}))
    replaced = logging.makeLogRecord({"msg": "replaced"})
    handler.filter = lambda record: replaced  # type: ignore[method-assign,assignment,return-value]
    assert handler.handle(logging.makeLogRecord({"msg": "original"}))
    handler.close()
    assert read_messages(log_path) == ["replaced"]


def test_an_owned_writer_is_closed_a_passed_one_is_not(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_PATH", str(log_path))
    monkeypatch.setenv("LOG_DELAY_MS", "1000")
    owned = LogHandler()
    assert (owned.writer.path, owned.writer.delay_ms) == (str(log_path), 0)
    passed = LogWriter(log_path, delay_ms=0)
    shared = LogHandler(passed, level="INFO")
    closed: list[LogWriter] = []
    for writer in (owned.writer, passed):
        monkeypatch.setattr(writer, "close", lambda writer=writer: closed.append(writer))
    owned.close()
    shared.close()
    assert closed == [owned.writer]
    assert repr(shared) == f"<LogHandler {log_path} (INFO)>"
