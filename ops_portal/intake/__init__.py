"""Intake channels that open tickets without a person at a form: e-mail (``ingest_email`` pipe and
``poll_mailbox`` IMAP), the Alertmanager webhook and GeriQC's own monitors (signals).

Every channel creates tickets and ledger events through :mod:`ops_portal.services` only.
"""
