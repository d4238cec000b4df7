from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post (stale page, blocked cookies, a forged cross-site post) explained."""
    return render(request, "403_csrf.html", status=403)
