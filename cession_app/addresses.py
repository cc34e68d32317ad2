"""E-mail addresses: one check for every entry (forms, import, API) and for the worker.

An address is accepted when mail can really be sent to it through an ordinary SMTP relay:
the part before the @ in plain ASCII (no SMTPUTF8), the domain in any script (stored in its
ASCII form, ``xn--...``), no display name, quotes or IP literals, and never a line break or
other control character (they would let an address add headers to a mail).
"""

import unicodedata

from flask_babel import gettext as _
from wtforms.validators import StopValidation

MAX_LENGTH = 254


class AddressInvalid(ValueError):
    """An address that cannot be used; ``code`` for machines, ``message`` translated."""

    def __init__(self, code, message, detail=""):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.detail = detail  # the validator's own (English) words, for logs and staff


def _has_control(value):
    # Cc: C0/C1 controls (CR, LF, NUL, TAB, ...); Cf: invisible format characters;
    # Zl/Zp: line and paragraph separators.
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


def _local_part(value):
    return value.rpartition("@")[0] if "@" in value else value


def normalize(value):
    """The address in the form to store and send to (ASCII domain), or AddressInvalid."""
    if not isinstance(value, str) or not value.strip():
        raise AddressInvalid("empty", _("Please enter an e-mail address."))
    if _has_control(value):
        raise AddressInvalid(
            "control",
            _("An e-mail address cannot contain line breaks or other control characters."),
        )
    if not _local_part(value).isascii():
        raise AddressInvalid(
            "non_ascii",
            _(
                "We cannot send mail to addresses with accented or non-Latin letters before"
                " the @ sign. Please enter an address written in plain Latin letters (an"
                " international domain after the @ is fine)."
            ),
        )
    return _validated(value)


def _validated(value):
    if len(value) > MAX_LENGTH:
        raise AddressInvalid(
            "too_long",
            _("An e-mail address can be at most %(max)d characters long.", max=MAX_LENGTH),
        )
    # Imported when an address is checked, not by every web worker at start.
    from email_validator import EmailNotValidError, validate_email

    try:
        info = validate_email(
            value,
            check_deliverability=False,  # the network may be closed; no DNS lookups
            allow_smtputf8=False,
            test_environment=True,  # accept the reserved .test domain (RFC 6761)
        )
    except EmailNotValidError as exc:
        raise AddressInvalid(
            "invalid",
            _("Please enter a valid e-mail address."),
            detail=str(exc),
        ) from None
    return info.ascii_email


def is_valid(value):
    """True when ``normalize`` accepts ``value``."""
    try:
        normalize(value)
    except AddressInvalid:
        return False
    return True


class ValidAddress:
    """A WTForms validator: the field must hold a usable address; its data is normalized."""

    def __call__(self, form, field):
        """Replace the field's data with the normalized address, or stop with the reason."""
        if not field.data:
            return
        try:
            field.data = normalize(field.data)
        except AddressInvalid as exc:
            raise StopValidation(exc.message) from None
