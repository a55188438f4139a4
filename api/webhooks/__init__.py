"""Push instead of polling: subscriptions, signed webhooks (Standard Webhooks) delivered by
a worker from a PostgreSQL-backed queue, and email digests. Nothing leaves that the public
could not read: payloads are public representations, re-checked when sent."""
