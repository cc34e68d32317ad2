"""Model objects as the API shows them (the same field names as import-data's records)."""


def iso(value):
    """A date or datetime in ISO 8601, or None."""
    return value.isoformat() if value is not None else None


def account(acc):
    """An account: the import record without the password."""
    return {
        "code": acc.code,
        "number": acc.number,
        "login": acc.login,
        "name": acc.name,
        "email": acc.email,
        "language": acc.language,
        "timezone": acc.timezone,
        "staff": acc.is_staff,
        "billing": {"name": acc.billing_name, "address": acc.billing_address, "vat_id": acc.vat_id},
    }


def service(svc):
    """A service, owner and payer by customer code."""
    return {
        "id": svc.external_id,
        "domain": svc.domain,
        "kind": svc.kind,
        "owner": svc.owner.code,
        "payer": svc.payer.code,
        "expires_on": iso(svc.expires_on),
        "state": svc.state,
        "auto_renew": svc.auto_renew,
    }


def payment_request(pr):
    """A payment request; ``payer`` is the account it is made out to."""
    return {
        "id": pr.external_id,
        "service": pr.service.external_id,
        "issued_on": iso(pr.issued_on),
        "due_on": iso(pr.due_on),
        "amount": f"{pr.amount:.2f}",
        "currency": pr.currency,
        "paid_on": iso(pr.paid_on),
        "payer": pr.payer.code if pr.payer is not None else None,
    }


def _party_state(party):
    if not party.must_confirm:
        return "not_needed"
    if party.confirmed_at is not None:
        return "confirmed"
    if party.declined_at is not None:
        return "declined"
    return "waiting"


def transfer(req, codes):
    """A transfer request with its services and parties (``codes``: account id -> code)."""
    return {
        "id": req.id,
        "state": req.state,
        "direction": req.direction,
        "change": req.change,
        "domain": req.domain,
        "domains": req.domains,
        "initiator": codes[req.initiator_id],
        "from_account": codes[req.from_account_id],
        "to_account": codes[req.to_account_id],
        "created_at": iso(req.created_at),
        "expires_at": iso(req.expires_at),
        "confirmed_at": iso(req.confirmed_at),
        "ended_at": iso(req.ended_at),
        "failure_reason": req.failure_reason,
        "services": [
            {
                "id": item.service.external_id,
                "domain": item.service.domain,
                "old_owner": codes[item.old_owner_id],
                "old_payer": codes[item.old_payer_id],
                "new_owner": codes[item.new_owner_id],
                "new_payer": codes[item.new_payer_id],
            }
            for item in req.items
        ],
        "parties": [
            {
                "account": codes[p.account_id],
                "roles": p.role_list,
                "state": _party_state(p),
                "confirmed_at": iso(p.confirmed_at),
                "declined_at": iso(p.declined_at),
            }
            for p in req.parties
        ],
    }


def transfer_with_codes(req):
    """A transfer request, looking up the customer codes of every account in it."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Account

    ids = {req.initiator_id, req.from_account_id, req.to_account_id}
    ids |= {p.account_id for p in req.parties}
    for item in req.items:
        ids |= {item.old_owner_id, item.old_payer_id, item.new_owner_id, item.new_payer_id}
    rows = db.session.execute(select(Account.id, Account.code).where(Account.id.in_(ids)))
    return transfer(req, dict(rows.all()))


def event(ev, codes):
    """An audit event as the events feed shows it."""
    return {
        "id": ev.id,
        "type": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "actor": codes.get(ev.actor_id),
        "channel": ev.channel,
        "created_at": iso(ev.created_at),
        "details": ev.details or {},
    }
