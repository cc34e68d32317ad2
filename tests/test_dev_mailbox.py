"""The development mailbox: only without MAIL_SERVER, only from the machine itself."""

from cession_app import create_app
from cession_app.extensions import db
from cession_app.models import OutboxMessage
from cession_app.worker import run_once
from tests.conftest import fresh_schema


def _mail(recipient="jan@example.test"):
    db.session.add(
        OutboxMessage(
            recipient=recipient,
            template="t",
            language="en",
            subject="Please confirm",
            text_body="link",
            html_body="<p>x</p>",
        )
    )
    db.session.commit()


def test_mailbox_shows_mails_when_no_mail_server(app_config):
    app_config["MAIL_SERVER"] = ""
    app = create_app(app_config)
    with app.app_context():
        fresh_schema()
        _mail()
        assert run_once()["mails"] == 1
        client = app.test_client()
        page = client.get("/dev/mailbox").get_data(as_text=True)
        assert "Please confirm" in page and "jan@example.test" in page
        remote = client.get("/dev/mailbox", environ_base={"REMOTE_ADDR": "10.0.0.7"})
        assert remote.status_code == 404
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_no_mailbox_with_a_mail_server(client):
    assert client.get("/dev/mailbox").status_code == 404
