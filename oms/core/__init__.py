"""Core: what every capability stands on, and nothing of any capability.

The database (engines, sessions, migrations), the column types and declarative base,
errors a person can read, validation, money with each currency's exponent, settings,
wording, translation, GS1 element strings, the dialect-aware upsert, the audit trail
(who did what) and the transactional outbox (what the outside world must be told, and the subscriptions of
connections that take what the business publishes)."""
