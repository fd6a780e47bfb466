"""Sending alarms: to the log always, and by e-mail (SMTP) or webhook when configured.

Notifiers run after the readings and the alarm rows are committed (`uow.after_commit`). A failing
notifier (mail server down, webhook timing out) is logged and skipped; it never undoes a stored
reading, and the alarm stays on the dashboard whatever happens to the message.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

from atmpchain.coldchain.alarms import Alarm
from atmpchain.coldchain.settings import TelemetrySettings

log = logging.getLogger("atmpchain.coldchain.alarms")


class Notifier(Protocol):
    """Anything that can raise alarms somewhere people will see them."""

    def send(self, alarms: Sequence[Alarm]) -> None: ...


class LogNotifier:
    """Writes each alarm to the application log (a warning, or an error when critical)."""

    def send(self, alarms: Sequence[Alarm]) -> None:
        for alarm in alarms:
            level = logging.ERROR if alarm.severity.value == "critical" else logging.WARNING
            log.log(level, "%s [%s] %s", alarm.kind.value, alarm.unit, alarm.message)


class SmtpNotifier:
    """Sends the alarms of one batch as one e-mail."""

    def __init__(self, settings: TelemetrySettings) -> None:
        if not (settings.smtp_host and settings.smtp_from and settings.smtp_to):
            raise ValueError(
                "the SMTP notifier needs ATMPCHAIN_SMTP_HOST, ATMPCHAIN_SMTP_FROM and "
                "ATMPCHAIN_SMTP_TO"
            )
        self.settings = settings

    def send(self, alarms: Sequence[Alarm]) -> None:
        s = self.settings
        assert s.smtp_host is not None and s.smtp_from is not None
        message = EmailMessage()
        worst = "CRITICAL" if any(a.severity.value == "critical" for a in alarms) else "Alarm"
        units = ", ".join(sorted({a.unit for a in alarms}))
        message["Subject"] = f"[atmpchain] {worst}: {len(alarms)} cold-chain alarm(s) ({units})"
        message["From"] = s.smtp_from
        message["To"] = ", ".join(s.smtp_to)
        message.set_content("\n\n".join(_text(a) for a in alarms))
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.notifier_timeout_seconds) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(message)


class WebhookNotifier:
    """POSTs the alarms of one batch as JSON to a configured URL."""

    def __init__(self, settings: TelemetrySettings) -> None:
        if not settings.alarm_webhook_url:
            raise ValueError("the webhook notifier needs ATMPCHAIN_ALARM_WEBHOOK_URL")
        self.url = settings.alarm_webhook_url
        self.timeout = settings.notifier_timeout_seconds

    def send(self, alarms: Sequence[Alarm]) -> None:
        body = json.dumps(
            {
                "alarms": [
                    {
                        "kind": a.kind.value,
                        "severity": a.severity.value,
                        "unit": a.unit,
                        "sensor": a.sensor,
                        "message": a.message,
                        "raised_at": a.raised_at.isoformat(),
                    }
                    for a in alarms
                ]
            }
        ).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in settings
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            response.read()


class CompositeNotifier:
    """Sends to every configured notifier; one failing does not stop the others."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def send(self, alarms: Sequence[Alarm]) -> None:
        if not alarms:
            return
        for notifier in self.notifiers:
            try:
                notifier.send(alarms)
            except Exception:  # a mail server down must not stop the log or the webhook
                log.exception("alarm notifier %s failed", type(notifier).__name__)


def build_notifier(settings: TelemetrySettings) -> CompositeNotifier:
    """The log notifier, plus SMTP and webhook when listed in ATMPCHAIN_ALARM_NOTIFIERS."""
    notifiers: list[Notifier] = [LogNotifier()]
    if "smtp" in settings.alarm_notifiers:
        notifiers.append(SmtpNotifier(settings))
    if "webhook" in settings.alarm_notifiers:
        notifiers.append(WebhookNotifier(settings))
    return CompositeNotifier(notifiers)


def _text(alarm: Alarm) -> str:
    return (
        f"{alarm.severity.value.upper()} - {alarm.kind.value.replace('_', ' ')} - unit "
        f"{alarm.unit}{f', sensor {alarm.sensor}' if alarm.sensor else ''}\n{alarm.message}"
    )
