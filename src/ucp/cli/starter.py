"""The commented starter `ucp.yaml` written by `ucp init`."""

STARTER_CONFIG = """\
# ucp.yaml — what your sources are and how they map onto canonical attributes.
# Validate it by running any command; errors name the key path and line at fault.
version: 1

# Identifier types: records sharing a linkable value are one person, within these rules.
identifiers:
  email:
    max_per_profile: 5        # a profile never holds more distinct emails than this
    priority: 10              # lower links first
    blocked: [test@test.com, noemail@example.com, none@none.com]
  phone:
    max_per_profile: 5
    priority: 20
    blocked: ["0000000000", "1234567890"]
  crm_id:
    max_per_profile: 3

sources:
  crm:                        # the name you pass to `ucp ingest --source crm`
    kind: records             # records | events | segment
    trust_rank: 1             # 1 = most trusted (used by survivorship)
    default_country: US       # ISO 3166 alpha-2, for national phone numbers and postcodes
    date_order: MDY           # how this source writes ambiguous dates: DMY | MDY | YMD
    source_key: ContactId     # column (or dotted JSON path) that keys a record in this source
    mapping:                  # canonical attribute: source column or JSON path
      given_name: FirstName
      family_name: LastName
      email: Email
      phone: Phone
      street: MailingStreet
      locality: MailingCity
      postcode: MailingPostalCode
      country: MailingCountry
      birth_date: Birthdate
    identifiers:              # identifier type: column; each type needs a rule above
      email: Email
      phone: Phone
      crm_id: ContactId

  # orders:
  #   kind: events
  #   source_key: order_id
  #   event: {name: Order Completed, timestamp: created_at, properties: "*"}
  #   identifiers: {email: customer.email}

consent:
  purposes:
    email_marketing: {default: denied, legal_basis: consent, channels: [email]}
    analytics: {default: granted, legal_basis: legitimate_interests}

# How records become persons; the defaults work on person data (docs/resolution.md).
resolution:
  auto: 0.6                   # link at and above this match probability
  review: 0.3                 # queue for review from this probability
  # exact_columns: [custom.passport]   # other attributes compared exactly, and blocked on
  # comparisons:              # replace the default comparisons:
  #   - {name: given_name, kind: given_name, feature: given, tf: true}
  #   - {name: birth_date, kind: date, feature: dob, options: {years: 5}}
  # blocking:                 # replace the default blocking rules:
  #   - {name: names, features: [name_pair]}
"""
