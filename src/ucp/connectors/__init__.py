"""Connectors: how payloads arrive (files now; collector payloads and NATS later)."""
