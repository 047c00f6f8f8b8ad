"""Event sources: in-store receipts by loyalty card, and Segment-spec web messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from ucp.synth.catalog import basket
from ucp.synth.chunk import Chunk, base62, dmy_slash, iso_z
from ucp.synth.people import Person
from ucp.synth.records import address_at, pick_email

POS_COLUMNS = ["receipt_id", "store_id", "store_country", "purchased_at", "loyalty_card",
               "customer_name", "customer_phone", "items", "total", "currency", "payment_method"]

_STORE_BASE = {"US": 100, "GB": 200, "DE": 300, "FR": 400}
_PAYMENTS = ("card", "card", "card", "cash", "mobile")
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537",
)
_PAGES = ("/", "/sale", "/new-in", "/stores", "/help", "/account", "/cart")
WEB_HOST = "https://shop.example.com"


def pos(person: Person, chunk: Chunk) -> None:
    """Receipts in the person's home-country stores, by loyalty card; a lost card is replaced
    by a second one. Tills write DD/MM/YYYY and phones in the store country's style."""
    c, rng = chunk.corrupt, chunk.rng
    spec = chunk.world.pools[person.locale].spec
    country = person.mobile.country
    cards = [f"LC{(chunk.next_id('card') * 7919 + 13) % 10**12:012d}"]
    switch = None
    if rng.random() < 0.08:
        cards.append(f"LC{(chunk.next_id('card') * 7919 + 13) % 10**12:012d}")
        switch = chunk.moment()
    count = 1 + min(60, int(rng.paretovariate(1.3)))
    home_store = _STORE_BASE[country] + rng.randrange(1, 30)
    for when in sorted(chunk.moment() for _ in range(count)):
        card = cards[1] if switch is not None and when >= switch else cards[0]
        store = home_store if rng.random() < 0.8 else _STORE_BASE[country] + rng.randrange(1, 30)
        name = ""
        if rng.random() < 0.35:
            given, family, _ = c.names(person.given_name, person.family_name_on(when.date()))
            name = f"{given} {family}"
        phone = c.phone(person.mobile, country, False) if rng.random() < 0.45 else ""
        lines = basket(chunk.world.catalog, rng)
        total = round(sum(p.price * q for p, q in lines), 2)
        key = f"R{store}-{chunk.next_id('receipt'):010d}"
        row = [key, str(store), country, dmy_slash(when), card, name, phone,
               str(sum(q for _, q in lines)), f"{total:.2f}", spec.currency,
               _PAYMENTS[rng.randrange(len(_PAYMENTS))]]
        chunk.add_csv("pos_receipts", row, key, person)


def web(person: Person, chunk: Chunk, user_id: str | None, orders: list[dict[str, object]]) -> None:
    """Browsing on 1-2 devices: anonymous pages, then an identify (userId + anonymousId +
    traits), then tracked events; later sessions on the device carry the same anonymousId.
    Some devices never identify (their events can only be tied to the person by the truth)."""
    rng = chunk.rng
    spec = chunk.world.pools[person.locale].spec
    user_id = user_id or "usr_" + base62(chunk.next_id("web_user"), 10)
    devices = 1 if rng.random() < 0.7 else 2
    first_anonymous = ""
    for d in range(devices):
        anonymous_id = chunk.uuid()
        first_anonymous = first_anonymous or anonymous_id
        identifies = d == 0 or rng.random() < 0.75
        agent = _AGENTS[rng.randrange(len(_AGENTS))]
        context = {"ip": f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}."
                         f"{rng.randrange(1, 255)}",
                   "locale": spec.language_tag, "userAgent": agent,
                   "library": {"name": "analytics.js", "version": "2.11.1"}}
        sessions = sorted(chunk.moment() for _ in range(1 + int(rng.paretovariate(2.0)) % 4))
        for s, start in enumerate(sessions):
            logged_in = identifies and (s == 0 or rng.random() < 0.7)
            uid = user_id if logged_in else None
            when = start
            for _ in range(1 + int(rng.paretovariate(1.8)) % 4):
                page = _PAGES[rng.randrange(len(_PAGES))]
                _message(chunk, person, "page", when, anonymous_id, None if s == 0 else uid,
                         context, {"name": page.strip("/") or "home",
                                   "properties": {"path": page, "url": WEB_HOST + page}})
                when += timedelta(seconds=rng.randrange(5, 180))
            if identifies and s == 0:
                _message(chunk, person, "identify", when, anonymous_id, user_id, context,
                         {"traits": _traits(person, chunk, when)})
            for _ in range(int(rng.paretovariate(2.0)) % 3):
                product = chunk.world.catalog.pick(rng)
                when += timedelta(seconds=rng.randrange(5, 240))
                _message(chunk, person, "track", when, anonymous_id, uid, context, {
                    "event": "Product Viewed" if rng.random() < 0.8 else "Product Added",
                    "properties": {"product_id": product.sku, "sku": product.sku,
                                   "name": product.name, "category": product.category,
                                   "price": product.price, "currency": spec.currency}})
    for order in orders:
        if rng.random() < 0.5:
            when = datetime.fromisoformat(str(order["created_at"])[:19])
            _message(chunk, person, "track", when, first_anonymous, user_id, None, {
                "event": "Order Completed",
                "properties": {"order_id": str(order["order_id"]), "total": order["total_price"],
                               "currency": order["currency"],
                               "products": [{"sku": li["sku"], "quantity": li["quantity"]}
                                            for li in order["line_items"]]}})  # type: ignore


def _traits(person: Person, chunk: Chunk, when: datetime) -> dict[str, object]:
    c, rng = chunk.corrupt, chunk.rng
    given, family, _ = c.names(person.given_name, person.family_name_on(when.date()))
    traits: dict[str, object] = {"email": pick_email(person, chunk) or None,
                                 "firstName": given, "lastName": family}
    if rng.random() < 0.3:
        traits["phone"] = c.phone(person.mobile, person.mobile.country, True)
    if rng.random() < 0.25:
        address = address_at(person, chunk, when)
        spec = chunk.world.pools[person.locale].spec
        traits["address"] = {"street": c.street_line(address, spec), "city": address.locality,
                             "postalCode": address.postcode, "country": address.country}
    return {k: v for k, v in traits.items() if v is not None}


def _message(
    chunk: Chunk, person: Person, kind: str, when: datetime, anonymous_id: str,
    user_id: str | None, context: dict[str, object] | None, body: dict[str, object],
) -> None:
    message: dict[str, object] = {"type": kind, "messageId": chunk.uuid(),
                                  "anonymousId": anonymous_id}
    if user_id:
        message["userId"] = user_id
    message["timestamp"] = iso_z(when)
    if context is not None:
        message["context"] = context
    message.update(body)
    chunk.add_json("web_events", message, str(message["messageId"]), person)
