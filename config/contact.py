"""How patients can reach the clinic, from the CLINIC_PHONE, CLINIC_EMAIL and CLINIC_ADDRESS
settings: checked when the settings load, formatted for pages with phonenumbers (as the
consultation form's phone field is)."""

import contextlib
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cache

import phonenumbers
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email


@dataclass(frozen=True)
class ClinicContact:
    phone: str = ""  # as people dial it in the UK: "0161 496 0000"
    phone_uri: str = ""  # "tel:+44-161-496-0000"
    email: str = ""
    address: str = ""

    def __bool__(self) -> bool:
        return bool(self.ways)

    @property
    def ways(self) -> list[tuple[str, str, str]]:
        """(verb, what, link) for each way set, as the footer and privacy notice list them."""
        ways = [
            ("call", self.phone, self.phone_uri),
            ("email", self.email, f"mailto:{self.email}"),
            ("write to", self.address, ""),
        ]
        return [way for way in ways if way[1]]


@cache
def parse(phone: str, email: str, address: str, region: str) -> ClinicContact:
    """The contact details, or ImproperlyConfigured naming the setting that is wrong: a typo
    must stop the site starting, not send patients to someone else's number."""
    number = None
    if phone:
        with contextlib.suppress(phonenumbers.NumberParseException):
            number = phonenumbers.parse(phone, region)
        if number is None or not phonenumbers.is_valid_number(number):
            raise ImproperlyConfigured(
                f"CLINIC_PHONE {phone!r} is not a valid phone number (e.g. 0161 496 0000)."
            )
    check_email("CLINIC_EMAIL", email)
    formats = phonenumbers.PhoneNumberFormat
    # As dialled from the UK: "0161 496 0000", or "+353 1 234 5678" for a number abroad.
    shown = formats.NATIONAL
    if number and phonenumbers.region_code_for_number(number) != region:
        shown = formats.INTERNATIONAL
    return ClinicContact(
        phone=phonenumbers.format_number(number, shown) if number else "",
        phone_uri=phonenumbers.format_number(number, formats.RFC3966) if number else "",
        email=email,
        address=" ".join(address.split()),
    )


def clinic_contact() -> ClinicContact:
    from django.conf import settings

    return parse(
        settings.CLINIC_PHONE,
        settings.CLINIC_EMAIL,
        settings.CLINIC_ADDRESS,
        settings.PHONENUMBER_DEFAULT_REGION,
    )


def contact_is_set(app_configs=None, **kwargs) -> list:
    """System check (registered in leads/apps.py): outside DEBUG, warn when patients are told
    to contact the clinic but not how."""
    from django.conf import settings
    from django.core import checks

    if clinic_contact() or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "No way to contact the clinic is set: the privacy notice tells patients to contact "
            "the clinic to see or erase their details, and cannot say how.",
            hint="Set CLINIC_EMAIL, CLINIC_PHONE or CLINIC_ADDRESS (README, Settings).",
            id="clinic.W001",
        )
    ]


def check_email(setting: str, value: str, *, with_name: bool = False) -> None:
    """ImproperlyConfigured naming ``setting`` if ``value`` is set and not an email address
    (``with_name``: or one with a display name, "Triage <triage@clinic.example>")."""
    if value:
        try:
            validate_email(parseaddr(value)[1] if with_name else value)
        except ValidationError:
            raise ImproperlyConfigured(f"{setting} {value!r} is not an email address.") from None


# Domains that can never pass a receiving server's checks (no SPF, no DKIM): reserved for
# examples and tests (RFC 2606, RFC 6761), this machine, or the local network.
UNSENDABLE_SUFFIXES = (".example", ".invalid", ".test", ".localhost", ".local")


def check_mail_domain(setting: str, value: str, *, sends: bool) -> None:
    """ImproperlyConfigured if ``value`` is on a domain without a dot (localhost) or one
    reserved for examples, such as .env.example's own clinic.example: mail "from" it is
    refused or filed as spam everywhere (``sends``), and mail to it never arrives."""
    domain = parseaddr(value)[1].rpartition("@")[2].lower().rstrip(".")
    if "." not in domain or domain.endswith(UNSENDABLE_SUFFIXES):
        what = "send mail that arrives" if sends else "receive mail"
        raise ImproperlyConfigured(
            f"{setting} {value!r} is on {domain or 'no domain'}, which cannot {what}: use an "
            "address on the clinic's own domain (README, Email that arrives)."
        )
