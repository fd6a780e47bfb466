"""Web adapter: JSON API under /api/, server-rendered pages, /healthz, OpenAPI at /docs."""
