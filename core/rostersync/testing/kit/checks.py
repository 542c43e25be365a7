"""The conformance checks, one function each: what a connector must get right to ship.

Each check takes a :class:`~rostersync.testing.kit.trial.Trial` and returns what it saw (a line for
the report), or raises :class:`Failed` with a message saying what is wrong and how to fix it, or
:class:`Skipped` when it does not apply (a fault that cannot happen to this kind of source).

Metadata: the connector's name, title, basis, homepage and sources; help text on every setting;
secrets typed as secret references; the URLs a profile derives from its inputs' examples.
End to end: a sync from the connector's rig, the stored roster equal to the reference bundle's
row for row, a second sync changing nothing, and a sync surviving each fault of
:data:`~rostersync.testing.kit.rigs.FAULTS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from rostersync.connector import BASES, describe_settings, example_urls, setting_fields
from rostersync.errors import RostersyncError
from rostersync.testing.kit.rigs import FAULTS
from rostersync.testing.kit.trial import Trial
from rostersync.testing.roster import differences

NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
TAG = re.compile(r"\[[a-z0-9]+\]")  # [doc] vendor docs, [3p] an integrator's, [code] public code, [weak]...
#: setting names that hold something secret, whatever the connector calls the rest
SECRET_NAME = re.compile(r"(^|_)(secret|password|passphrase|private_key|api_key|access_key)$")


class Failed(AssertionError):
    """The connector does not conform; the message says how."""


class Skipped(Exception):
    """The check does not apply to this connector; the message says why."""


def metadata(trial: Trial) -> str:
    """Name, title, docs, basis, sources (unless generic or none public), an https homepage if any: what
    `connectors list/show` tell an operator."""
    c = trial.connector
    problems = []
    if not NAME.fullmatch(c.name):
        problems.append(f"name {c.name!r} is not kebab-case (lower-case words joined by '-')")
    if not c.title.strip():
        problems.append("title is empty (say the SIS as districts name it)")
    if not c.docs.strip():
        problems.append("docs are empty (say what the connector reads and what an operator must give)")
    if c.basis not in BASES:
        problems.append(f"basis {c.basis!r} is not one of {', '.join(BASES)}")
    if c.homepage and not c.homepage.startswith("https://"):
        problems.append(f"homepage {c.homepage!r} is not an https:// address")
    if c.basis not in ("generic", "none public") and not c.sources:
        problems.append(f"basis is {c.basis!r} but no sources say where the facts come from")
    bad = [s.where for s in c.sources if not TAG.fullmatch(s.tag) or not s.where.strip() or not s.fact.strip()]
    if bad:
        problems.append(f"sources need a where, a fact and a tag such as [doc], [3p] or [code]: {', '.join(bad)}")
    if problems:
        raise Failed(f"connector {c.name}: " + "; ".join(problems))
    return f"{c.kind}, {c.basis}, {len(c.sources)} sources, {len(c.quirks)} quirks"


def settings_help(trial: Trial) -> str:
    """Every setting has help text (`connectors show` is the operator's only manual)."""
    settings = describe_settings(trial.connector)
    silent = [s.name for s in settings if not s.help.strip()]
    if silent:
        raise Failed(f"settings without help text: {', '.join(silent)} (declare them with "
                     "rostersync.connector.setting(help, ...))")
    return f"{len(settings)} settings, each with help"


def secrets(trial: Trial) -> str:
    """Secrets are SecretRef settings marked secret, so they are never stored, printed or logged."""
    try:
        fields = setting_fields(trial.connector)  # refuses a secret not typed SecretRef
    except RostersyncError as exc:
        raise Failed(str(exc)) from None
    unmarked = [f.name for f in fields if SECRET_NAME.search(f.name) and not f.metadata.get("secret")]
    if unmarked:
        raise Failed(f"settings that hold secrets but are not marked secret: {', '.join(unmarked)} (use "
                     "setting(..., secret=True) typed rostersync.secrets.SecretRef)")
    marked = [f.name for f in fields if f.metadata.get("secret")]
    return f"secret refs: {', '.join(marked) or 'none'}"


def _url_problem(url: str) -> str:
    if "<" in url or "{" in url or any(ch.isspace() for ch in url):
        return "has an unfilled part (give every input an example)"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "is not an https:// address with a host"
    return ""


def derived_urls(trial: Trial) -> str:
    """The base and token URLs a profile derives from its inputs' examples are valid https addresses."""
    if trial.connector.kind != "oneroster-api" or getattr(trial.connector.settings, "profile", None) is None:
        raise Skipped("not a profile-built API connector: it derives no addresses")
    from rostersync.profiles import normalise_base_url

    urls = example_urls(trial.connector)
    version = attrs.fields_dict(trial.connector.settings)["version"].default
    problems = [f"{key} {url!r} {problem}" for key, url in urls.items() if url and (problem := _url_problem(url))]
    base = urls.get("base_url", "")
    if base and not problems and normalise_base_url(base, version) != base:
        problems.append(f"base_url {base!r} is not an API root (it reads as {normalise_base_url(base, version)!r})")
    if problems:
        raise Failed("; ".join(problems))
    shown = {k: v or "not public" for k, v in urls.items()}
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def _sync_checks_apply(trial: Trial) -> None:
    if not trial.rig_kind:
        raise Skipped(f"the kit has no server for kind {trial.connector.kind!r} (API, SFTP and folder "
                      "connectors are synced end to end)")
    if trial.bundle is None:
        fmt = attrs.fields_dict(trial.connector.settings)["format"].default
        raise Skipped(f"the kit has no reference bundle in the {fmt} format: pass a sample export, "
                      f"conformance_suite({trial.connector.name!r}, bundle=KitBundle(folder, {fmt!r}, org_ids))")


def _counts(result: object) -> str:
    counts = getattr(result, "counts", {})
    return ", ".join(f"{n} {e}" for e, c in counts.items() if (n := c.get("inserted", 0) + c.get("unchanged", 0)))


def sync(trial: Trial) -> str:
    """A first sync from the connector's rig (its SIS imitated, or its drop on a real sshd) succeeds."""
    _sync_checks_apply(trial)
    result, _db = trial.first
    if result.status != "ok":
        raise Failed(f"the first sync {result.status}: {result.error}")
    return f"ok: {_counts(result)}"


def _same(trial: Trial, db: Path, what: str) -> None:
    diff = differences(trial.reference(), trial.stored(db))
    if diff:
        raise Failed(f"{what} differs from the reference bundle synced by csv-folder: " + " | ".join(diff))


def same_roster(trial: Trial) -> str:
    """The stored roster equals what csv-folder stores from the same bundle, row for row."""
    _sync_checks_apply(trial)
    result, db = trial.first
    if result.status != "ok":
        raise Failed(f"nothing to compare: the first sync {result.status}: {result.error}")
    _same(trial, db, "the stored roster")
    rows = sum(len(t.rows) for t in trial.reference().values())
    return f"{rows} rows equal"


def resync(trial: Trial) -> str:
    """A second sync of an unchanged source changes nothing."""
    _sync_checks_apply(trial)
    first, _db = trial.first
    if first.status != "ok":
        raise Failed(f"no first sync to repeat: it {first.status}: {first.error}")
    result, _db = trial.sync("resync", database="first")
    if result.status not in ("ok", "skipped"):
        raise Failed(f"the second sync {result.status}: {result.error}")
    changed = {e: {k: v for k, v in c.items() if k in ("inserted", "updated", "restored", "deleted") and v}
               for e, c in result.counts.items()}
    changed = {e: c for e, c in changed.items() if c}
    if changed:
        raise Failed(f"the second sync of an unchanged source changed rows: {changed}")
    return "0 changes" if result.status == "ok" else f"skipped: {result.error}"


def fault_check(name: str) -> Callable[[Trial], str]:
    def check(trial: Trial) -> str:
        _sync_checks_apply(trial)
        trial.first  # noqa: B018 (a fault is aimed at what the syncs before showed, e.g. an SFTP pull's size)
        with trial.rig.fault(name) as fault:
            if fault is None:
                how = {"api": "an API without token renewal (OAuth 1, or a fixed token)", "sftp": "an SFTP server",
                       "folder": "a local folder"}[trial.rig_kind]
                raise Skipped(f"{name} cannot happen to {how}")
            result, db = trial.sync(name, fault)
            struck = fault.struck()
        if result.status != "ok":
            raise Failed(f"with {fault.description}, the sync {result.status}: {result.error}")
        if not struck:
            raise Failed(f"the fault never struck ({fault.description}): the kit could not test it")
        _same(trial, db, f"with {fault.description}, the stored roster")
        return f"survived: {fault.description}"

    check.__name__ = f"fault_{name.replace('-', '_')}"
    check.__doc__ = f"A sync survives {name} and stores the reference roster."
    return check


@attrs.frozen
class Check:
    name: str
    run: Callable[[Trial], str]


CHECKS: tuple[Check, ...] = (
    Check("metadata", metadata),
    Check("settings-help", settings_help),
    Check("secrets", secrets),
    Check("derived-urls", derived_urls),
    Check("sync", sync),
    Check("same-roster", same_roster),
    Check("re-sync", resync),
    *(Check(f"fault-{name}", fault_check(name)) for name in FAULTS),
)
