"""Email standardization: syntax check (no DNS), IDNA domain, provider-aware matching form."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from ucp.domain.standardize.result import Standardized, make
from ucp.domain.standardize.simple import clean_text, is_placeholder_text

#: provider domains whose mailboxes ignore dots in the local part and accept +tags
_GMAIL: Final[frozenset[str]] = frozenset({"gmail.com", "googlemail.com"})
#: provider domains that deliver local+tag@ to local@ (tag separator '+')
_PLUS_TAGS: Final[frozenset[str]] = frozenset({
    "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "live.com",
    "live.co.uk", "live.fr", "live.de", "msn.com", "outlook.fr", "outlook.de",
    "icloud.com", "me.com", "mac.com", "fastmail.com", "fastmail.fm", "protonmail.com",
    "protonmail.ch", "proton.me", "pm.me", "gmx.de", "gmx.net", "gmx.com", "web.de",
    "posteo.de", "mailbox.org", "zoho.com", "hey.com", "tutanota.com",
})
#: provider domains that deliver local-tag@ to local@ (Yahoo "disposable addresses")
_DASH_TAGS: Final[frozenset[str]] = frozenset({
    "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com", "rocketmail.com",
})

ROLE_ACCOUNTS: Final[frozenset[str]] = frozenset({
    "info", "noreply", "no-reply", "donotreply", "do-not-reply", "admin", "administrator",
    "sales", "support", "contact", "office", "hello", "help", "billing", "accounts",
    "accounting", "marketing", "team", "webmaster", "postmaster", "hostmaster", "abuse",
    "service", "customerservice", "enquiries", "inquiries", "jobs", "careers", "hr",
    "mail", "newsletter", "orders", "privacy", "security", "root", "kontakt", "verkauf",
    "buero", "service-client", "contact-us", "feedback", "reception", "bookings",
})

DISPOSABLE_DOMAINS: Final[frozenset[str]] = frozenset({
    "mailinator.com", "10minutemail.com", "10minutemail.net", "guerrillamail.com",
    "guerrillamail.net", "guerrillamail.org", "guerrillamailblock.com", "sharklasers.com",
    "grr.la", "yopmail.com", "yopmail.fr", "yopmail.net", "trashmail.com", "trashmail.de",
    "trashmail.net", "tempmail.com", "temp-mail.org", "tempmail.net", "tempr.email",
    "throwawaymail.com", "getnada.com", "nada.email", "dispostable.com", "maildrop.cc",
    "mailnesia.com", "mintemail.com", "mohmal.com", "fakeinbox.com", "spamgourmet.com",
    "mytemp.email", "emailondeck.com", "burnermail.io", "discard.email", "spambox.us",
    "wegwerfmail.de", "wegwerfmail.net", "einrot.com", "jetable.org", "mailcatch.com",
    "33mail.com", "mailpoof.com", "tempinbox.com", "spam4.me", "incognitomail.org",
    "moakt.com", "tmail.ws", "emailfake.com", "crazymailing.com", "mail-temp.com",
})

_PLACEHOLDER_DOMAINS: Final[frozenset[str]] = frozenset({
    "example.com", "example.org", "example.net", "test.com", "none.com", "noemail.com",
    "nomail.com", "email.com.invalid", "domain.com", "xxx.com", "mail.invalid", "na.com",
    "unknown.com", "noreply.com", "invalid.com", "asdf.com",
})
_PLACEHOLDER_TLDS: Final[tuple[str, ...]] = (".invalid", ".test", ".example", ".localhost")
_PLACEHOLDER_LOCALS: Final[frozenset[str]] = frozenset({
    "test", "none", "noemail", "no.email", "nomail", "no-email", "no_email", "na", "n/a",
    "unknown", "null", "nobody", "dummy", "fake", "asdf", "xxx", "x", "email", "keine",
    "aucun", "noone", "no-one", "declined", "refused",
})


@lru_cache(maxsize=65536)
def standardize_email(raw: str | None) -> Standardized:
    """Validate (syntax only), lower-case and IDNA-encode; match form applies provider rules.

    Example:
        >>> standardize_email("John.Smith+news@GoogleMail.com").match
        'johnsmith@gmail.com'
    """
    found = _address(raw)
    if isinstance(found, Standardized):
        return found
    local, domain = found
    value = f"{local}@{domain}"
    flags: list[str] = []
    base = _base_local(local.split("+", 1)[0].split("-", 1)[0])
    if local in ROLE_ACCOUNTS or base in ROLE_ACCOUNTS:
        flags.append("role_account")
    if domain in DISPOSABLE_DOMAINS or domain.split(".", 1)[-1] in DISPOSABLE_DOMAINS:
        flags.append("disposable")
    match = _match_form(local, domain)
    return make("email", raw, value, match, _parts(local, domain), flags)


def email_match(raw: str) -> str | None:
    """`standardize_email(raw).match` without the rest of the result (flags, parts): for a
    value asked for once, such as each distinct email of a file being deduplicated.

    Example:
        >>> email_match("John.Smith+news@GoogleMail.com")
        'johnsmith@gmail.com'
    """
    found = _address(raw)
    if isinstance(found, Standardized):
        return found.match
    return _match_form(*found)


def _address(raw: str | None) -> Standardized | tuple[str, str]:
    """The answer for a value that is no usable address, else its checked (local, domain)."""
    if raw is None:
        return make("email", None, None, None)
    text = clean_text(raw).strip("<>\"' ;,")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if is_placeholder_text(text):
        return make("email", raw, None, None, flags=("placeholder",))
    if text.count("@") != 1:
        return make("email", raw, None, None, flags=("invalid",))
    local, domain = text.rsplit("@", 1)
    local, domain = local.strip().lower(), domain.strip().lower().rstrip(".")
    if _is_placeholder(local, domain):
        return make("email", raw, f"{local}@{domain}", None, _parts(local, domain),
                    ("placeholder",))
    if not _is_plain(local, domain):
        from email_validator import EmailNotValidError, validate_email

        try:
            checked = validate_email(f"{local}@{domain}", check_deliverability=False)
        except (EmailNotValidError, UnicodeError, ValueError):
            return make("email", raw, None, None, flags=("invalid",))
        local = checked.local_part.lower()
        domain = (checked.ascii_domain or checked.domain).lower()
    return local, domain


_PLAIN_LOCAL = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*")
_PLAIN_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
#: special-use names email-validator rejects; such domains always take the full check
_SPECIAL_USE = (".arpa", ".invalid", ".local", ".localhost", ".onion", ".test")


def _is_plain(local: str, domain: str) -> bool:
    """Plain ASCII addresses that email-validator is known to accept unchanged (fast path)."""
    return (
        len(local) <= 64
        and len(local) + len(domain) < 254
        and _PLAIN_LOCAL.fullmatch(local) is not None
        and _PLAIN_DOMAIN.fullmatch(domain) is not None
        and "xn--" not in domain
        and not domain.endswith(_SPECIAL_USE)
    )


def _base_local(local: str) -> str:
    return local.replace(".", "").replace("_", "")


def _is_placeholder(local: str, domain: str) -> bool:
    if domain in _PLACEHOLDER_DOMAINS or domain.endswith(_PLACEHOLDER_TLDS):
        return True
    if local in _PLACEHOLDER_LOCALS and (domain.split(".", 1)[0] in _PLACEHOLDER_LOCALS):
        return True
    return local in {"noemail", "no.email", "nomail", "no-email", "no_email", "none", "keine"}


def _match_form(local: str, domain: str) -> str:
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "") or local
        domain = "gmail.com"
    elif domain in _PLUS_TAGS:
        local = local.split("+", 1)[0] or local
    elif domain in _DASH_TAGS:
        local = local.split("-", 1)[0] or local
    return f"{local}@{domain}"


def _parts(local: str, domain: str) -> dict[str, str]:
    return {"local": local, "domain": domain}
