"""Use cases that combine the domain with the storage port: ingest, resolve, keys, profiles."""
