"""A local SMTP server (aiosmtpd on 127.0.0.1) that notes when each message was accepted."""

import re
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller

from .procs import free_port

REPORT_ID = re.compile(rb"Message-ID:\s*<[^>]*report-(\d+)", re.IGNORECASE)


@dataclass
class Received:
    at: float  # time.time() when the server accepted the message
    recipients: tuple[str, ...]
    report_id: int | None


class Inbox:
    """aiosmtpd handler: accepts everything and keeps who it was for and when."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        match = REPORT_ID.search(envelope.content)
        received = Received(
            at=time.time(),
            recipients=tuple(address.lower() for address in envelope.rcpt_tos),
            report_id=int(match.group(1)) if match else None,
        )
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def wait_for(self, count: int, *, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


class SMTPServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> "SMTPServer":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
