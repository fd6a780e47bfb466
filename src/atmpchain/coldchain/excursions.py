"""Temperature excursions: when a sensor's readings stay outside its unit's range too long.

An excursion begins at the first reading outside the range, once the run of outside readings has
lasted longer than the grace period, and ends at the first reading back inside. Its start is the
first outside reading, not the moment the grace ran out: the product was outside its range from
that reading on, and the QA impact assessment (and the stability data it is judged against) needs
the whole time out of range. The grace period only decides whether a run counts (a door opened
for a moment does not); it never shortens one that does.

What the sensor did between two readings is unknown, so a run is taken to last until a reading
proves otherwise: outside at 10:00 and back inside at 10:20 is 20 minutes out, even with no
reading in between. With a grace of zero, a single outside reading still needs a later reading
to show how long it lasted. A run may cross the range (above, then below, with no reading inside);
it stays one excursion, since splitting it would let two short halves hide a long time out of
range; its direction is that of its peak.

Readings must be fed in time order, one detector per sensor; readings at the same instant (with
different sequence numbers) are applied in the order fed. A reading older than the last one
fed is late: it is ignored and returned, because rewriting an excursion already alarmed would
change history behind QA's back; the service re-runs `detect_excursions` over the stored,
sorted readings if a late reading matters. A reading with the same key as one already fed at
the same time is a duplicate and changes nothing (conflicts are `classify_batch`'s to report).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from atmpchain.coldchain.dedupe import ReadingKey, reading_key
from atmpchain.coldchain.domain import Direction, Reading, TemperatureRange


@dataclass(frozen=True, slots=True)
class Excursion:
    """A time a sensor's readings were out of range longer than the grace period."""

    sensor: str
    start: datetime  # the first reading out of range
    end: datetime | None  # the first reading back in range; None while it goes on
    last_out_at: datetime  # the latest reading out of range
    peak: Decimal  # the reading farthest from the range
    peak_at: datetime
    direction: Direction  # the side of the range the peak is on
    readings: int  # readings out of range during it
    latest: Decimal  # the latest reading out of range ("the tank is at ...")

    @property
    def ongoing(self) -> bool:
        """Whether no reading has come back in range yet."""
        return self.end is None

    @property
    def duration(self) -> timedelta:
        """Time out of range: to the reading back in range, or so far (to the latest reading)."""
        return (self.end or self.last_out_at) - self.start


class EventKind(enum.Enum):
    """What happened to an excursion as a reading arrived."""

    STARTED = "excursion_started"
    ENDED = "excursion_ended"


@dataclass(frozen=True, slots=True)
class ExcursionEvent:
    """An excursion that started or ended with the reading just fed (alarms are raised on it)."""

    kind: EventKind
    excursion: Excursion


@dataclass(frozen=True, slots=True)
class _Run:
    """Readings out of range since `start`, which may or may not have lasted past the grace."""

    sensor: str
    start: datetime
    last_out_at: datetime
    peak: Decimal
    peak_at: datetime
    direction: Direction
    distance: Decimal
    readings: int
    opened: bool
    latest: Decimal

    def excursion(self, end: datetime | None) -> Excursion:
        return Excursion(
            self.sensor,
            self.start,
            end,
            self.last_out_at,
            self.peak,
            self.peak_at,
            self.direction,
            self.readings,
            self.latest,
        )


