"""A school id as a safe unix account name: ``PREFIX`` + the id, lowercased, with a hash when that loses anything.

Account names must be short (32 characters: utmp and most tools cut there) and plain
(``[a-z_][a-z0-9_-]*``: what useradd accepts everywhere without ``--badname``). School ids may be
64 characters of letters, digits, ``-``, ``_`` and ``.``. So:

* ``lincoln`` with prefix ``rsdrop-`` is ``rsdrop-lincoln``: readable, the same id gives the same name;
* an id the plain form cannot hold exactly (capitals, dots, or too long) keeps a readable start and
  gets ``-`` and 6 hex digits of the SHA-256 of the id itself: ``Lincoln.HS`` and ``lincoln-hs``
  become ``rsdrop-lincoln-hs-0665b1`` and ``rsdrop-lincoln-hs``, not one account for two schools.

Two ids can still meet on one name (a crafted id equal to another's hashed form). That is never
silent: each account records its school in its GECOS field (:data:`GECOS`), and ``dropbox create``
refuses a name that belongs to another school, or to an account rostersync did not make, and takes
``--user NAME`` for an operator to choose one.
"""

from __future__ import annotations

import hashlib
import re

MAX_LENGTH = 32
ACCOUNT = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
GECOS = "rostersync dropbox for "  # + the school id: how rostersync knows its accounts (and their schools)


def account_name(school_id: str, prefix: str) -> str:
    """The account name for ``school_id`` (see the module docstring)."""
    slug = re.sub(r"[^a-z0-9_-]", "-", school_id.lower())
    name = prefix + slug
    if slug == school_id and len(name) <= MAX_LENGTH:
        return name
    tag = hashlib.sha256(school_id.encode()).hexdigest()[:6]
    room = MAX_LENGTH - len(prefix) - len(tag) - 1
    return f"{prefix}{slug[:room].rstrip('-')}-{tag}"


def valid_account(name: str) -> bool:
    return bool(ACCOUNT.match(name))


def gecos_for(school_id: str) -> str:
    return GECOS + school_id


def school_of(gecos: str) -> str | None:
    """The school a drop box account belongs to, from its GECOS field; None for any other account."""
    text = gecos.split(",")[0]
    return text[len(GECOS):] if text.startswith(GECOS) else None
