"""The operations portal: tickets from every intake channel, SLA clocks per contract clause
computed from an append-only ledger, escalation and on-call."""
