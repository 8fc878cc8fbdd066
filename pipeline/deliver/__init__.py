"""Deliver: send rendered editions and mails (outbox files or SendGrid), record the outcome."""
