"""Import every command module so that each registers its commands on the `cli` group."""

from assistant.cli import calibrate, eval, ingest, query, review, serve, topics, tune  # noqa: F401