@dataclass(frozen=True, slots=True)
class DetectorState:
    """Everything the detector remembers, as a value the service can keep between restarts."""

    last_at: datetime | None = None
    keys_at_last: frozenset[ReadingKey] = field(default_factory=frozenset)
    run: _Run | None = None


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What feeding readings produced: excursion events, and the late readings ignored."""

    events: tuple[ExcursionEvent, ...]
    late: tuple[Reading, ...]
    duplicates: int


def step(
    state: DetectorState, reading: Reading, limits: TemperatureRange, grace: timedelta
) -> tuple[DetectorState, tuple[ExcursionEvent, ...], str]:
    """Apply one reading: the new state, the events it caused, and 'ok', 'late' or 'duplicate'."""
    at = reading.taken_at.astimezone(UTC)
    key = reading_key(reading)
    if state.last_at is not None and at < state.last_at:
        return state, (), "late"
    if at == state.last_at and key in state.keys_at_last:
        return state, (), "duplicate"
    keys = state.keys_at_last | {key} if at == state.last_at else frozenset({key})
    side = limits.side_of(reading.temperature)
    run = state.run
    events: tuple[ExcursionEvent, ...] = ()
    if side is None:
        if run is not None and (run.opened or at - run.start > grace):
            if not run.opened:
                # Sparse readings: the run proved longer than the grace only now it has ended.
                events = (ExcursionEvent(EventKind.STARTED, run.excursion(None)),)
            events += (ExcursionEvent(EventKind.ENDED, run.excursion(at)),)
        return DetectorState(at, keys, None), events, "ok"
    distance = limits.distance(reading.temperature)
    if run is None:
        t = reading.temperature
        run = _Run(reading.sensor, at, at, t, at, side, distance, 1, False, t)
    else:
        run = replace(run, last_out_at=at, readings=run.readings + 1, latest=reading.temperature)
        if distance > run.distance:  # ties keep the earlier peak
            run = replace(
                run, peak=reading.temperature, peak_at=at, direction=side, distance=distance
            )
    if not run.opened and at - run.start > grace:
        run = replace(run, opened=True)
        events = (ExcursionEvent(EventKind.STARTED, run.excursion(None)),)
    return DetectorState(at, keys, run), events, "ok"


class ExcursionDetector:
    """Watches one sensor's readings as they arrive and says when an excursion starts and ends."""

    def __init__(
        self,
        limits: TemperatureRange,
        grace: timedelta,
        state: DetectorState | None = None,
    ) -> None:
        if grace < timedelta(0):
            raise ValueError("the grace period cannot be negative")
        self.limits = limits
        self.grace = grace
        self.state = state or DetectorState()

    def feed(self, readings: Iterable[Reading]) -> FeedResult:
        """Apply readings in the order given (time order); late ones are returned, not applied."""
        events: list[ExcursionEvent] = []
        late: list[Reading] = []
        duplicates = 0
        limits, grace = self.limits, self.grace
        low, high = limits.low, limits.high
        state = self.state
        # The common case, a reading in range after in-range readings, changes only the time
        # and key of the latest reading; computing the key is deferred to the end (`quiet`
        # holds that latest reading) and `step` handles everything else. Same result as calling
        # `step` for each reading.
        quiet: Reading | None = None
        last_at = state.last_at
        for reading in readings:
            at = reading.taken_at
            if at.tzinfo is not UTC:
                at = at.astimezone(UTC)
            t = reading.temperature
            if (
                state.run is None
                and (last_at is None or at > last_at)
                and (high is None or t <= high)
                and (low is None or t >= low)
            ):
                quiet, last_at = reading, at
                continue
            if quiet is not None:
                state = DetectorState(last_at, frozenset({reading_key(quiet)}), None)
                quiet = None
            state, caused, outcome = step(state, reading, limits, grace)
            last_at = state.last_at
            events.extend(caused)
            if outcome == "late":
                late.append(reading)
            elif outcome == "duplicate":
                duplicates += 1
        if quiet is not None:
            state = DetectorState(last_at, frozenset({reading_key(quiet)}), None)
        self.state = state
        return FeedResult(tuple(events), tuple(late), duplicates)

    @property
    def current(self) -> Excursion | None:
        """The excursion going on now (peak and duration so far), if any."""
        run = self.state.run
        return run.excursion(None) if run is not None and run.opened else None

    @property
    def out_of_range_since(self) -> datetime | None:
        """When the current run out of range began, whether or not it has passed the grace."""
        return self.state.run.start if self.state.run is not None else None


def detect_excursions(
    readings: Iterable[Reading], limits: TemperatureRange, grace: timedelta
) -> list[Excursion]:
    """Every excursion in one sensor's readings (any order); the last may be ongoing."""
    # Ties at one instant are ordered by sequence then temperature, so the result does not
    # depend on the order readings were stored in.
    ordered = sorted(
        readings,
        key=lambda r: (
            r.taken_at.astimezone(UTC),
            r.sequence is not None,
            r.sequence or 0,
            r.temperature,
        ),
    )
    detector = ExcursionDetector(limits, grace)
    found = [
        event.excursion for event in detector.feed(ordered).events if event.kind is EventKind.ENDED
    ]
    if detector.current is not None:
        found.append(detector.current)
    return found


