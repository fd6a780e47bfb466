"""Custody events: receive, put away, retrieve, transfer and dispose of product units by scanning.

Each event locks the unit's `current_custody` row, checks the move against where the unit is now
(`domain.next_place`), appends the `custody_event` row, updates `current_custody` and the
positions' occupancy, and writes the audit record, all in one transaction. Two people scanning
the same unit at once therefore cannot both move it: the second waits for the lock, then finds
the unit gone and gets a Conflict naming who moved it and when.

A unit whose DIN is bound to a chain of identity is patient-specific: every scan of it goes
through the identity service's check first, and a mismatch is that service's hard stop
(ChainOfIdentityMismatch, already on record). Nothing is moved after a mismatch.

A unit that a higher capability's record controls (a hospital dose) moves only with that record's
key (`via`); a unit on hold is not handed on (`control.py`, `control_rules.py`). Both are checked
under the unit's lock, with the move.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.custody import control
from atmpchain.custody.control_rules import Controller, check_hand_on, check_move
from atmpchain.custody.domain import (
    EventKind,
    Move,
    Place,
    PlaceKind,
    check_capacity,
    check_receives,
    next_place,
    parse_location_scan,
    place_in_words,
)
from atmpchain.custody.errors import CustodyRuleError, UnitMoved
from atmpchain.custody.models import (
    CurrentCustody,
    CustodyEvent,
    ProductUnit,
    StoragePosition,
    StorageUnit,
)
from atmpchain.errors import Conflict, DomainError, InvalidInput, NotFound
from atmpchain.identity import queries as identity_queries
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint, ScannedIdentity, identity_of
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.product import ProductCode
from atmpchain.identity.scan import parse_scan
from atmpchain.uow import UnitOfWork

_AUDIT = {
    EventKind.RECEIVE: AuditAction.PRODUCT_RECEIVED,
    EventKind.PUT_AWAY: AuditAction.PRODUCT_PUT_AWAY,
    EventKind.RETRIEVE: AuditAction.PRODUCT_RETRIEVED,
    EventKind.TRANSFER: AuditAction.PRODUCT_TRANSFERRED,
    EventKind.DISPOSE: AuditAction.PRODUCT_DISPOSED,
}


@dataclass(frozen=True, slots=True)
class CustodyResult:
    """What a custody event did: the unit, the event, and where the unit is now."""

    unit_id: int
    unit: str
    kind: EventKind
    seq: int
    place: str
    coi: str | None
    audit_seq: int


# Another capability's record of the same step (a dose's thaw, its hand-off to the ward),
# written inside the custody transaction after the custody event, so both commit or neither.
AlsoRecord = Callable[[UnitOfWork, "CustodyResult"], None]


def unit_label(din: str, product_code: str) -> str:
    """A product unit as people read it: DIN and product code."""
    return f"{din[:5]} {din[5:7]} {din[7:]} / {product_code}"


def read_unit_scan(text: str, field: str = "unit_scan") -> ScannedIdentity:
    """The identity in a scanned product label; it must carry a DIN."""
    try:
        scanned = identity_of(text.strip(), parse_scan(text))
    except IdentityFormatError as exc:
        raise identity_service.scan_error(field, exc) from None
    if scanned.din is None:
        raise InvalidInput(
            f"{field}: the scan carries no DIN: scan the product unit's DIN barcode", field=field
        )
    return scanned


def read_product_code(text: str, field: str = "product_code") -> ProductCode:
    """A product code scanned ('=<...') or typed (8 characters, e.g. S1295V00)."""
    value = text.strip()
    try:
        return ProductCode.parse(value if value.startswith("=<") else "=<" + value)
    except IdentityFormatError as exc:
        raise identity_service.scan_error(field, exc) from None


def find_unit(session: Session, scanned: ScannedIdentity) -> ProductUnit:
    """The registered product unit a scan names: by DIN and product code, or by DIN alone
    when only one unit of that donation is still here."""
    assert scanned.din is not None
    din = scanned.din.encode()
    query = select(ProductUnit).where(ProductUnit.din == din)
    if scanned.product is not None:
        unit = session.execute(
            query.where(ProductUnit.product_code == scanned.product.encode()[2:])
        ).scalar_one_or_none()
        if unit is None:
            raise NotFound(
                f"no product unit {unit_label(din, scanned.product.encode()[2:])} has been "
                "received here",
                field="unit_scan",
            )
        return unit
    units = list(
        session.execute(
            query.join(CurrentCustody, CurrentCustody.product_unit_id == ProductUnit.id).where(
                CurrentCustody.kind != PlaceKind.DISPOSED
            )
        ).scalars()
    )
    if not units:
        raise NotFound(
            f"no product unit of DIN {scanned.din.eye_readable()} is here: receive it first",
            field="unit_scan",
        )
    if len(units) > 1:
        raise InvalidInput(
            f"DIN {scanned.din.eye_readable()} has {len(units)} units here: scan the label "
            "that carries the product code too",
            field="unit_scan",
        )
    return units[0]


def _identity_check(
    uow: UnitOfWork,
    actor: Actor,
    scanned: ScannedIdentity,
    second_scan: str | None,
    checkpoint: CheckPoint,
    needs_second: bool,
) -> str | None:
    """For a patient-specific unit, the identity service's check; its chain, or None."""
    assert scanned.din is not None
    with uow.db.read_session() as session:
        coi = identity_queries.chains_of_dins(session, [scanned.din.encode()]).get(
            scanned.din.encode()
        )
    if coi is None:
        # Patient-specific means: the DIN is bound to a chain (identity's registry decides).
        return None
    if needs_second and not (second_scan or "").strip():
        raise InvalidInput(
            "this unit is patient-specific: scan a second label of the same therapy (the "
            "cassette, the patient's documents) to hand it over",
            field="second_scan",
        )
    second = second_scan if needs_second and second_scan else "&/" + coi
    # Raises ChainOfIdentityMismatch (recorded in the audit trail) on any doubt.
    verdict = identity_service.check_identity(
        uow,
        actor=actor,
        checkpoint=checkpoint if needs_second else CheckPoint.LABEL_TO_LABEL,
        first_scan=scanned.raw,
        second_scan=second,
        first_field="unit_scan",
        # Without a second label the unit's scan is checked against its own chain.
        second_field="second_scan" if needs_second else "unit_scan",
    )
    return verdict.coi


