from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers


class NoStoreForPrivateResponses:
    """No cache may keep what a person typed or what staff see.

    Any response to a POST (a form shown again with its errors), and everything under admin,
    is marked no-store. Confirmation pages do the same with @never_cache. Public pages are
    left alone so shared caches can keep them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD") or request.path.startswith(self.admin_prefix):
            add_never_cache_headers(response)
        return response
