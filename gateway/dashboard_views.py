"""/__dashboard__/: who still calls what, and whether an old version can go. Staff only."""

from __future__ import annotations

import csv
import datetime as dt

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from gateway import charts, dashboard
from gateway.models import Consumer, UsageDaily

# No login_url: Django then reads settings.LOGIN_URL on each request, not once at import.
staff_only = staff_member_required(login_url=None)


def _quiet_days(request) -> int:
    raw = request.GET.get("quiet", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 365 else settings.DASHBOARD_QUIET_DAYS


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return "> 10 s" if value == float("inf") else f"≤ {value:,.0f} ms"


@staff_only
def overview(request):
    now = timezone.now()
    quiet = _quiet_days(request)
    summaries = dashboard.versions(now)
    by_service: dict[str, list] = {}
    for summary in summaries:
        by_service.setdefault(summary.service, []).append(summary)
    today = now.date()
    graphs = [
        {
            "service": service,
            "svg_30": charts.line_chart(
                {s.version: s.series_30 for s in items},
                end=today,
                title=f"{service}: calls per day, last 30 days",
            ),
            "svg_90": charts.line_chart(
                {s.version: s.series_90 for s in items},
                end=today,
                title=f"{service}: calls per day, last 90 days",
            ),
        }
        for service, items in by_service.items()
    ]
    retiring = []
    for summary in summaries:
        if not summary.lifecycle.announced:
            continue
        consumers = dashboard.consumers_of(
            summary.service, summary.version, quiet_days=quiet, now=now
        )
        verdict = dashboard.verdict(
            summary.service, summary.version, quiet_days=quiet, now=now, callers=consumers
        )
        retiring.append({"summary": summary, "verdict": verdict, "consumers": consumers})
    context = {
        "now": now,
        "quiet": quiet,
        "coverage": dashboard.coverage(),
        "summaries": [(s, _ms(s.p50_ms), _ms(s.p95_ms)) for s in summaries],
        "graphs": graphs,
        "retiring": retiring,
    }
    return render(request, "gateway/dashboard.html", context)


@staff_only
def consumer_detail(request, name: str):
    now = timezone.now()
    quiet = _quiet_days(request)
    person = Consumer.objects.filter(name=name).first()
    pairs = UsageDaily.objects.filter(consumer=name).values_list("service", "version").distinct()
    if person is None and not pairs:
        raise Http404(f"No consumer {name!r}.")
    rows, series = [], {}
    start = now.date() - dt.timedelta(days=29)
    for service, version in sorted(set(pairs)):
        usage = next(
            (
                c
                for c in dashboard.consumers_of(service, version, quiet_days=quiet, now=now)
                if c.name == name
            ),
            None,
        )
        lifecycle = dashboard.deprecation.lifecycle(service, version)
        rows.append(
            {
                "service": service,
                "version": version,
                "state": lifecycle.state(now),
                "successor": lifecycle.successor,
                "usage": usage,
            }
        )
        daily = [0] * 30
        for day, count in UsageDaily.objects.filter(
            consumer=name, service=service, version=version, day__gte=start
        ).values_list("day", "count"):
            daily[(day - start).days] += count
        series[f"{service} {version}"] = daily
    chart = charts.line_chart(series, end=now.date(), title=f"{name}: calls per day, 30 days")
    context = {"name": name, "person": person, "rows": rows, "chart": chart, "quiet": quiet}
    return render(request, "gateway/consumer.html", context)


def _csv(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


@staff_only
def export_versions(request):
    rows = [
        [
            s.service,
            s.version,
            s.state,
            _iso(s.lifecycle.deprecated_at),
            _iso(s.lifecycle.sunset_at),
            s.calls_30,
            s.calls_90,
            f"{s.share_30:.4f}",
            s.errors_30,
            "" if s.p50_ms is None else s.p50_ms,
            "" if s.p95_ms is None else s.p95_ms,
            s.consumers_30,
        ]
        for s in dashboard.versions()
    ]
    header = [
        "service",
        "version",
        "state",
        "deprecated_at",
        "sunset_at",
        "calls_30d",
        "calls_90d",
        "share_30d",
        "errors_30d",
        "p50_ms_le",
        "p95_ms_le",
        "consumers_30d",
    ]
    return _csv("versions.csv", header, rows)


@staff_only
def export_consumers(request, service: str, version: str):
    quiet = _quiet_days(request)
    rows = [
        [
            c.name,
            c.owner,
            c.contact,
            c.calls_7,
            c.calls_30,
            _iso(c.last_seen),
            "yes" if c.in_quiet_window else "no",
            " ".join(c.operations),
            c.migration,
            "; ".join(move.describe() for move in c.moves),
            _iso(c.last_notified),
        ]
        for c in dashboard.consumers_of(service, version, quiet_days=quiet)
    ]
    header = [
        "consumer",
        "owner",
        "contact",
        "calls_7d",
        "calls_30d",
        "last_seen",
        f"called_in_last_{quiet}_days",
        "operations",
        "migration",
        "successors",
        "last_notified",
    ]
    return _csv(f"consumers-{service}-{version}.csv", header, rows)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; a 404 there is noise in every log."""
    response = FileResponse(open(finders.find("gateway/favicon.ico"), "rb"))  # noqa: SIM115
    response["Content-Type"] = "image/x-icon"
    response["Cache-Control"] = "public, max-age=86400"
    return response
