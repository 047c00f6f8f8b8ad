"""Storage: the SQLAlchemy schema, migrations and the `Store` that implements the storage ports."""
