from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from factsheets.models import FactSheet, RedFlag, RelatedSheet, Section, SheetTable, Source
from leads.models import ConsultationRequest, ContactAttempt, InternalNote, ReportRequest


class FactSheetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FactSheet

    title = factory.Sequence(lambda n: f"Test sheet {n}")
    slug = factory.Sequence(lambda n: f"test-sheet-{n}")
    summary = "A sheet made by the tests."
    banner_level = "urgent"
    banner_text = "Red flag: urgent"
    last_reviewed = date(2026, 11, 21)
    next_review_due = date(2029, 11, 21)
    published = True


class RedFlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RedFlag

    sheet = factory.SubFactory(FactSheetFactory)
    level = "urgent"
    text = factory.Sequence(lambda n: f"Warning sign {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    sheet = factory.SubFactory(FactSheetFactory)
    heading = factory.Sequence(lambda n: f"Section {n}")
    body = "First paragraph.\n\nSecond paragraph."


class SheetTableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SheetTable

    sheet = factory.SubFactory(FactSheetFactory)
    caption = "A table"
    header = ["Thing", "About it"]
    rows = [["One", "First"], ["Two", "Second"]]


class RelatedSheetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelatedSheet

    sheet = factory.SubFactory(FactSheetFactory)
    target_slug = "not-written-yet"
    title = "Not written yet"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    sheet = factory.SubFactory(FactSheetFactory)
    title = "A guideline"
    publisher = "A publisher"
    url = "https://www.example.org/guideline"


class ReportRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportRequest

    sheet = factory.SubFactory(FactSheetFactory)
    name = "Ada Patient"
    email = "ada@example.com"
    consent_version = "report-consent-v1"
    consented_at = factory.LazyFunction(timezone.now)


class ConsultationRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsultationRequest

    sheet = factory.SubFactory(FactSheetFactory)
    name = "Ben Patient"
    email = "ben@example.com"
    phone = "+447911123456"
    best_time = "Mornings"
    contact_method = "phone"
    description = "Low back pain for two weeks."
    pain_duration = "1_to_6_weeks"
    consent_version = "consultation-consent-v1"
    consented_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyFunction(timezone.now)


class UserFactory(factory.django.DjangoModelFactory):
    """A member of staff; ``UserFactory(groups=["Triage staff"])`` puts them in a role."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Sequence(lambda n: f"Sam{n}")
    last_name = "Staff"
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.example")
    is_staff = True
    password = factory.django.Password("a-test-password")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class ContactAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactAttempt

    consultation = factory.SubFactory(ConsultationRequestFactory)
    by = factory.SubFactory(UserFactory)
    channel = "phone"
    outcome = "no_answer"


class InternalNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InternalNote

    consultation = factory.SubFactory(ConsultationRequestFactory)
    author = factory.SubFactory(UserFactory)
    text = "Asked to call after 2pm."
