"""/__doc__/: the index and each version's try-it console (Swagger UI over the served contract),
every asset from the gateway's own origin and a CSP that holds the pages to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from gateway.doc_views import CONTENT_SECURITY_POLICY

CONSOLE_INIT = "gateway/console.js"
SWAGGER = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
MIGRATION_GUIDE = "https://docs.switchyard.dev/faq/migrate-to-v2"
PAGES = ["/__doc__/", "/__doc__/faq/v1/", "/__doc__/faq/v2/"]


def policy(response) -> dict[str, str]:
    directives = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    return dict(directive.split(" ", 1) for directive in directives if directive)


def assets(page: str) -> list[str]:
    """Every URL the page makes the browser load: scripts, stylesheets, images, frames."""
    return re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", page)


@pytest.fixture
def client(routed):
    return Client()


@pytest.mark.parametrize("path", PAGES)
def test_doc_pages_allow_nothing_but_the_gateways_own_origin(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    directives = policy(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_doc_pages_load_only_same_origin_files_and_no_inline_script(client, path):
    page = client.get(path).content.decode()

    loaded = assets(page)
    assert loaded and all(url.startswith("/__static__/") for url in loaded), loaded
    # The only other origin named is the migration guide, a link a reader follows.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace(MIGRATION_GUIDE, ""))
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "an inline script"
    assert not re.search(r"<style\b|\sstyle=", page), "an inline style"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"


def test_the_console_loads_swagger_ui_with_the_served_contract(client):
    page = client.get("/__doc__/faq/v1/").content.decode()

    assert assets(page) == [
        "/__static__/gateway/docs.css",
        "/__static__/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        f"/__static__/{SWAGGER}",
        f"/__static__/{CONSOLE_INIT}",
    ]
    assert 'id="swagger-ui" data-spec-url="/__api__/faq/v1.json"' in page
    assert "redoc" not in page


def test_a_deprecated_versions_console_keeps_the_lifecycle_banner(client):
    page = client.get("/__doc__/faq/v1/").content.decode()

    assert "faq v1 is deprecated." in page
    assert "It will be switched off on 2027-05-01T00:00:00Z." in page
    assert 'Move to <a href="/__doc__/faq/v2/">v2</a>' in page
    assert f'<a href="{MIGRATION_GUIDE}">Migration guide</a>' in page

    assert 'class="banner"' not in client.get("/__doc__/faq/v2/").content.decode()


def test_the_index_links_each_versions_console_and_contract(client):
    page = client.get("/__doc__/").content.decode()

    for version in ("v1", "v2"):
        assert f'href="/__doc__/faq/{version}/"' in page
        assert f'href="/__api__/faq/{version}.yaml"' in page


@pytest.mark.parametrize("path", ["/__doc__/nope/v1/", "/__doc__/faq/v9/"])
def test_an_unknown_service_or_version_is_a_404_problem(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("name", [CONSOLE_INIT, "gateway/docs.css", SWAGGER])
def test_every_file_the_pages_load_is_served_by_the_gateway(client, name):
    response = client.get(f"/__static__/{name}")

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in {"text/javascript", "text/css"}
    assert b"".join(response.streaming_content) == Path(finders.find(name)).read_bytes()


def test_the_console_init_reads_its_spec_from_the_page_and_nothing_from_elsewhere():
    init = Path(finders.find(CONSOLE_INIT)).read_text()

    assert "root.dataset.specUrl" in init
    assert "validatorUrl: null" in init
    assert "queryConfigEnabled: false" in init
    assert not re.search(r"https?://", init)


def test_collectstatic_collects_the_console_and_its_bundles(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path

    call_command("collectstatic", "--noinput", verbosity=0)

    for name in (CONSOLE_INIT, "gateway/docs.css", SWAGGER):
        assert (tmp_path / name).read_bytes() == Path(finders.find(name)).read_bytes()
