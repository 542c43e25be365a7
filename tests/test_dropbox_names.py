"""School ids as unix account names, and the [dropbox] settings (no root needed)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from rostersync.config import SCHOOL_ID
from rostersync.dropbox.names import MAX_LENGTH, account_name, gecos_for, school_of, valid_account

PREFIX = "rsdrop-"


def test_a_plain_school_id_keeps_its_name():
    assert account_name("lincoln", PREFIX) == "rsdrop-lincoln"
    assert account_name("ps-118_east", PREFIX) == "rsdrop-ps-118_east"


def test_an_id_the_plain_form_cannot_hold_gets_a_hash_of_the_id():
    dotted, capital, plain = (account_name(i, PREFIX) for i in ("lincoln.hs", "Lincoln-HS", "lincoln-hs"))
    assert plain == "rsdrop-lincoln-hs"
    assert dotted.startswith("rsdrop-lincoln-hs-") and capital.startswith("rsdrop-lincoln-hs-")
    assert len({dotted, capital, plain}) == 3  # three schools, three accounts

    long_a, long_b = "a" * 60 + "-one", "a" * 60 + "-two"
    names = account_name(long_a, PREFIX), account_name(long_b, PREFIX)
    assert names[0] != names[1] and all(len(n) <= MAX_LENGTH for n in names)


@given(st.from_regex(SCHOOL_ID, fullmatch=True))
def test_every_school_id_gives_a_valid_account_name(school_id):
    name = account_name(school_id, PREFIX)
    assert valid_account(name) and len(name) <= MAX_LENGTH and name.startswith(PREFIX)
    assert name == account_name(school_id, PREFIX)  # the same school, the same account, every time


def test_the_gecos_field_names_the_school_and_only_ours():
    assert school_of(gecos_for("Lincoln.HS")) == "Lincoln.HS"
    assert school_of("Debian-exim,,,") is None and school_of("") is None


def test_dropbox_settings_are_validated_before_saving(cli, project):
    assert cli("init").exit_code == 0
    for bad, message in (("prefix=Drop Box", "prefix 'Drop Box': 1 to 16 of a-z"),
                         ("root=relative/path", "root 'relative/path': an absolute path"),
                         ("root=/srv/%u", "root '/srv/%u': an absolute path without spaces, quotes, '%'"),
                         ("colour=blue", "--set takes KEY=VALUE with KEY one of root, prefix")):
        result = cli("dropbox", "configure", "--set", bad)
        assert result.exit_code == 2, (bad, result.output)
        assert message in " ".join(result.output.split())
    assert "[dropbox]" not in (project / "rostersync.toml").read_text()
    shown = {row["setting"]: row["value"] for row in json.loads(
        cli("dropbox", "configure", "--set", "port=2222", "--json").output)}
    assert shown["port"] == "2222" and shown["root"] == "/srv/rostersync/dropbox"
