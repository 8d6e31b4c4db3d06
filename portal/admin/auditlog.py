"""The audit log: search and CSV export. There is no way to change or delete an entry here."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from keystore import reports
from portal.admin import bp
from portal.admin.access import page_number, record, require, services

PAGE_SIZE = 50
MAX_PAGE = 100_000
EXPORT_LIMIT = 100_000
#: Spreadsheet programs run cells that start like a formula; such cells get a leading '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_day(value: str) -> date | None:
    """Return a YYYY-MM-DD date, or None when empty or malformed."""
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def filters() -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Read the search filters: (query arguments, what the form shows, field errors)."""
    shown = {
        name: request.args.get(name, "").strip()[:320] for name in ("q", "action", "since", "until")
    }
    errors: dict[str, str] = {}
    since = parse_day(shown["since"])
    until = parse_day(shown["until"])
    for name, parsed in (("since", since), ("until", until)):
        if shown[name] and parsed is None:
            errors[name] = "Use the form YYYY-MM-DD."
    query: dict[str, Any] = {"text": shown["q"], "action": shown["action"]}
    if since:
        query["since"] = datetime.combine(since, time.min, UTC)
    if until:  # the whole "until" day is included
        query["until"] = datetime.combine(until + timedelta(days=1), time.min, UTC)
    return query, shown, errors


@bp.route("/audit")
@require("admin")
def audit() -> ResponseReturnValue:
    """Search the audit log, newest first."""
    query, shown, errors = filters()
    page = page_number(MAX_PAGE)
    with services() as found:
        events = reports.search_audit(
            found.session, **query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        actions = reports.audit_actions(found.session)
    status = 400 if errors else 200
    return render_template(
        "admin/audit.html",
        events=events[:PAGE_SIZE],
        has_next=len(events) > PAGE_SIZE,
        page=page,
        shown=shown,
        errors=errors,
        actions=actions,
    ), status


def cell(value: object) -> str:
    """Return a CSV cell that no spreadsheet mistakes for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.route("/audit.csv")
@require("admin")
def audit_csv() -> ResponseReturnValue:
    """Export the matching audit events as CSV (the export itself is audited)."""
    query, shown, _errors = filters()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["time (UTC)", "action", "actor", "target", "ip", "detail"])
    with services() as found:
        events = reports.search_audit(found.session, **query, limit=EXPORT_LIMIT)
        for event in events:
            writer.writerow(
                [
                    event.at.astimezone(UTC).isoformat(timespec="seconds"),
                    *(cell(v) for v in (event.action, event.actor, event.target, event.ip)),
                    cell(event.detail),
                ]
            )
        filters_used = ", ".join(f"{k}={v}" for k, v in shown.items() if v) or "all"
        record(found, "audit.export", detail=f"{len(events)} events ({filters_used})")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
