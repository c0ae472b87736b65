"""Accounting of every request against the log: acknowledged, rejected, failed, lost, doubled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FAILED", "Accounting", "account", "classify", "count_messages"]

# The status recorded for a request that got no HTTP answer (connection error, timeout).
FAILED = 0


def classify(status: int) -> str:
    """``"ok"`` for 200, ``"rejected"`` for any other answer, ``"failed"`` for no answer."""
    if status == FAILED:
        return "failed"
    return "ok" if status == 200 else "rejected"


@dataclass(frozen=True)
class Accounting:
    """Where every request of one phase ended up, and what the log says about it."""

    requests: int
    ok: int
    rejected: int
    failed: int
    # Acknowledged by a 200 from a path that writes, but never in the log.
    lost: int
    # Messages of this phase that are in the log more than once.
    duplicated: int
    # Messages in the log that should not be: rejected, or from a path that writes nothing.
    unexpected: int
    # Failed requests whose message reached the log anyway (allowed: the answer was lost).
    failed_written: int

    @property
    def errors(self) -> int:
        """Every request not acknowledged: rejected plus failed."""
        return self.rejected + self.failed


def count_messages(messages: Iterable[str], prefix: str) -> tuple[Counter[int], int]:
    """Count the log lines of each ``<prefix><seq>`` message by ``seq``; also the foreign ones."""
    counts: Counter[int] = Counter()
    foreign = 0
    for message in messages:
        tail = message[len(prefix) :] if message.startswith(prefix) else ""
        if tail.isdigit():
            counts[int(tail)] += 1
        else:
            foreign += 1
    return counts, foreign


def account(
    seqs: Sequence[int], statuses: Sequence[int], *, writes: bool, counts: Counter[int]
) -> Accounting:
    """Account the requests ``seqs`` (with their ``statuses``) against the log ``counts``.

    ``writes`` says whether the path schedules work: only then must an
    acknowledged message be in the log, exactly once.
    """
    if len(seqs) != len(statuses):
        raise ValueError("one status per request")
    ok = rejected = failed = lost = duplicated = unexpected = failed_written = 0
    for seq, status in zip(seqs, statuses, strict=True):
        seen = counts.get(seq, 0)
        if seen > 1:
            duplicated += 1
        kind = classify(status)
        if kind == "failed":
            failed += 1
            failed_written += seen > 0
        elif kind == "rejected":
            rejected += 1
            unexpected += seen > 0
        else:
            ok += 1
            if not writes:
                unexpected += seen > 0
            elif seen == 0:
                lost += 1
    return Accounting(
        requests=len(seqs),
        ok=ok,
        rejected=rejected,
        failed=failed,
        lost=lost,
        duplicated=duplicated,
        unexpected=unexpected,
        failed_written=failed_written,
    )
