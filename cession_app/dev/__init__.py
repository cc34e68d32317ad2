"""Development mailbox: registered only with ``DEV_MAILBOX`` on (``make run`` sets it).

It shows every live confirmation link, so the app refuses to start with it on unless
``BASE_URL`` is a loopback address, and it answers only requests made on this machine
directly (never through a proxy).
"""

import re

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMessage
from ..security import is_local_request, no_store, view_policy

bp = Blueprint("dev", __name__, url_prefix="/dev")

# A mail's HTML part is shown as the recipient's mail program would: its inline styles
# apply, nothing else loads or runs.
MAIL_POLICY = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "img-src": "data:",
    "base-uri": "'none'",
    "form-action": "'none'",
    "frame-ancestors": "'none'",
}


@bp.before_request
def _local_only():
    """The mailbox holds live confirmation links: only show it to the machine itself."""
    if not is_local_request():
        abort(404)


def _message(message_id):
    return db.session.get(OutboxMessage, message_id) or abort(404)


def links_in(text):
    """The app's own links in a mail's text, in order, each once."""
    pattern = re.escape(current_app.config["BASE_URL"]) + r"/\S+"
    return list(dict.fromkeys(re.findall(pattern, text or "")))


@bp.route("/mailbox")
@no_store
def mailbox():
    """All mails the app has written, newest first, so a new user can click their links."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    return render_template("dev/mailbox.html", messages=db.session.scalars(query).all())


@bp.route("/mailbox/<int:message_id>")
@no_store
def message(message_id):
    """One mail: its links, its text part, and a link to its HTML part."""
    msg = _message(message_id)
    return render_template("dev/message.html", message=msg, links=links_in(msg.text_body))


@bp.route("/mailbox/<int:message_id>/html")
@no_store
@view_policy(content_security_policy=MAIL_POLICY)
def message_html(message_id):
    """A mail's HTML part, as its recipient sees it."""
    return _message(message_id).html_body
