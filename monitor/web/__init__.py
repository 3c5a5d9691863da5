"""The read-only web side of the HTTP listener: story pages, the Atom feed of updates, health and metrics.

Server-rendered with Jinja2 (every value autoescaped: titles and sentences come from feeds), no JavaScript
at all, a strict Content-Security-Policy. Nothing here changes state; ``service/http.py`` runs it.
"""
