"""The `atmpchain` command: tamper drills, anchors, exports and user management from a terminal."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from typer.testing import CliRunner

from atmpchain.cli.main import app
from atmpchain.db import Database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _point_cli_at_test_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", database_url)
    monkeypatch.delenv("ATMPCHAIN_PASSWORD", raising=False)


def test_verify_passes_on_an_intact_chain(admin: Persona) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_tamper_drill_verify_fails_and_names_the_record(db: Database, admin: Persona) -> None:
    with db.engine.begin() as conn:
        with pytest.raises(Exception, match="append-only"), conn.begin_nested():
            conn.execute(text("UPDATE audit_record SET actor_username = 'mallory' WHERE seq = 2"))
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER audit_record_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_record_no_update_delete ON audit_record"))
        conn.execute(text("UPDATE audit_record SET actor_username = 'mallory' WHERE seq = 2"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "FAILED at record 2" in result.output


def test_anchor_then_truncation_is_caught(db: Database, admin: Persona) -> None:
    anchor = runner.invoke(app, ["audit", "anchor"]).output.strip()
    seq = int(anchor.split(":")[0])
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER audit_record_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_record_no_update_delete ON audit_record"))
        conn.execute(text("DELETE FROM audit_record WHERE seq = :seq"), {"seq": seq})
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1
    assert "removed from the end" in result.output


def test_malformed_anchor_is_refused_with_the_rule(admin: Persona) -> None:
    result = runner.invoke(app, ["audit", "verify", "--anchor", "five"])
    assert result.exit_code == 2
    assert "SEQUENCE:HASH" in result.output


def test_user_add_needs_the_actors_password_and_is_attributed(
    db: Database, admin: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["user", "add", "nora", "--as", "admin", "--full-name", "Nora Ward", "--role", "nurse"]
    refused = runner.invoke(app, args, input="wrong-password\n")
    assert refused.exit_code == 1
    assert "not correct" in refused.output
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", admin.password)
    created = runner.invoke(app, args, input="Temporary-Pass-1\nTemporary-Pass-1\n")
    assert created.exit_code == 0, created.output
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT actor_username, channel FROM audit_record "
                "WHERE action = 'accounts:user:created' ORDER BY seq DESC LIMIT 1"
            )
        ).one()
    assert tuple(row) == ("admin", "cli")
    listing = runner.invoke(app, ["user", "list"])
    assert "nora" in listing.output and "not approved" in listing.output


def test_deactivate_needs_a_reason_and_keeps_the_user(
    db: Database, admin: Persona, make_persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atmpchain.accounts.domain import Role

    make_persona(Role.OPERATOR, username="otto")
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", admin.password)
    missing = runner.invoke(app, ["user", "deactivate", "otto", "--as", "admin"])
    assert missing.exit_code == 2  # Typer: the required --reason is missing
    done = runner.invoke(
        app, ["user", "deactivate", "otto", "--as", "admin", "--reason", "left the unit"]
    )
    assert done.exit_code == 0, done.output
    listing = runner.invoke(app, ["user", "list", "--all"])
    assert "otto" in listing.output and "deactivated" in listing.output


def test_export_as_json_lines_is_itself_audited(
    qa: Persona, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", qa.password)
    out = tmp_path / "trail.jsonl"
    result = runner.invoke(
        app, ["audit", "export", "--as", "qa", "--format", "jsonl", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and rows[0]["seq"] == 1
    assert {"before", "after", "reason", "hash", "prev_hash"} <= set(rows[0])
    again = runner.invoke(app, ["audit", "export", "--as", "qa", "--format", "csv"])
    assert "audit:trail:exported" in again.output


def test_export_is_refused_for_an_operator(make_persona, monkeypatch: pytest.MonkeyPatch) -> None:
    from atmpchain.accounts.domain import Role

    operator = make_persona(Role.OPERATOR, username="otto")
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", operator.password)
    result = runner.invoke(app, ["audit", "export", "--as", "otto"])
    assert result.exit_code == 1
    assert "audit.export" in result.output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["user", "--help"],
        ["audit", "--help"],
        ["audit", "verify", "--help"],
        ["init-db", "--help"],
        ["demo", "--help"],
        ["serve", "--help"],
        ["token", "create", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_scan_prints_what_it_recognised() -> None:
    result = runner.invoke(app, ["scan", "]C0=G12341765432170\r\n"])
    assert result.exit_code == 0, result.output
    assert "G123417654321" in result.output
    assert "DIN G1234 17 654321 A" in result.output


def test_scan_refusal_exits_non_zero_with_the_rule() -> None:
    result = runner.invoke(app, ["scan", "=G12341765432171"])
    assert result.exit_code == 1
    assert "DIN (001)" in result.output and "position" in result.output


def test_scan_refuses_a_compound_message_with_two_dins_and_exits_non_zero() -> None:
    # Issue 9 item 1: this Data Matrix content used to be accepted and read by its first DIN.
    result = runner.invoke(app, ["scan", "=+02000=A99992600000100=A99992600000200"])
    assert result.exit_code == 1, result.output
    assert "two different DINs" in result.output
    assert "Identity:" not in result.output


def test_label_commands_write_pdfs_and_record_each_print(
    make_persona, monkeypatch: pytest.MonkeyPatch, tmp_path, db: Database
) -> None:
    from atmpchain.accounts.domain import Role

    operator = make_persona(Role.OPERATOR, username="otto")
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", operator.password)
    monkeypatch.setenv("ATMPCHAIN_FACILITY_FIN", "A9999")
    issued = runner.invoke(app, ["din", "issue", "--as", "otto"])
    assert issued.exit_code == 0, issued.output
    barcode = issued.output.strip().split("\t")[1]
    out = tmp_path / "vial.pdf"
    printed = runner.invoke(app, ["label", "din", barcode, "--as", "otto", "-o", str(out)])
    assert printed.exit_code == 0, printed.output
    assert out.read_bytes().startswith(b"%PDF")
    again = runner.invoke(app, ["label", "din", barcode, "--as", "otto", "-o", str(out)])
    assert again.exit_code == 1
    assert "printed before" in again.output
    with db.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM audit_record WHERE action = 'identity:label:printed'")
        ).scalar()
    assert count == 1


def test_sec_is_built_from_an_isbt_128_product_as_published() -> None:
    # ST-012 Fig. 2 / the FHIR R5 example: DIN Z549917123456, T0416003, expiry 2017-12-31.
    result = runner.invoke(
        app,
        [
            "sec",
            "build",
            "=Z54991712345600",
            "--product",
            "T0416003",
            "--expiry",
            "2017-12-31",
            "--country",
            "PL",
            "--establishment",
            "001499",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "SEC: PL001499Z549917123456 A00T041600320171231"


def test_sec_check_refuses_an_impossible_expiry_naming_the_rule() -> None:
    result = runner.invoke(app, ["sec", "check", "SEC: PL001499Z549917123456 A00T041600320171331"])
    assert result.exit_code == 1
    assert "not a real calendar date" in result.output


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_export_refuses_an_extreme_since_naming_the_option_and_rule(
    qa: Persona, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ATMPCHAIN_PASSWORD", qa.password)
    result = runner.invoke(app, ["audit", "export", "--as", "qa", "--since", value])
    assert result.exit_code == 1
    assert "--since" in result.output and "between 1900-01-01 and 2199-12-31" in result.output
    assert "Traceback" not in result.output
