from django.dispatch import Signal

# Sent after a ReportRequest is saved as queued (new, or put back for a resend) and the
# transaction commits, with ``request_id``.
# The reports app listens and enqueues the PDF task, so leads needs no import of reports.
report_requested = Signal()

# Sent after the transaction that saved a ConsultationRequest commits, with ``request_id``.
consultation_request_created = Signal()
