"""Retention (issue 19): what is kept how long, and the purge that removes or anonymises the rest.

The policy is docs/deploy.md "Retention": repair records six years after an order closes (then the
personal data on them is anonymised, the repair facts stay for quality tracing and the counts), and
much shorter for what only serves a moment (login codes, sessions, idempotency keys, delivered
messages, exports, the phone-number reveal log). `aftersales retention purge` (dry run by default,
`--apply`) and the worker's daily task run ``services.retention_purge``; every applied run leaves a
``RetentionRun`` with what each rule removed.
"""
