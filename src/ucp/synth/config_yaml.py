"""The `ucp.yaml` written next to the generated files: it maps all seven source files."""

from __future__ import annotations

from ucp.synth.corrupt import JUNK_EMAILS, JUNK_PHONES


def _flow(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def config_text() -> str:
    """The YAML text (fixed for a version of the generator, so outputs stay byte-identical)."""
    phones = sorted({*JUNK_PHONES, "0000000000", "9999999999", "n/a"})
    return f"""\
# Written by `ucp generate`: maps every file of the synthetic data set (see docs/data.md).
version: 1

identifiers:
  email: {{max_per_profile: 5, priority: 10, blocked: {_flow(JUNK_EMAILS)}}}
  phone: {{max_per_profile: 5, priority: 20, blocked: {_flow(phones)}}}
  crm_id: {{max_per_profile: 3, priority: 30}}
  shop_customer_id: {{max_per_profile: 3, priority: 40}}
  user_id: {{max_per_profile: 3, priority: 50}}
  loyalty_id: {{max_per_profile: 2, priority: 60}}
  anonymous_id: {{max_per_profile: 50, priority: 90}}

sources:
  crm:                      # CRM contact export (Salesforce-like); US instance
    kind: records
    format: csv
    trust_rank: 1
    default_country: US
    date_order: MDY         # Birthdate is MM/DD/YYYY; CreatedDate is ISO 8601
    source_key: ContactId
    mapping:
      given_name: FirstName
      family_name: LastName
      email: Email
      phone: Phone
      street: MailingStreet
      locality: MailingCity
      postcode: MailingPostalCode
      country: MailingCountry
      birth_date: Birthdate
      created_at: CreatedDate
    identifiers: {{email: Email, phone: Phone, crm_id: ContactId}}

  shop_customers:           # e-commerce accounts (nested JSON); phones mostly E.164
    kind: records
    format: jsonl
    trust_rank: 2
    default_country: US
    date_order: YMD
    source_key: id
    mapping:
      email: email
      given_name: first_name
      family_name: last_name
      phone: phone
      street: default_address.address1
      unit: default_address.address2
      locality: default_address.city
      region: default_address.province_code
      postcode: default_address.zip
      country: default_address.country_code
      created_at: created_at
    # the web app's userId is the shop account id, hence user_id on the same field
    identifiers: {{shop_customer_id: id, user_id: id, email: email, phone: phone}}

  shop_orders:              # one event per order, attached to its account
    kind: events
    format: jsonl
    trust_rank: 3
    date_order: YMD
    source_key: order_id
    event: {{name: Order Completed, timestamp: created_at, properties: "*"}}
    identifiers: {{shop_customer_id: customer_id, email: email}}

  support_tickets:          # one record per ticket; EU help desk writes DD/MM/YYYY HH:MM
    kind: records
    format: csv
    trust_rank: 4
    default_country: GB
    date_order: DMY
    source_key: ticket_id
    mapping:
      full_name: requester_name
      email: requester_email
      phone: requester_phone
      created_at: created_at
    identifiers: {{email: requester_email, phone: requester_phone}}

  newsletter:               # email tool export; German team, DD.MM.YYYY HH:MM:SS
    kind: records
    format: csv
    trust_rank: 5
    default_country: DE
    date_order: DMY
    source_key: subscriber_id
    mapping:
      email: email
      given_name: first_name
      family_name: last_name
      country: country
      created_at: optin_time
    identifiers: {{email: email}}

  pos_receipts:             # in-store receipts by loyalty card; tills write DD/MM/YYYY
    kind: events
    format: csv
    trust_rank: 6
    default_country: FR     # stores are in four countries: store_country says which
    date_order: DMY
    source_key: receipt_id
    mapping:
      loyalty_id: loyalty_card
      full_name: customer_name
      phone: customer_phone
      country: store_country
    event:
      name: Order Completed
      timestamp: purchased_at
      properties: [store_id, store_country, items, total, currency, payment_method]
    identifiers: {{loyalty_id: loyalty_card, phone: customer_phone}}

  web_events:               # Segment-spec messages: page, identify, track
    kind: segment
    format: jsonl
    trust_rank: 7
    date_order: YMD
    source_key: messageId
    mapping:
      email: traits.email
      given_name: traits.firstName
      family_name: traits.lastName
      phone: traits.phone
      street: traits.address.street
      locality: traits.address.city
      postcode: traits.address.postalCode
      country: traits.address.country
    identifiers: {{user_id: userId, anonymous_id: anonymousId, email: traits.email}}

consent:
  purposes:
    email_marketing: {{default: denied, legal_basis: consent, channels: [email]}}
    sms_marketing: {{default: denied, legal_basis: consent, channels: [sms]}}
    personalization: {{default: denied, legal_basis: consent, channels: [web, email]}}
    analytics: {{default: granted, legal_basis: legitimate_interests, channels: [web]}}
"""
