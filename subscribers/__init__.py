"""The subscriber domain: sign-up with double opt-in, preferences, unsubscribe, GDPR.

    addresses    normalise and hash an address; clean names (no header injection)
    profiles     check newsletters, topics, organisation type, language against the config
    tokens       signed links (confirm: 7 days; manage: until revoked)
    mails        the confirmation and link mails from templates/email/
    signup       sign-up → pending + mail → confirm (re-sign-ups change nothing until then)
    preferences  the subscriber's own page; the link to it by mail
    unsubscribe  one newsletter or all; the RFC 8058 List-Unsubscribe headers
    gdpr         data as JSON, erasure (only the hash stays, suppressed), retention
    portability  CSV import (UTF-8, BOM, Windows-1252; bad rows by line) and export
    events       SendGrid Event Webhook → suppression and subscriber state
    feedback     readers' "Hilfreich? Ja · Nein", "Mehr dazu bitte", "Was fehlt Ihnen?":
                 signed links, counted once per reader by a keyed hash, no reader stored

Imports the kernel and pipeline.store only; the web app and the CLI call in here.
"""
