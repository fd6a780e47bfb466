"""Two administrators removing each other at the same moment never leave the site without one."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.conftest import Persona

from atmpchain.accounts import users
from atmpchain.accounts.domain import Role
from atmpchain.errors import Conflict
from atmpchain.uow import UnitOfWork


def test_mutual_deactivation_leaves_one_active_administrator(
    uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    first = make_persona(Role.ADMIN, username="admin-a")
    second = make_persona(Role.ADMIN, username="admin-b")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def deactivate(actor: Persona, target: Persona) -> None:
        own = uow.new()
        barrier.wait()
        try:
            users.deactivate_user(own, actor=actor.actor, user_id=target.user_id, reason="drill")
            outcomes.append("done")
        except Conflict as exc:
            outcomes.append(exc.message)

    threads = [
        threading.Thread(target=deactivate, args=(first, second)),
        threading.Thread(target=deactivate, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == sorted(
        ["done", "this is the last active administrator; add another first"]
    )
