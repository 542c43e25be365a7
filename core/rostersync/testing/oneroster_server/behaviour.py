"""Switchable habits of real OneRoster servers. Every default is the spec-exact server.

Three families: **relaxed payloads** real servers send and clients must read (``nulls``,
``json_booleans``, ``string_booleans``, ``bare_refs``, ``id_whitespace``, ``path_envelopes``,
``error_envelope``; and data an SIS sends its own way: ``department_orgs``, ``norwegian_roles``; applied
by :mod:`.relaxed`), **paging and availability habits** (clamped pages, missing headers, throttling,
random failures, expiring tokens, refused endpoints, an unstable order, a dropped connection...), and
**hostile or broken servers** (garbled bodies, HTML pages, bombs, redirects, slowloris; applied by
:mod:`.http`).

A profile imitating one SIS is a Behaviour with its habits switched on (plus its paths and auth policy,
see :mod:`.auth` and :class:`~.routes.Paths`).
"""

from __future__ import annotations

from typing import Any

import attrs

from rostersync.testing.oneroster_server.errors import ENVELOPES


@attrs.frozen
class Behaviour:
    """Switchable habits of real OneRoster servers. The defaults are a well-behaved, spec-exact server."""

    # relaxed payloads:
    nulls: bool = False  # optional fields without a value sent as null; bulk rows' status/dateLastModified null
    json_booleans: bool = False  # 1.2 booleans as JSON true/false (1.1's typing) instead of "true"/"false"
    string_booleans: bool = False  # 1.1 booleans as "true"/"false" (1.2's typing) instead of JSON booleans
    bare_refs: bool = False  # references as {"sourcedId": ...} only (no href, no type)
    id_whitespace: bool = False  # sourcedIds and references padded with spaces
    path_envelopes: bool = False  # /students answers {"students": [...]} (not the spec's "users")
    department_orgs: bool = False  # schools served as orgs of type "department" (some Rediker tenants)
    norwegian_roles: bool = False  # guardians' role served as the Norwegian profile's ext:primaryGuardian
    # where the imsx status object sits: spec, bare, wrapped or set (see errors.py)
    error_envelope: str = attrs.field(default="spec", validator=attrs.validators.in_(ENVELOPES))
    # paging and availability:
    page_clamp: int | None = None  # largest page served, whatever limit asks
    no_total_count: bool = False  # omit X-Total-Count
    no_link: bool = False  # omit the Link header
    throttle_every: int = 0  # after every N data requests ...
    throttle_burst: int = 3  # ... answer this many with 429 ...
    retry_after: float = 1.0  # ... and this Retry-After (seconds)
    error_rate: float = 0.0  # share of data requests answered 500, at random
    seed: int = 0  # for error_rate: the same run fails the same way
    latency: float = 0.0  # seconds added to every response
    token_ttl: int = 3600  # expires_in of issued tokens (enforced)
    token_max_uses: int = 0  # a token stops working after this many requests (0: never), whatever its ttl
    expire_token: int = 0  # the Nth token the server issues (counting from 1) stops working ...
    expire_token_after: int = 2  # ... after this many requests: one token expiring mid-sync, once
    forbidden: tuple[str, ...] = ()  # collections answered 403 (e.g. demographics)
    ignore_offset: bool = False  # every page starts at offset 0 (a broken server)
    unstable_order: bool = False  # without sort=, each request orders a collection differently (SaphireK12)
    cut_every: int = 0  # every Nth data request loses its connection halfway through the body
    total_skew: int = 0  # X-Total-Count off by this much
    no_school_paths: bool = False  # /schools/{id}/... answers 404
    # hostile or broken servers (and what sits between them and rostersync):
    truncate_body: bool = False  # data pages cut in half (with a matching Content-Length): broken JSON
    content_type: str = "application/json"  # the Content-Type of data pages
    html: int = 0  # answer data requests with this status and an HTML page (200: a login page, 502: a proxy)
    pad_bytes: int = 0  # append this many spaces to each data page (an enormous page)
    gzip: bool = False  # gzip every body when the client accepts it (with pad_bytes: a gzip bomb)
    redirect: str = ""  # answer data requests 302 to this origin (e.g. http://127.0.0.1:9), same path
    redirect_token: bool = False  # ... and the token request too
    trickle: float = 0.0  # send each body in 64-byte pieces, this many seconds apart (slowloris)

    @property
    def relaxed(self) -> bool:
        """Whether any payload habit is on (pages cannot then be joined from cached spec-exact JSON)."""
        return (self.nulls or self.json_booleans or self.string_booleans or self.bare_refs or self.id_whitespace
                or self.department_orgs or self.norwegian_roles)

    @classmethod
    def parse(cls, items: tuple[str, ...] | list[str]) -> Behaviour:
        """From ``key=value`` strings (the ``--behaviour`` CLI option)."""
        values: dict[str, Any] = {}
        fields = attrs.fields_dict(cls)
        for item in items:
            key, _, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if key not in fields:
                raise ValueError(f"unknown behaviour {key!r} (known: {', '.join(fields)})")
            default = fields[key].default
            if isinstance(default, bool):
                values[key] = raw.strip().lower() in ("", "1", "true", "yes", "on")
            elif isinstance(default, tuple):
                values[key] = tuple(v.strip() for v in raw.split(",") if v.strip())
            elif isinstance(default, float):
                values[key] = float(raw)
            elif isinstance(default, str):
                values[key] = raw
            else:
                values[key] = int(raw)
        return cls(**values)
