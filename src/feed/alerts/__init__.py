"""Alerts that reach people: webhooks and an e-mail digest of new meeting reports and of sources that broke or
recovered, sent by the scheduler after a publish (never by publish itself); see docs/operations.md, "Alerts"."""
