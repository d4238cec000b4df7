import pytest
from weasyprint import HTML

from reports.fetcher import RefusedURL, StaticOnlyURLFetcher


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/secret",
        "https://example.com/tracker.png",
        "ftp://example.com/x",
        "data:text/css,body{}",
        "static:../config/settings.py",
        "static:",
        "static:css/does-not-exist.css",
    ],
)
def test_fetcher_refuses_everything_but_existing_static_files(url):
    with pytest.raises(RefusedURL):
        StaticOnlyURLFetcher().fetch(url)


def test_fetcher_serves_the_report_stylesheet():
    response = StaticOnlyURLFetcher().fetch("static:css/report.css")

    assert response.content_type == "text/css"
    assert b"@page" in response.read()


def test_weasyprint_renders_without_fetching_a_refused_image(caplog, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not really a png")
    html = f'<p>Hello</p><img src="file://{secret}"><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'

    pdf = HTML(string=html, url_fetcher=StaticOnlyURLFetcher()).write_pdf()

    assert pdf.startswith(b"%PDF")
    refusals = [r for r in caplog.records if "Refused to fetch" in r.getMessage()]
    assert len(refusals) == 2
