"""Where every request of a fault run ended up, accounted against what the log holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from ._burst import NO_ANSWER, Answer

__all__ = ["Ledger"]


def _check(holds: bool, failure: str) -> None:
    # Not assert, which python -O strips: this is a library, not a test module.
    if not holds:
        raise AssertionError(failure)


@dataclass(frozen=True)
class Ledger:
    """Where every request of a fault run ended up, checked against what the log holds.

    The ``check_*`` methods raise ``AssertionError`` naming what broke.

    ``written`` counts the run's messages in the log. A message that got no
    answer (the connection died) may or may not have been written: it is "in
    doubt", never counted as lost nor as unexpected.
    """

    answers: tuple[Answer, ...]
    written: Counter[str]
    # Lines of the run's bursts that match no message sent: mangled or made up.
    stray: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, answers: Iterable[Answer], log: Iterable[str]) -> Ledger:
        """Account ``answers`` against the messages in ``log``.

        A line that starts like the run's messages (their label and run token,
        see ``burst_messages``) but is none of them is kept as ``stray``.
        """
        answers = tuple(answers)
        sent = {answer.message for answer in answers}
        runs = tuple({message.rpartition(" ")[0] + " " for message in sent})
        written: Counter[str] = Counter()
        stray: Counter[str] = Counter()
        for message in log:
            if message in sent:
                written[message] += 1
            elif runs and message.startswith(runs):
                stray[message] += 1
        return cls(answers, written, stray)

    @property
    def acknowledged(self) -> list[Answer]:
        """The requests answered 200."""
        return [answer for answer in self.answers if answer.status == 200]

    @property
    def refused(self) -> list[Answer]:
        """The requests answered with anything but 200 (a 503, say)."""
        return [a for a in self.answers if a.status not in (200, NO_ANSWER)]

    @property
    def unanswered(self) -> list[Answer]:
        """The requests that got no answer at all."""
        return [answer for answer in self.answers if answer.status == NO_ANSWER]

    @property
    def lost(self) -> list[Answer]:
        """Acknowledged, but not in the log."""
        return [answer for answer in self.acknowledged if not self.written[answer.message]]

    @property
    def duplicated(self) -> list[str]:
        """In the log more than once."""
        return [message for message, count in self.written.items() if count > 1]

    @property
    def extra_copies(self) -> int:
        """How many lines beyond the first copy of each message the log holds."""
        return sum(count - 1 for count in self.written.values() if count > 1)

    @property
    def unexpected(self) -> list[str]:
        """In the log although the answer said it was not taken."""
        return [answer.message for answer in self.refused if self.written[answer.message]]

    @property
    def written_acknowledged(self) -> int:
        """The acknowledged messages that are in the log."""
        return sum(1 for answer in self.acknowledged if self.written[answer.message])

    @property
    def slowest(self) -> float:
        """The longest time, in seconds, that an answered request waited for its answer."""
        return max((a.elapsed for a in self.answers if a.status != NO_ANSWER), default=0.0)

    def figures(self) -> dict[str, float]:
        """The fault matrix's figures for this run."""
        return {
            "acknowledged": len(self.acknowledged),
            "written": sum(1 for count in self.written.values() if count),
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "errors": len(self.refused) + len(self.unanswered),
            "slowest": round(self.slowest, 3),
        }

    def record(self, properties: list[tuple[str, object]], fault: str) -> None:
        """Add ``fault`` and the figures to ``properties`` (a test's ``user_properties``)."""
        # Not pytest's record_property fixture: it warns (an error) under JUnit's xunit2.
        properties.append(("fault", fault))
        properties.extend(self.figures().items())

    def __str__(self) -> str:
        figures = ", ".join(f"{name} {value}" for name, value in self.figures().items())
        return f"{figures}; refused {len(self.refused)}, unanswered {len(self.unanswered)}"

    def check_consistent(self, *, max_duplicated: int = 0, in_doubt: Collection[str] = ()) -> None:
        """Hold for every fault: the log holds only what was taken, and copies within a bound.

        Every line of the run is a message that was sent, unchanged. Every written
        message was acknowledged, or got no answer, or is ``in_doubt``: refused
        after a timeout, when the server cannot know whether the work was taken.
        At most ``max_duplicated`` lines are second copies (a redelivery).
        """
        _check(not self.stray, f"lines that were never sent: {list(self.stray)[:3]!r} ({self})")
        taken = {a.message for a in self.answers if a.status in (200, NO_ANSWER)}
        unexpected = [m for m in self.written if m not in taken and m not in in_doubt]
        _check(not unexpected, f"written although refused: {unexpected[:3]!r} ({self})")
        _check(
            self.extra_copies <= max_duplicated,
            f"{self.extra_copies} second copies, at most {max_duplicated} allowed: "
            f"{self.duplicated[:3]!r} ({self})",
        )

    def check_answered(
        self, *, at_least: int, before: float | None = None, refusals: bool = False
    ) -> None:
        """At least ``at_least`` requests got a 200; so did every one answered ``before``.

        A fault may cost answers after it strikes, never before: a request that
        failed earlier is a fault of the test or of the implementation, and a run
        with few acknowledgements proves little about losing them. With
        ``refusals``, a refusal (a 503 of a full queue) before the fault is an
        answer too; a request with no answer never is.
        """
        acknowledged = len(self.acknowledged)
        _check(
            acknowledged >= at_least, f"{acknowledged} acknowledged, expected {at_least} ({self})"
        )
        if before is not None:
            allowed = {200} | ({a.status for a in self.refused} if refusals else set())
            early = Counter(
                a.status
                for a in self.answers
                if a.answered_at < before and a.status not in allowed
            )
            _check(not early, f"failed before the fault: {dict(early)} ({self})")

    def check_all_answered(self) -> None:
        """Every request of the run got a 200."""
        self.check_answered(at_least=len(self.answers))

    def check_nothing_lost(self) -> None:
        """Every acknowledged message is in the log."""
        lost = [answer.message for answer in self.lost]
        _check(not lost, f"acknowledged but never written: {lost[:3]!r} ({self})")
