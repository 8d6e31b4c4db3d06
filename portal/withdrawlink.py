"""The adviser's withdraw link: show what it withdraws, withdraw on the confirming POST.

The logic lives in `webcrypt.lifecycle.withdrawal`; the link itself is the credential (an HMAC
over message id and adviser), so there is no login. The GET only shows the message and a
button; nothing changes until the POST, so link scanners cannot withdraw anything.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from portal.context import runtime
from portal.moments import show_moment
from webcrypt.lifecycle.withdrawal import Withdrawal, inspect_withdrawal, withdraw

bp = Blueprint("withdraw", __name__)

STATUS_CODES = {"ready": 200, "withdrawn": 200, "expired": 410, "invalid": 404}


def _page(state: Withdrawal, token: str, *, just_now: bool = False) -> ResponseReturnValue:
    def when(moment: datetime | None) -> str:
        return show_moment(moment)

    return render_template(
        "withdraw/page.html",
        state=state,
        token=token,
        just_now=just_now,
        sent=when(state.sent_at),
        expires=when(state.expires_at),
        withdrawn=when(state.withdrawn_at),
    ), STATUS_CODES[state.status]


@bp.route("/withdraw/<token>", methods=["GET"])
def confirm(token: str) -> ResponseReturnValue:
    """Show the message the link names and a button that withdraws it."""
    return _page(inspect_withdrawal(runtime(), token), token)


@bp.route("/withdraw/<token>", methods=["POST"])
def perform(token: str) -> ResponseReturnValue:
    """Withdraw the message (idempotent) and show the result."""
    before = inspect_withdrawal(runtime(), token)
    state = withdraw(runtime(), token, ip=request.remote_addr or "")
    return _page(state, token, just_now=before.status == "ready")
