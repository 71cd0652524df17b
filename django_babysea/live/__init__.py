"""Live status for pages: the status view polled by ``live.js`` (and htmx), and an optional
server-sent-events stream for sites served over ASGI. See ``docs/live-status.md``."""
