"""Admins' pages for the reseller integration: API keys and webhook endpoints.

They call the operations of ``flask api-key`` and ``flask webhook`` (api.auth,
webhooks.operations); support staff get 403 on every one of them.
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..api.auth import create_key, revoke_key
from ..extensions import db
from ..models import ApiKey, WebhookDelivery, WebhookEndpoint
from ..paging import page_arg, paginate
from ..webhooks import operations as webhooks
from . import bp, permissions
from .forms import (
    ALL_EVENTS,
    ApiKeyForm,
    DeleteEndpointForm,
    PostForm,
    RevokeKeyForm,
    WebhookForm,
    event_type_choices,
)


@bp.before_request
def _admins_only():
    """API keys and webhooks are for admins: support gets 403 (others: routes._staff_only)."""
    endpoint = request.endpoint or ""
    staff = current_user.is_authenticated and current_user.is_staff
    if staff and endpoint.startswith(("staff.api_key", "staff.webhook")):
        if not permissions.may(current_user, "integrations"):
            abort(403)


# ---------------------------------------------------------------- API keys
def _keys_page(form, status=200):
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())).all()
    return render_template("staff/api_keys.html", keys=keys, form=form), status


@bp.route("/api-keys")
def api_keys():
    """Every API key: name, scopes, created, last used, revoked; and a form for a new one."""
    return _keys_page(ApiKeyForm(formdata=None))


@bp.route("/api-keys", methods=["POST"])
def api_key_create():
    """Create a key; its secret is on the answer page, once (only its digest is kept)."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _keys_page(form, 422)
    key, secret = create_key(form.name.data, form.scopes.data, actor=current_user)
    db.session.commit()
    return render_template("staff/api_key_created.html", key=key, secret=secret)


def _key(key_id):
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    return key


@bp.route("/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
def api_key_revoke(key_id):
    """Ask first (GET), then revoke (POST): programs using the key stop working at once."""
    key = _key(key_id)
    form = RevokeKeyForm()
    if form.validate_on_submit():
        revoke_key(key, actor=current_user)
        db.session.commit()
        flash(_("The API key %(name)s has been revoked.", name=key.name), "success")
        return redirect(url_for("staff.api_keys"))
    return render_template("staff/api_key_revoke.html", key=key, form=form)


# ---------------------------------------------------------------- webhook endpoints
def _endpoints_page(form, status=200):
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_template(
        "staff/webhooks.html", endpoints=endpoints, form=form, event_label=_event_label
    ), status


def _event_label(kind):
    return {c.value: c.label for c in event_type_choices()}.get(kind, kind)


@bp.route("/webhooks")
def webhooks_list():
    """The webhook endpoints, and a form to register one."""
    return _endpoints_page(WebhookForm(formdata=None, event_types=[ALL_EVENTS]))


@bp.route("/webhooks", methods=["POST"])
def webhook_create():
    """Register an endpoint (the checks of ``flask webhook add``); its page shows the secret."""
    form = WebhookForm()
    if not form.validate_on_submit():
        return _endpoints_page(form, 422)
    try:
        endpoint = webhooks.create_endpoint(
            form.url.data, form.event_types.data, actor=current_user
        )
    except webhooks.EndpointRefused as refused:
        form.url.errors = [refused.message]
        return _endpoints_page(form, 422)
    db.session.commit()
    flash(
        _("The endpoint has been registered. Give its signing secret to the receiver."), "success"
    )
    return redirect(url_for("staff.webhook", endpoint_id=endpoint.id))


def _endpoint(endpoint_id):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.route("/webhooks/<int:endpoint_id>")
def webhook(endpoint_id):
    """An endpoint: its secret, its events, enable or disable, and its delivery log."""
    endpoint = _endpoint(endpoint_id)
    query = webhooks.deliveries_query(endpoint.id)
    return render_template(
        "staff/webhook.html",
        endpoint=endpoint,
        deliveries=paginate(query, page_arg(), current_app.config["PAGE_SIZE"]),
        event_label=_event_label,
    )


@bp.route("/webhooks/<int:endpoint_id>/enabled", methods=["POST"])
def webhook_enable(endpoint_id):
    """Enable the endpoint: waiting deliveries go out."""
    return _set_enabled(endpoint_id, True)


@bp.route("/webhooks/<int:endpoint_id>/disabled", methods=["POST"])
def webhook_disable(endpoint_id):
    """Disable the endpoint: its deliveries wait."""
    return _set_enabled(endpoint_id, False)


def _set_enabled(endpoint_id, enabled):
    endpoint = _endpoint(endpoint_id)
    if PostForm().validate_on_submit():
        webhooks.set_enabled(endpoint, enabled, actor=current_user)
        db.session.commit()
        if enabled:
            flash(_("The endpoint is enabled: waiting events will be sent."), "success")
        else:
            flash(_("The endpoint is disabled: its events wait until it is enabled."), "info")
    return redirect(url_for("staff.webhook", endpoint_id=endpoint.id))


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["GET", "POST"])
def webhook_delete(endpoint_id):
    """Ask first (GET), then delete the endpoint and its delivery log (POST)."""
    endpoint = _endpoint(endpoint_id)
    form = DeleteEndpointForm()
    if form.validate_on_submit():
        webhooks.delete_endpoint(endpoint, actor=current_user)
        db.session.commit()
        flash(_("The endpoint has been deleted."), "success")
        return redirect(url_for("staff.webhooks_list"))
    return render_template("staff/webhook_delete.html", endpoint=endpoint, form=form)


@bp.route("/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
def webhook_redeliver(delivery_id):
    """Send a delivery's event to its endpoint again (``flask webhook redeliver``)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    if PostForm().validate_on_submit():
        webhooks.redeliver(delivery, actor=current_user)
        db.session.commit()
        if delivery.endpoint.enabled:
            flash(_("The event will be sent again shortly."), "success")
        else:
            flash(_("The event will be sent again once the endpoint is enabled."), "info")
    return redirect(url_for("staff.webhook", endpoint_id=delivery.endpoint_id))