def _refuse_early(
    uow: UnitOfWork,
    scanned: ScannedIdentity,
    via: Controller | None,
    *,
    hand_on: bool,
    to_outside: bool = False,
) -> None:
    """Refuse a plain move of a controlled unit (or a hand-on of a held one) before the identity
    check writes its record: a refused move leaves nothing behind. The check under the unit's
    lock in `_apply` is the one that counts; this one only answers sooner."""
    with uow.db.read_session() as session:
        try:
            unit = find_unit(session, scanned)
        except DomainError:
            return  # not received yet, or ambiguous: the move itself says what is wrong
        label = unit_label(unit.din, unit.product_code)
        if via is None:
            check_move(label, control.active_control(session, unit.id), via)
        if hand_on:
            check_hand_on(label, control.active_holds(session, unit.id), to_outside=to_outside)


def _lock_current(session: Session, unit_id: int) -> CurrentCustody:
    return session.execute(
        select(CurrentCustody)
        .where(CurrentCustody.product_unit_id == unit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _lock_position(session: Session, position_id: int) -> StoragePosition:
    return session.execute(
        select(StoragePosition)
        .where(StoragePosition.id == position_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def place_of(row: CurrentCustody) -> Place:
    """The domain place a current-custody row holds."""
    return Place(row.kind, row.position_id, row.user_id, row.party)


def describe_place(
    session: Session, place: Place | None, names: Mapping[int, str] | None = None
) -> str:
    """Where a unit is, in words: the position's code and name, the person, the party.

    `names` (user id -> printed name), when the caller already has them, saves a query per
    person: a timeline passes the names of everyone in the chain, looked up once.
    """
    if place is None:
        return "not yet received"
    if place.kind is PlaceKind.POSITION:
        assert place.position_id is not None
        position = session.get(StoragePosition, place.position_id)
        assert position is not None
        unit = session.get(StorageUnit, position.storage_unit_id)
        assert unit is not None
        return place_in_words(place.kind, position=(unit.name, position.name, position.code))
    if place.kind is PlaceKind.PERSON:
        assert place.user_id is not None
        if names is not None and place.user_id in names:
            return place_in_words(place.kind, person=names[place.user_id])
        name = account_queries.full_names(session, [place.user_id]).get(place.user_id, "?")
        return place_in_words(place.kind, person=name)
    return place_in_words(place.kind, party=place.party)


def _place_json(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {
        "kind": place.kind.value,
        "position_id": place.position_id,
        "user_id": place.user_id,
        "party": place.party,
    }


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _moved_error(session: Session, unit: ProductUnit, row: CurrentCustody, rule: str) -> UnitMoved:
    mover = (
        account_queries.full_names(session, [row.moved_by_id]).get(row.moved_by_id, "?")
        if row.moved_by_id is not None
        else "the system"
    )
    where = describe_place(session, place_of(row))
    return UnitMoved(
        unit_label(unit.din, unit.product_code),
        mover,
        _when(row.moved_at),
        f"it is now {where}: {rule}",
    )


def _apply(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit: ProductUnit,
    row: CurrentCustody | None,
    move: Move,
    unit_scan: str,
    location_scan: str | None,
    note: str | None,
    expected_version: int | None,
    reason: str | None = None,
    then: AlsoRecord | None = None,
    via: Controller | None = None,
) -> CustodyResult:
    """Inside an open unit of work: check the move, write the event, update the current place;
    then `then` (another capability's record of the same step), and commit all together."""
    session = uow.session
    current = place_of(row) if row is not None else None
    if row is not None and expected_version is not None and row.version != expected_version:
        raise _moved_error(session, unit, row, "what was scanned here is out of date")
    label = unit_label(unit.din, unit.product_code)
    controlled = control.active_control(session, unit.id) if row is not None else None
    if via is None:
        check_move(label, controlled, via)
    if move.kind is EventKind.TRANSFER:
        outside = move.to is not None and move.to.kind is PlaceKind.PARTY
        check_hand_on(label, control.active_holds(session, unit.id), to_outside=outside)
    try:
        target = next_place(current, move)
    except CustodyRuleError as exc:
        if row is None:
            raise
        raise _moved_error(session, unit, row, exc.message) from None
    if current is not None and current.kind is PlaceKind.POSITION:
        assert current.position_id is not None
        _lock_position(session, current.position_id).occupied -= 1
    storage_unit_id: int | None = None  # kept beside the position (ADR 0038)
    if target.kind is PlaceKind.POSITION:
        assert target.position_id is not None
        position = _lock_position(session, target.position_id)
        storage_unit_id = position.storage_unit_id
        storage = session.get(StorageUnit, position.storage_unit_id)
        assert storage is not None
        check_receives(f"{storage.name} ({storage.code})", storage.status)
        check_capacity(f"{position.name} ({position.code})", position.capacity, position.occupied)
        position.occupied += 1
    now = uow.clock.now()
    seq = (row.version if row is not None else 0) + 1
    event = CustodyEvent(
        product_unit_id=unit.id,
        seq=seq,
        kind=move.kind,
        at=now,
        actor_id=actor.user_id,
        from_kind=current.kind if current else None,
        from_position_id=current.position_id if current else None,
        from_user_id=current.user_id if current else None,
        from_party=current.party if current else None,
        to_kind=target.kind,
        to_position_id=target.position_id,
        to_user_id=target.user_id,
        to_party=target.party,
        unit_scan=unit_scan.strip()[:500],
        location_scan=(location_scan or "").strip()[:200] or None,
        note=(note or "").strip() or None,
    )
    session.add(event)
    if row is None:
        row = CurrentCustody(product_unit_id=unit.id)
        session.add(row)
    row.kind = target.kind
    row.position_id = target.position_id
    row.storage_unit_id = storage_unit_id
    row.user_id = target.user_id
    row.party = target.party
    row.version = seq
    row.moved_at = now
    row.moved_by_id = actor.user_id
    try:
        session.flush()
    except IntegrityError:
        # Only a concurrent writer of the same unit's step can get here (the unique event seq).
        raise Conflict(
            f"unit {unit_label(unit.din, unit.product_code)} was moved by someone else just now; "
            "scan again",
            field="unit_scan",
        ) from None
    where = describe_place(session, target)
    record = uow.audit.record(
        _AUDIT[move.kind],
        actor=actor,
        record_type="product_unit",
        record_id=unit.id,
        before={"place": _place_json(current), "where": describe_place(session, current)}
        if current is not None
        else None,
        after={
            "unit": unit_label(unit.din, unit.product_code),
            "din": unit.din,
            "product_code": unit.product_code,
            "chain_of_identity": unit.coi,
            "event": move.kind.value,
            "event_seq": seq,
            "place": _place_json(target),
            "where": where,
            "unit_scan": event.unit_scan,
            "location_scan": event.location_scan,
            "note": event.note,
        },
        reason=reason,
    )
    result = CustodyResult(
        unit.id,
        unit_label(unit.din, unit.product_code),
        move.kind,
        seq,
        where,
        unit.coi,
        record.seq,
    )
    if then is not None:
        then(uow, result)
    if via is not None:
        # After the step's own checks: when a dose's step scans another dose's bag, the
        # identity stop its `then` records is the finding, not this refusal (rolled back alike).
        check_move(label, controlled, via)
    uow.commit()
    return result


def _require_person(actor: Actor) -> int:
    if actor.user_id is None:
        raise InvalidInput("custody passes between people: the system cannot hold a unit", "actor")
    return actor.user_id


def receive(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_scan: str,
    from_party: str,
    product_code: str | None = None,
    description: str = "",
    note: str | None = None,
    then: AlsoRecord | None = None,
    via: Controller | None = None,
) -> CustodyResult:
    """Receive a product unit from outside into the receiver's hands (registers it the first
    time); the unit is named by its DIN and product code (from the scan, or `product_code`)."""
    actor.require(Permission.MOVE_PRODUCT)
    actor_id = _require_person(actor)
    scanned = read_unit_scan(unit_scan)
    assert scanned.din is not None
    product = scanned.product or (read_product_code(product_code) if product_code else None)
    if product is None:
        raise InvalidInput(
            "a received unit needs its product code: scan the product code barcode",
            field="product_code",
        )
    if scanned.product is not None and product_code and read_product_code(product_code) != product:
        raise InvalidInput(
            "the product code scanned differs from the one on the unit's label",
            field="product_code",
        )
    party = " ".join(from_party.split())
    if not 2 <= len(party) <= 200:
        raise InvalidInput(
            "say who the unit comes from (manufacturer, courier): 2 to 200 characters",
            field="from_party",
        )
    text = " ".join(description.split())[:200]
    _refuse_early(uow, scanned, via, hand_on=False)
    coi = _identity_check(uow, actor, scanned, None, CheckPoint.LABEL_TO_LABEL, False)
    din = scanned.din.encode()
    code = product.encode()[2:]
    with uow:
        unit = uow.session.execute(
            select(ProductUnit).where(ProductUnit.din == din, ProductUnit.product_code == code)
        ).scalar_one_or_none()
        row: CurrentCustody | None = None
        if unit is None:
            unit = ProductUnit(
                din=din,
                product_code=code,
                coi=coi,
                description=text or "",
                received_at=uow.clock.now(),
                received_by_id=actor.user_id,
            )
            uow.session.add(unit)
            try:
                uow.session.flush()
            except IntegrityError:
                raise Conflict(
                    f"unit {unit_label(din, code)} was received by someone else just now",
                    field="unit_scan",
                ) from None
        else:
            row = _lock_current(uow.session, unit.id)
        return _apply(
            uow,
            actor=actor,
            unit=unit,
            row=row,
            move=Move(EventKind.RECEIVE, actor_id),
            unit_scan=unit_scan,
            location_scan=None,
            note=f"from {party}" + (f": {note.strip()}" if note and note.strip() else ""),
            expected_version=None,
            then=then,
            via=via,
        )


def _locked_unit(uow: UnitOfWork, scanned: ScannedIdentity) -> tuple[ProductUnit, CurrentCustody]:
    unit = find_unit(uow.session, scanned)
    return unit, _lock_current(uow.session, unit.id)


def _position_by_code(session: Session, code: str) -> StoragePosition:
    position = session.execute(
        select(StoragePosition).where(StoragePosition.code == code)
    ).scalar_one_or_none()
    if position is None:
        raise NotFound(f"there is no storage position LOC:{code}", field="location_scan")
    return position


def put_away(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_scan: str,
    location_scan: str,
    expected_version: int | None = None,
    note: str | None = None,
    then: AlsoRecord | None = None,
    via: Controller | None = None,
) -> CustodyResult:
    """Put a unit held by the actor into a storage position (scanned as ``LOC:<code>``)."""
    actor.require(Permission.MOVE_PRODUCT)
    actor_id = _require_person(actor)
    scanned = read_unit_scan(unit_scan)
    code = parse_location_scan(location_scan)
    _refuse_early(uow, scanned, via, hand_on=False)
    _identity_check(uow, actor, scanned, None, CheckPoint.LABEL_TO_LABEL, False)
    with uow:
        position = _position_by_code(uow.session, code)
        unit, row = _locked_unit(uow, scanned)
        return _apply(
            uow,
            actor=actor,
            unit=unit,
            row=row,
            move=Move(EventKind.PUT_AWAY, actor_id, Place.position(position.id)),
            unit_scan=unit_scan,
            location_scan=location_scan,
            note=note,
            expected_version=expected_version,
            then=then,
            via=via,
        )


def _ancestry(session: Session, position: StoragePosition) -> set[str]:
    """The codes a person may scan for `position`: its own, its parents' and its unit's."""
    codes = {position.code}
    parent_id = position.parent_id
    while parent_id is not None:
        parent = session.get(StoragePosition, parent_id)
        assert parent is not None
        codes.add(parent.code)
        parent_id = parent.parent_id
    unit = session.get(StorageUnit, position.storage_unit_id)
    assert unit is not None
    codes.add(unit.code)
    return codes


def retrieve(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_scan: str,
    location_scan: str,
    expected_version: int | None = None,
    note: str | None = None,
    then: AlsoRecord | None = None,
    via: Controller | None = None,
) -> CustodyResult:
    """Take a unit out of storage into the actor's hands; the location scanned must be where the
    unit is stored (its position, a rack or box around it, or the storage unit)."""
    actor.require(Permission.MOVE_PRODUCT)
    actor_id = _require_person(actor)
    scanned = read_unit_scan(unit_scan)
    code = parse_location_scan(location_scan)
    _refuse_early(uow, scanned, via, hand_on=False)
    _identity_check(uow, actor, scanned, None, CheckPoint.LABEL_TO_LABEL, False)
    with uow:
        unit, row = _locked_unit(uow, scanned)
        if row.kind is PlaceKind.POSITION and expected_version in (None, row.version):
            assert row.position_id is not None
            position = uow.session.get(StoragePosition, row.position_id)
            assert position is not None
            if code not in _ancestry(uow.session, position):
                raise InvalidInput(
                    f"unit {unit_label(unit.din, unit.product_code)} is stored in "
                    f"{position.code}, not in LOC:{code}: check the location",
                    field="location_scan",
                )
        return _apply(
            uow,
            actor=actor,
            unit=unit,
            row=row,
            move=Move(EventKind.RETRIEVE, actor_id),
            unit_scan=unit_scan,
            location_scan=location_scan,
            note=note,
            expected_version=expected_version,
            then=then,
            via=via,
        )


def transfer(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_scan: str,
    to_username: str | None = None,
    to_party: str | None = None,
    second_scan: str | None = None,
    checkpoint: CheckPoint = CheckPoint.LABEL_TO_LABEL,
    expected_version: int | None = None,
    note: str | None = None,
    then: AlsoRecord | None = None,
    via: Controller | None = None,
) -> CustodyResult:
    """Hand a unit the actor holds to another person, or to an outside party (a courier's
    shipper). A patient-specific unit needs a second label scanned and checked (`checkpoint`)."""
    actor.require(Permission.MOVE_PRODUCT)
    actor_id = _require_person(actor)
    scanned = read_unit_scan(unit_scan)
    if bool(to_username and to_username.strip()) == bool(to_party and to_party.strip()):
        raise InvalidInput("hand the unit to one person or to one outside party", field="to")
    party = " ".join((to_party or "").split())
    if to_party and not 2 <= len(party) <= 200:
        raise InvalidInput("name the outside party in 2 to 200 characters", field="to_party")
    to: Place
    if to_username and to_username.strip():
        with uow.db.read_session() as session:
            user_id = account_queries.find_user_id(session, to_username)
            person = account_queries.get_user(session, user_id, uow.clock.now())
        holder = Actor(user_id, person.username, person.full_name, frozenset(person.roles))
        if not person.is_active or not holder.can(Permission.MOVE_PRODUCT):
            raise InvalidInput(
                f"{person.full_name} cannot take custody of product (inactive, or no role that "
                "handles product)",
                field="to_username",
            )
        to = Place.person(user_id)
    else:
        to = Place.outside(party)
    _refuse_early(uow, scanned, via, hand_on=True, to_outside=to.kind is PlaceKind.PARTY)
    _identity_check(uow, actor, scanned, second_scan, checkpoint, True)
    with uow:
        unit, row = _locked_unit(uow, scanned)
        return _apply(
            uow,
            actor=actor,
            unit=unit,
            row=row,
            move=Move(EventKind.TRANSFER, actor_id, to),
            unit_scan=unit_scan,
            location_scan=second_scan,
            note=note,
            expected_version=expected_version,
            then=then,
            via=via,
        )


def dispose(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unit_scan: str,
    reason: str,
    expected_version: int | None = None,
    then: AlsoRecord | None = None,
    via: Controller | None = None,
) -> CustodyResult:
    """Dispose of a unit (held by the actor, or in storage): the end of its chain of custody."""
    actor.require(Permission.MOVE_PRODUCT)
    actor_id = _require_person(actor)
    scanned = read_unit_scan(unit_scan)
    reason = required_text(reason, ask="say why the unit is disposed of")
    _refuse_early(uow, scanned, via, hand_on=False)
    _identity_check(uow, actor, scanned, None, CheckPoint.LABEL_TO_LABEL, False)
    with uow:
        unit, row = _locked_unit(uow, scanned)
        return _apply(
            uow,
            actor=actor,
            unit=unit,
            row=row,
            move=Move(EventKind.DISPOSE, actor_id),
            unit_scan=unit_scan,
            location_scan=None,
            note=reason,
            expected_version=expected_version,
            then=then,
            via=via,
        )