def reading_order(reading: Reading) -> tuple[datetime, bool, int]:
    """The order readings are fed in: time, then (at one instant) by sequence number.

    Stored readings are unique by key, so two readings at one instant differ in sequence (or one
    has none): this order is total, and replaying stored readings gives one answer whatever the
    order they were delivered in.
    """
    return (reading.taken_at.astimezone(UTC), reading.sequence is not None, reading.sequence or 0)


@dataclass(frozen=True, slots=True)
class Reconciled:
    """How recorded excursions change after re-detection over a sensor's stored readings.

    `revised` maps the index of a recorded excursion to its new value (only when it changed);
    `kept` lists the recorded excursions the readings no longer support as recorded (a late
    reading in range inside them): they stay at least as long as recorded; `new` are the
    excursions nobody recorded yet.
    """

    revised: tuple[tuple[int, Excursion], ...]
    kept: tuple[int, ...]
    new: tuple[Excursion, ...]


def reconcile(
    recorded: list[Excursion],
    found: list[Excursion],
    limits: TemperatureRange,
    narrowable: frozenset[int] = frozenset(),
) -> Reconciled:
    """Match the excursions re-detected from stored readings (`found`) with those recorded.

    Late readings may only add readings. A late reading out of range can start an excursion,
    move one's start earlier, its peak higher, or join the rest of a run; the recorded
    excursion is then revised to what the readings now show (same row, so its alarms and QA's
    assessments stay attached). A late reading in range inside a recorded excursion would
    shorten, split or dissolve it; that is never done: an excursion already alarmed (and maybe
    assessed) stays at least as long as recorded, since hiding exposure QA has been told of is
    worse than reporting too much, and it is listed in `kept` for QA to judge. Such an
    excursion still absorbs re-detected runs that overlap it, widened if they reach beyond it.

    The recorded excursions in `narrowable` (by index) were recorded without readings that had
    already arrived (another consumer held them, in a batch received no later): for them the
    re-detected run that overlaps them, and only one, is what in-order delivery gives, and they
    take its value even when it is shorter.
    """
    used: set[int] = set()
    revised: list[tuple[int, Excursion]] = []
    kept: list[int] = []
    for index, old in enumerate(recorded):
        touching = [i for i, e in enumerate(found) if _overlap(old, e) and i not in used]
        used.update(touching)
        if len(touching) == 1 and (index in narrowable or _covers(found[touching[0]], old)):
            new = found[touching[0]]
            if changed(old, new):
                revised.append((index, new))
            continue
        kept.append(index)
        merged = _union(old, [found[i] for i in touching], limits)
        if changed(old, merged):
            revised.append((index, merged))
    new_ones = tuple(e for i, e in enumerate(found) if i not in used)
    return Reconciled(tuple(revised), tuple(kept), new_ones)


def _overlap(a: Excursion, b: Excursion) -> bool:
    # The span of each one's readings out of range, ends included.
    return a.start <= b.last_out_at and b.start <= a.last_out_at


def _covers(new: Excursion, old: Excursion) -> bool:
    """Whether `new` holds all of `old`: starts no later and ends no earlier (an excursion
    recorded as going on may end now, after its last reading out of range)."""
    if new.start > old.start or new.last_out_at < old.last_out_at:
        return False
    if old.end is None or new.end is None:
        return True
    return new.end >= old.end


def changed(old: Excursion, new: Excursion) -> bool:
    """Whether two values of one excursion differ in what its row records (not `latest`)."""
    return (old.start, old.end, old.last_out_at, old.peak, old.peak_at, old.readings) != (
        new.start,
        new.end,
        new.last_out_at,
        new.peak,
        new.peak_at,
        new.readings,
    )


def _union(old: Excursion, found: list[Excursion], limits: TemperatureRange) -> Excursion:
    """`old` widened to cover `found`, never narrowed."""
    if not found:
        return old
    every = [old, *found]
    start = min(e.start for e in every)
    last = max(every, key=lambda e: e.last_out_at)
    # Still going on if any part is; the service closes it at the first reading back in range.
    ends = [e.end for e in every]
    end = None if None in ends else max(e for e in ends if e is not None)
    # The farthest peak; ties keep the earliest, as the detector does.
    peak = min(every, key=lambda e: (-limits.distance(e.peak), e.peak_at))
    return Excursion(
        old.sensor,
        start,
        end,
        last.last_out_at,
        peak.peak,
        peak.peak_at,
        peak.direction,
        max(old.readings, sum(e.readings for e in found)),
        last.latest,
    )
