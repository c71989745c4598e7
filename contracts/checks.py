"""``manage.py check --deploy``: what drf-spectacular warns of in each contract a service publishes.

drf-spectacular's own deploy check builds one schema of the whole URLconf, with v1 and v2 side by
side. There, each version's components (``Entry``, ``Ticket``, …) and operation ids (``faq_list``,
…) collide with the other version's by design: a version is a document of its own, and operation
ids are how versions are matched (``contracts diff``, the lifecycle's successor operations). Its
warnings are about a document nobody publishes, and renaming every component per version would
rename the types of every client generated from a published contract. So that check stays off
(``ENABLE_DJANGO_DEPLOY_CHECK``) and this one builds what is published, each version on its own as
``contracts generate`` does, and reports any warning or error drf-spectacular raises there.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning


@register(deploy=True)
def published_contracts(app_configs, **kwargs):
    versions = getattr(settings, "API_VERSIONS", None)
    if not versions:  # the gateway publishes no contract of its own
        return []
    from drf_spectacular.drainage import GENERATOR_STATS

    from contracts.generate import document

    service = settings.SERVICE_NAME
    messages = []
    for version in versions:
        GENERATOR_STATS.reset()
        with GENERATOR_STATS.silence():
            try:
                document(service, version)
            except Exception as exc:  # as drf-spectacular's own check: report, don't crash
                messages.append(
                    Error(
                        f"{service} {version}: the contract cannot be built: {exc}",
                        id="contracts.E001",
                    )
                )
                continue
        messages += [
            CheckWarning(f"{service} {version}: {text}", id="contracts.W001")
            for text in GENERATOR_STATS._warn_cache
        ]
        messages += [
            CheckWarning(f"{service} {version}: {text}", id="contracts.W002")
            for text in GENERATOR_STATS._error_cache
        ]
    GENERATOR_STATS.reset()
    return messages
