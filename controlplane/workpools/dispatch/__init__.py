"""The hybrid protocol, server side: agents say hello, claim runs under a lease, heartbeat.

`services` holds the writes (hello, claim, heartbeat, run tokens), `selectors` the reads,
`push` the wake-ups (channel layer + an in-process signal for long-polls). See docs/dispatch.md.
"""
