"""Cross-site request defence for the public forms that needs no token in the page.

The sheet pages carry no per-visitor content, so shared caches can keep them; that rules out
Django's CSRF token in the forms. Instead the form views accept a POST only when the browser
says it came from this site: the Fetch Metadata header ``Sec-Fetch-Site`` (sent by every
current browser), else the ``Origin`` header, else the ``Referer``. A request with none of
them is refused. Admin and everything else keep Django's token-based CSRF protection.
"""

import ipaddress
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .views import csrf_failure

ALLOWED_FETCH_SITES = {"same-origin", "none"}  # "none": the user typed or bookmarked the URL


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_same_origin(request: HttpRequest) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ALLOWED_FETCH_SITES
    own = f"{request.scheme}://{request.get_host()}".lower()
    trusted = {own, *(origin.lower() for origin in settings.CSRF_TRUSTED_ORIGINS)}
    origin = request.headers.get("Origin")
    if origin:
        return origin.lower() in trusted
    referer = request.headers.get("Referer")
    if referer:
        return _origin_of(referer) in trusted
    return False


def same_origin_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Django's test client marks requests this way to skip CSRF checks unless a test asks
        # for them (Client(enforce_csrf_checks=True)); honour it exactly as Django does.
        enforced = not getattr(request, "_dont_enforce_csrf_checks", False)
        if request.method == "POST" and enforced and not is_same_origin(request):
            return csrf_failure(request, reason="cross-site POST refused")
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address as the form rate limits see it (``RATELIMIT_IP_META_KEY``: behind
    nginx, the X-Real-IP header it sets), for the admin lock-out too. Without this, django-axes
    uses REMOTE_ADDR, which behind nginx is nginx itself: every visitor would share one
    address, and five bad passwords from anywhere would lock a staff account out for all."""
    return request.META.get(settings.RATELIMIT_IP_META_KEY) or request.META.get("REMOTE_ADDR")


def lockout_address(request: HttpRequest) -> str | None:
    """The address the admin lock-out counts (django-axes): client_ip(), with an IPv6 address
    taken as its network's first address, as the form limits take it (/64 by default: one
    home or server is given a whole /64). Counted address by address, one attacker could try
    five passwords from each of 2**64 addresses."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped:  # "::ffff:203.0.113.5", from a proxy listening on IPv6: one IPv4 visitor
        return str(ip.ipv4_mapped)
    mask = getattr(settings, "RATELIMIT_IPV6_MASK", 64)
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)
