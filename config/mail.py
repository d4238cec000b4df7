"""Email in one place: an .eml file backend for the embedded mode and one templated-email helper."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string

from .files import new_private_file


class EmlFileBackend(BaseEmailBackend):
    """Write each message to its own .eml file, which any mail client opens. A report's
    carries the patient's PDF: the folder and the files are for their owner alone."""

    def __init__(self, *, file_path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.file_path = Path(file_path)
        self.file_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.file_path.chmod(0o700)  # one made earlier, under a looser umask, is closed too

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            data = message.message().as_bytes()  # built first: a failure leaves no file
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            target = self.file_path / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            part = target.with_suffix(".part")  # renamed when whole: no half-written .eml
            with new_private_file(part) as file:
                file.write(data)
            part.replace(target)
        return len(email_messages)


def build_templated_email(
    name: str,
    context: dict,
    *,
    to: Sequence[str],
    message_id_key: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> EmailMultiAlternatives:
    """Build a message from templates/emails/<name>_subject.txt, _body.txt and _body.html.

    ``message_id_key`` puts a stable id (e.g. "report-42") into the Message-ID so that a
    message sent twice by mistake can be recognised as the same one.
    """
    context = {"clinic_name": settings.CLINIC_NAME, "site_url": settings.SITE_URL} | context
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    headers = {}
    if message_id_key:
        headers["Message-ID"] = make_msgid(idstring=message_id_key, domain="spinal-clinic.local")
    reply_to = [settings.REPLY_TO_EMAIL] if settings.REPLY_TO_EMAIL else []
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=reply_to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
