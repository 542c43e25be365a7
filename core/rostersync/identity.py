"""Identity continuity: a person keeps one rostersync person id when the SIS gives them a new sourcedId.

SIS migrations, merges and clean-ups re-key people: the same student comes back under a new
sourcedId. Keyed on sourcedId alone, a sync would delete the student and create a stranger, and every
system downstream would give them a second account. So each user row carries a stable ``person_id``
(made when the row is first inserted), and when a run both drops a live user and brings a new one
that is the same person by a stronger identifier, the store pairs them: the new row keeps the old
row's person id, the old row is closed as *re-keyed* (``rekeyed_to``: the new sourcedId), and the
audit has one ``rekey`` change instead of a delete and an insert.

Which identifiers decide, in order of precedence (per school, ``[schools.X.identity] match``):

* ``state_id``: a ``userIds`` entry of type StateID/state_id/SSID (any case, ``_``/``-`` ignored);
* ``student_number``: OneRoster's ``identifier`` (the SIS's own number for the person);
* ``email`` (any case); ``username`` (any case); ``master_id`` (OneRoster 1.2 ``userMasterIdentifier``);
* ``user_id:TYPE``: a ``userIds`` entry of that type (e.g. ``user_id:LDAP``).

Two rows are the same person when the **first identifier both have** is equal: if they both have a
state id and it differs, they are two people, whatever their emails say. A pair is re-keyed only when it
is unambiguous (one leaving row matches exactly one new row and the other way round) and both rows
have the same role. Names never match anyone (``rostersync people duplicates`` lists same name and
birth date as a *suspected* duplicate, for a person to decide).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rostersync.errors import ConfigError

KEYS = ("state_id", "student_number", "email", "username", "master_id")
DEFAULT_MATCH = ("state_id", "student_number", "email")
#: userIds types that say "state id" (compared lower-case, without ``_``, ``-`` or spaces)
STATE_ID_TYPES = ("stateid", "ssid", "statestudentid", "statestudentnumber", "stateidnumber")


def normalise_type(kind: str) -> str:
    """A userIds type as compared: lower case, without ``_``, ``-`` and spaces."""
    return re.sub(r"[_\- ]", "", kind.lower())


def check_keys(keys: Sequence[str], where: str) -> tuple[str, ...]:
    """The identifier keys of a school's ``match`` list, checked; ConfigError naming a wrong one."""
    out = []
    for key in keys:
        if not isinstance(key, str) or not (key in KEYS or (key.startswith("user_id:") and len(key) > 8)):
            raise ConfigError(f"{where}: identity match {key!r} is not one of {', '.join(KEYS)} or user_id:TYPE")
        out.append(key)
    return tuple(out)
