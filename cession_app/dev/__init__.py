"""Development mailbox: only registered when no MAIL_SERVER is configured."""

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMessage

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _local_only():
    """The mailbox holds live confirmation links: only show it to the machine itself."""
    if request.remote_addr not in ("127.0.0.1", "::1"):
        abort(404)


@bp.route("/mailbox")
def mailbox():
    """All mails the app has written, newest first, so a new user can click their links."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    return render_template("dev/mailbox.html", messages=db.session.scalars(query).all())


@bp.route("/mailbox/<int:message_id>")
def message(message_id):
    """One mail, with its HTML part."""
    msg = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("dev/message.html", message=msg)
