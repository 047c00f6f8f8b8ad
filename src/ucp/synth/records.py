"""Record sources: the CRM export, the shop's customers (and their orders), support tickets and
the newsletter list — each in its own native columns, dates and country conventions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ucp.synth.catalog import basket
from ucp.synth.chunk import Chunk, base62, dmy_dot, dmy_slash, iso_offset, mdy, salesforce
from ucp.synth.people import Address, Person
from ucp.synth.phones import Phone

CRM_COLUMNS = ["ContactId", "FirstName", "LastName", "Email", "Phone", "MailingStreet",
               "MailingCity", "MailingPostalCode", "MailingCountry", "Birthdate", "CreatedDate"]
SUPPORT_COLUMNS = ["ticket_id", "requester_name", "requester_email", "requester_phone",
                   "subject", "status", "created_at", "closed_at"]
NEWSLETTER_COLUMNS = ["subscriber_id", "email", "first_name", "last_name", "country", "status",
                      "optin_time", "confirm_time", "unsubscribe_time", "signup_source"]

_SUBJECTS = ("Where is my order?", "Return request", "Wrong size delivered", "Refund not received",
             "Change delivery address", "Damaged item", "Cannot log in", "Discount code invalid",
             "Question about a product", "Cancel my order", "Invoice needed")
_NEWSLETTER_STATUS = (("subscribed", 0.72), ("unsubscribed", 0.17), ("cleaned", 0.05),
                      ("pending", 0.06))


def pick_email(person: Person, chunk: Chunk, required: bool = False) -> str:
    """The email this source holds: often the person's first, sometimes their other one."""
    c = chunk.corrupt
    if not required and c.missing():
        return ""
    email = person.emails[0]
    if len(person.emails) > 1 and c.roll("other_email"):
        email = person.emails[1]
    return c.email(email)


def pick_phone(person: Person, chunk: Chunk) -> Phone:
    if person.landline is not None and chunk.rng.random() < 0.3:
        return person.landline
    return person.mobile


def address_at(person: Person, chunk: Chunk, when: datetime) -> Address:
    """The address on file at `when`; sometimes stale (a move the source never heard of)."""
    current = person.address_on(when.date())
    if len(person.addresses) > 1 and current is person.addresses[-1][1] \
            and chunk.corrupt.roll("stale_address"):
        return person.addresses[-2][1]
    return current


def _country_name(chunk: Chunk, person: Person) -> str:
    names = chunk.world.pools[person.locale].spec.country_names
    if chunk.corrupt.roll("address_format"):
        return names[chunk.rng.randrange(len(names))]
    return names[0]


def crm(person: Person, chunk: Chunk) -> None:
    """One or two CRM contacts (US instance: MM/DD/YYYY birth dates, US phone style)."""
    c, rng = chunk.corrupt, chunk.rng
    spec = chunk.world.pools[person.locale].spec
    copies = 2 if c.roll("crm_duplicate") else 1
    for _ in range(copies):
        created = chunk.moment()
        given, family, _middle = c.names(person.given_name, person.family_name_on(created.date()),
                                         person.middle_name)
        address = address_at(person, chunk, created)
        has_birth = rng.random() < 0.7
        birth = mdy(c.birth_date(person.birth_date)) if has_birth else ""
        key = "003" + base62(chunk.next_id("crm"), 12)
        row = [
            key, chunk.maybe(given), family, pick_email(person, chunk),
            chunk.maybe(c.phone(pick_phone(person, chunk), "US", False)),
            chunk.maybe(c.street_line(address, spec)), chunk.maybe(address.locality),
            chunk.maybe(c.postcode(address.postcode)), chunk.maybe(_country_name(chunk, person)),
            chunk.maybe(birth) if birth else "", salesforce(created),
        ]
        chunk.add_csv("crm", row, key, person)


