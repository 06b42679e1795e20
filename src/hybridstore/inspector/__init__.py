"""`hybridstore inspect`: a local, read-only web page over one index (Starlette, served by
uvicorn on 127.0.0.1): the collection, explained searches, two configurations compared, "why
not" for an id, and an eval's charts (docs/explain.md, "The inspector").

Only what the page asks is computed, by the core (`search(explain=True)`, `why_not`, `info`);
the server adds no ranking logic of its own. Starlette and uvicorn are the `inspect` extra,
imported when the command runs."""
