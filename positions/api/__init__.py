"""
The public, read-only JSON API (`/api/v1/`), built with django-ninja:

- `endpoints`: the operations, and the `NinjaAPI` that generates the OpenAPI schema
  (`/api/v1/openapi.json`) and serves the Swagger UI from its vendored files (`/api/v1/docs`);
- `schemas`: what each operation reads and answers;
- `keyset`: cursor pagination on a unique order;
- `limits`: the per-client rate limit;
- `urls`: the addresses, with the rate limit, the page cache and ETags around each.
"""
