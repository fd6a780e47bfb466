"""Every audited action has human wording, so no page shows a bare action code."""

from __future__ import annotations

from atmpchain.audit.actions import AuditAction
from atmpchain.audit.wording import WORDING, describe


def test_every_audit_action_has_wording() -> None:
    missing = [a.value for a in AuditAction if not WORDING.get(a, "").strip()]
    assert not missing, f"add wording to audit/wording.py for {missing}"


def test_wording_is_words_not_codes() -> None:
    for action, text in WORDING.items():
        assert ":" not in text and text == text.strip() and text[0].islower(), action


def test_describe_reads_a_stored_code_and_keeps_an_unknown_one() -> None:
    assert describe("hospital:dose:received") == "received a dose's product at the pharmacy"
    assert describe("old:thing:gone") == "old:thing:gone"
