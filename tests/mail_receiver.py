"""A real SMTP server on 127.0.0.1 for the mail tests (aiosmtpd), on a free port.

It keeps what it accepts, and can refuse: the next ``refuse`` recipients get ``refuse_with`` (a 4xx
answer by default: "try later"), as does each address of ``refused_once`` the first time, and the
addresses in ``refused_for_good`` always get a 550.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Receiver:
    refuse: int = 0
    refuse_with: str = "451 4.3.0 Try again later"
    refused_for_good: set[str] = field(default_factory=set)
    refused_once: set[str] = field(default_factory=set)  # these get one "try later" each
    delay: float = 0.0  # seconds taken to accept each message
    attempts: int = 0
    messages: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if address in self.refused_for_good:
            return "550 5.1.1 No such mailbox"
        if address in self.refused_once:
            self.refused_once.discard(address)
            return self.refuse_with
        if self.refuse > 0:
            self.refuse -= 1
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # a slow mail server: the sender waits
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def text_of(self, index: int = -1) -> str:
        return self.messages[index][1].get_body(("plain",)).get_content()


class Running:
    """A started server: ``port``, ``receiver``; ``stop()`` when done."""

    def __init__(self, receiver: Receiver):
        self.receiver = receiver
        self.port = free_port()
        self.controller = Controller(receiver, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def smtp_settings(settings, port: int) -> None:
    """Point Django's SMTP backend at 127.0.0.1:``port`` (pytest-django's ``settings``)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