def shop(person: Person, chunk: Chunk) -> tuple[str, list[dict[str, object]]]:
    """Shop accounts (sometimes a second, forgotten one) and their orders; returns the main
    account id (the web app's userId) and its orders."""
    c, rng = chunk.corrupt, chunk.rng
    spec = chunk.world.pools[person.locale].spec
    accounts = 2 if c.roll("shop_duplicate") else 1
    main_id = ""
    main_orders: list[dict[str, object]] = []
    for n in range(accounts):
        created = chunk.moment()
        customer_id = 6_000_000_000_000 + chunk.next_id("shop")
        main_id = main_id or str(customer_id)
        given, family, _ = c.names(person.given_name, person.family_name_on(created.date()))
        address = address_at(person, chunk, created)
        email = pick_email(person, chunk, required=True)
        phone = c.phone(pick_phone(person, chunk), person.mobile.country, True) \
            if rng.random() < 0.45 else None
        default_address = None
        if rng.random() < 0.85:
            default_address = {
                "address1": chunk.maybe(c.street_line(replace(address, unit=None), spec)),
                "address2": f"{spec.unit_words[0]} {address.unit}" if address.unit else None,
                "city": address.locality,
                "province_code": address.region,
                "zip": c.postcode(address.postcode),
                "country_code": address.country,
            }
        n_orders = _order_count(chunk) if n == 0 else min(1, _order_count(chunk))
        orders, total = _orders(person, chunk, customer_id, email, created, n_orders)
        if n == 0:
            main_orders = orders
        customer = {
            "id": customer_id,
            "email": email,
            "first_name": chunk.maybe(given) or None,
            "last_name": family,
            "phone": phone,
            "created_at": iso_offset(created, address.country),
            "accepts_marketing": rng.random() < 0.4,
            "orders_count": n_orders,
            "total_spent": f"{total:.2f}",
            "currency": spec.currency,
            "default_address": default_address,
        }
        chunk.add_json("shop_customers", customer, str(customer_id), person)
        for order in orders:
            chunk.add_json("shop_orders", order, str(order["order_id"]), person)
    return main_id, main_orders


def _order_count(chunk: Chunk) -> int:
    """Repeat purchases: many buy once or never, a few very often (Pareto tail)."""
    if chunk.rng.random() < 0.12:
        return 0
    return min(80, int(chunk.rng.paretovariate(1.4)))


def _orders(
    person: Person, chunk: Chunk, customer_id: int, email: str, since: datetime, count: int
) -> tuple[list[dict[str, object]], float]:
    spec = chunk.world.pools[person.locale].spec
    moments = sorted(chunk.moment(since) for _ in range(count))
    orders: list[dict[str, object]] = []
    spent = 0.0
    for when in moments:
        lines = basket(chunk.world.catalog, chunk.rng)
        total = round(sum(p.price * q for p, q in lines), 2)
        spent += total
        orders.append({
            "order_id": 5_000_000_000_000 + chunk.next_id("order"),
            "customer_id": customer_id,
            "email": email,
            "created_at": iso_offset(when, person.mobile.country),
            "currency": spec.currency,
            "total_price": f"{total:.2f}",
            "line_items": [
                {"sku": p.sku, "name": p.name, "category": p.category, "quantity": q,
                 "price": f"{p.price:.2f}"}
                for p, q in lines
            ],
        })
    return orders, spent


def support(person: Person, chunk: Chunk) -> None:
    """1-3 tickets by one requester (EU help desk: DD/MM/YYYY, GB default country)."""
    c, rng = chunk.corrupt, chunk.rng
    given, family, _ = c.names(person.given_name, person.family_name)
    name = f"{given} {family}" if rng.random() < 0.85 else given
    email = pick_email(person, chunk)
    phone = c.phone(pick_phone(person, chunk), "GB", False) if rng.random() < 0.35 else ""
    for _ in range(1 + int(rng.paretovariate(2.5)) % 3):
        created = chunk.moment()
        closed = created + timedelta(minutes=rng.randrange(5, 60 * 24 * 9))
        is_closed = rng.random() < 0.9
        key = str(100_000 + chunk.next_id("ticket"))
        row = [key, name, email, phone, _SUBJECTS[rng.randrange(len(_SUBJECTS))],
               "closed" if is_closed else "open", dmy_slash(created, seconds=False),
               dmy_slash(closed, seconds=False) if is_closed else ""]
        chunk.add_csv("support_tickets", row, key, person)


def newsletter(person: Person, chunk: Chunk) -> None:
    """One subscription (German email tool: DD.MM.YYYY, DE default country)."""
    c, rng = chunk.corrupt, chunk.rng
    given, family, _ = c.names(person.given_name, person.family_name)
    status = rng.choices([s for s, _ in _NEWSLETTER_STATUS], [w for _, w in _NEWSLETTER_STATUS])[0]
    optin = chunk.moment()
    confirm = optin + timedelta(minutes=rng.randrange(1, 60 * 48))
    unsub = chunk.moment(confirm) if status == "unsubscribed" else None
    key = f"{chunk.next_id('newsletter') * 2654435761 % 2**40:010x}"
    row = [key, pick_email(person, chunk, required=True),
           given if rng.random() < 0.6 else "", family if rng.random() < 0.3 else "",
           _country_name(chunk, person) if rng.random() < 0.5 else "", status, dmy_dot(optin),
           dmy_dot(confirm) if status != "pending" else "", dmy_dot(unsub) if unsub else "",
           ("footer", "checkout", "popup", "store")[rng.randrange(4)]]
    chunk.add_csv("newsletter", row, key, person)
