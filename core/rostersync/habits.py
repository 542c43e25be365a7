"""Server habits: what an SIS's OneRoster API does that the spec does not, named so a profile can list them.

An :class:`~rostersync.profiles.ApiProfile` lists its SIS's habits (``habits=("expired-token-500",)``)
next to the other facts about it; the loopback simulator (:mod:`rostersync.testing.profile_server`)
switches each one on when it imitates that SIS, so the conformance kit syncs every connector against
the server it will really meet. A habit is a fact about the *server*: what the client does about it
is the profile's business (``refresh_on_500``, ``sort``, a quirk fixing the rows), and the kit shows
the two fit.

Imported when plugins load (profiles validate their habits): names and descriptions only, no code.
A new habit is a line here plus its imitation in :data:`rostersync.testing.profile_server.IMITATIONS`
(a test keeps the two lists equal).
"""

from __future__ import annotations

#: habit name -> what the server does (as ``connectors show`` and the simulator's docs say it)
HABITS: dict[str, str] = {
    "scopes-required": "refuses a token request that does not ask for its OneRoster scopes (invalid_scope), "
                       "as Aeries does",
    "cookie-affinity": "its token response sets a load-balancer cookie, and a data request without that cookie "
                       "lands on a node that does not know the token (401), as Aeries's load balancers do",
    "expired-token-500": "answers an expired or unknown token with HTTP 500 instead of 401, as Skyward does",
    "unstable-order": "serves unsorted collections in a different order on every request, so offset paging "
                      "skips and repeats rows unless sort= is sent, as SaphireK12 does",
    "department-orgs": "sends its schools as orgs of type 'department', as some Rediker tenants do",
    "padded-ids": "pads sourcedIds and references with spaces (a fixed-width export column)",
    "null-fields": "sends optional fields without a value as null (and bulk rows' status as null)",
    "string-booleans": "sends 1.1 booleans as the strings \"true\"/\"false\" (ClassLink's enabledUser)",
    "norwegian-roles": "serves guardians with the Norwegian 1.2 profile's role ext:primaryGuardian (Vigilo)",
}


def unknown(habits: tuple[str, ...]) -> list[str]:
    """The names in ``habits`` that are not known habits."""
    return [h for h in habits if h not in HABITS]
