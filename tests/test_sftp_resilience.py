"""A connection that drops mid-download: the sync reconnects and resumes, or fails leaving the roster as it was.

A TCP proxy on 127.0.0.1 sits between rostersync and the real sshd and cuts the connection after a
number of bytes from the server, like a flaky link or a restarted server.
"""

from __future__ import annotations

import pytest
from conftest import roster_snapshot
from sftp_helpers import (
    LINCOLN_USERS,
    CuttingProxy,
    enable,
    family_name,
    put_bundle,
    rename_first_student,
    sync,
    warnings_of,
)

pytest_plugins = ["sftp_fixtures"]  # sshd, sftp_school, drops

BUNDLE_BYTES = 288_000  # about the size of the sample district's CSV files


@pytest.fixture
def proxy(sshd):  # type: ignore[no-untyped-def]
    made: list[CuttingProxy] = []

    def make(cut_after: int, cut_connections: int) -> CuttingProxy:
        made.append(CuttingProxy(sshd.port, cut_after, cut_connections))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_dropped_connection_mid_download_reconnects_and_resumes(cli, sshd, sftp_school, drops, proxy, db_path):
    put_bundle(drops, sshd)
    link = proxy(cut_after=120_000, cut_connections=1)  # well past the handshake, inside the files
    enable(cli, sshd, drops, auth="key", port=link.port, host_key=sshd.host_fingerprint, retries=3)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["counts"]["users"]["inserted"] == LINCOLN_USERS
    assert run["counts"]["enrollments"]["inserted"] == 1032
    assert (link.cuts, link.connections) == (1, 2)
    warnings = warnings_of(cli, run)
    assert any("connection lost" in w and "reconnecting in" in w and "attempt 2 of 4" in w for w in warnings), warnings
    resumed = [w for w in warnings if "resuming the download at byte" in w]
    assert len(resumed) == 1, warnings  # the file the cut interrupted continues where it stopped


def test_a_link_that_keeps_dropping_fails_the_run_and_leaves_the_roster(cli, sshd, sftp_school, drops, proxy,
                                                                         db_path):
    put_bundle(drops, sshd)
    link = proxy(cut_after=10**9, cut_connections=0)
    enable(cli, sshd, drops, auth="key", port=link.port, host_key=sshd.host_fingerprint, retries=2)
    assert sync(cli)["status"] == "ok"
    before = roster_snapshot(db_path)

    put_bundle(drops, sshd, rename_first_student("Changed"))
    link.cut_after, link.cut_connections = 30_000, 10**6  # every connection now dies early
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert f"sftp://127.0.0.1:{link.port}" in output
    assert "connection lost" in output and "gave up after 3 attempts" in output
    assert "The roster was left unchanged." in output
    assert link.connections - 1 == 3  # the first sync's connection, then three attempts
    assert roster_snapshot(db_path) == before
    assert family_name(db_path) != "Changed"


def test_a_stalled_transfer_hits_the_idle_timeout_and_resumes(cli, sshd, sftp_school, drops, proxy, db_path):
    put_bundle(drops, sshd)
    link = proxy(cut_after=120_000, cut_connections=1)
    link.stall = True  # the link goes silent instead of dropping
    enable(cli, sshd, drops, auth="key", port=link.port, host_key=sshd.host_fingerprint, idle_timeout=0.5)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["counts"]["users"]["inserted"] == LINCOLN_USERS
    warnings = warnings_of(cli, run)
    assert any("no data for the idle_timeout" in w and "attempt 2 of 4" in w for w in warnings), warnings


def test_a_server_that_never_answers_fails_at_the_banner(cli, sshd, sftp_school, drops, proxy, db_path):
    put_bundle(drops, sshd)
    link = proxy(cut_after=0, cut_connections=1)
    link.stall = True  # accepts the TCP connection, never says a word
    enable(cli, sshd, drops, auth="key", port=link.port, host_key=sshd.host_fingerprint, connect_timeout=0.5)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    assert f"no SSH handshake within 0.5s: is port {link.port} an SSH server?" in result.output
    assert link.connections == 1  # a first connect is not retried: the next scheduled run tries again


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_link_lost_under_a_pipelined_read_prints_no_thread_traceback(sshd, drops):
    """Regression: paramiko's readv sends its requests from a thread that died with an uncaught exception
    when the link dropped (Python printed its traceback; under load it showed in a subprocess's output).
    The read itself still fails, in the calling thread, and is what a sync reports and retries."""
    import paramiko
    from rostersync.transports.sftp_download import quiet_prefetch

    put_bundle(drops, sshd)
    key = paramiko.PKey.from_path(sshd.key, sshd.key_passphrase.encode() or None)
    transport = paramiko.Transport((sshd.host, sshd.port))
    transport.connect(username=sshd.user, pkey=key)
    sftp = paramiko.SFTPClient.from_transport(transport)
    assert sftp is not None
    src = sftp.open(str(drops / "users.csv"), "rb")
    quiet_prefetch(src)
    transport.close()  # the link is gone before the pipelined requests go out
    with pytest.raises((EOFError, OSError, paramiko.SSHException)):
        list(src.readv([(0, 32 * 1024), (32 * 1024, 32 * 1024)]))
