"""Shared bits of the real-time tests: a config with a Segment source and traits."""

from __future__ import annotations

from ucp.config import UCPConfig, parse_config

WRITE_KEY = "wk_test_web_0123456789"

CONFIG_YAML = f"""
version: 1
identifiers:
  email: {{max_per_profile: 3, priority: 10}}
  user_id: {{max_per_profile: 1, priority: 5}}
  anonymous_id: {{max_per_profile: 50, priority: 50}}
  crm_id: {{}}
sources:
  crm:
    kind: records
    trust_rank: 1
    source_key: id
    mapping: {{email: email, given_name: first}}
    identifiers: {{email: email, crm_id: id}}
  web:
    kind: segment
    trust_rank: 5
    source_key: userId
    write_key: {WRITE_KEY}
    mapping: {{email: traits.email, given_name: traits.firstName}}
    identifiers: {{user_id: userId, anonymous_id: anonymousId, email: traits.email}}
traits:
  lifetime_value: {{aggregate: sum, of: properties.revenue, where: {{event: Order Completed}}}}
  order_count: {{aggregate: count, where: {{event: Order Completed}}}}
  orders_30d: {{aggregate: count, where: {{event: Order Completed}}, window: 30d}}
  last_order_at: {{aggregate: last, of: timestamp, where: {{event: Order Completed}}}}
  last_seen_at: {{aggregate: max, of: timestamp}}
  favorite_category: {{aggregate: most_frequent, of: properties.category}}
  big_spender: {{aggregate: exists, where: {{properties.revenue: {{gte: 100}}}}}}
  average_order_value: {{derive: lifetime_value / order_count}}
  days_since_last_order: {{derive: days_since(last_order_at)}}
"""


def realtime_config() -> UCPConfig:
    return parse_config(CONFIG_YAML)
