"""The connector side of an app registration: rotating its client secret, linking its redirect URI.

**Rotation** (``appreg rotate``, ``cloud-apis.md`` A.4-A.6 and the order of a rotation quoted
there): add a new client secret; put it into the deployed connector's OAuth settings (the
``token`` parameter and every ``connectionParameterSets`` entry); verify; and only then remove
the old secrets — after a grace period, or never when asked to keep them. Rotating the app's
secret without updating the connector breaks every connection, so the steps are ordered to leave
nothing half-done:

- everything that can be checked is checked before the new secret exists: the app and the
  connector are found, the connector has OAuth settings, each of them signs in with *this* app's
  client id, an ``--only`` key id belongs to the app;
- when updating the connector fails, the new secret is removed again and the error says so;
- when the connector was updated but the check afterwards fails, nothing is removed.

Which old secrets go: the one ``only`` names, or the app's only client secret; when the app has
several, every one of them only with ``all_old`` (another service may use one of them). Other
apps' secrets are never touched.

What can be verified: the Power Apps API never returns a client secret, so the new value cannot
be read back. The rotation re-reads the connector (the update took) and checks that each OAuth
setting still carries the app's client id and none carries a different secret, and re-reads the
app (Graph lists the new key). :attr:`Rotation.verified` says what was checked, in words.

**Per-connector redirect URI** (A.13): a connector whose ``redirectMode`` is
``GlobalPerConnector`` signs in through ``https://global.consent.azure-apim.net/redirect/<id
without shared_>``, known only once the connector exists; :func:`link` reads it back from the
registration and merges it into the app's ``web.redirectUris`` (read, union, PATCH; idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectorkit.cloud.appreg import GUID, add_secret, find_app, merge_uris, remove_secret
from connectorkit.cloud.graph import Graph
from connectorkit.cloud.powerapps import CloudConnector, PowerPlatformEnvironment, oauth_settings
from connectorkit.errors import ConnectorkitError, InputError

Progress = Callable[[str], None]
Wait = Callable[[float], None]


def parse_grace(text: str) -> float:
    """``0``, ``90s``, ``10m``, ``1h`` or ``1h30m`` as seconds (a bare number is seconds)."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+)([hms])", value)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != value.replace(" ", ""):
        raise InputError(f"--grace {text}: expected a duration like 0, 90s, 10m, 1h or 1h30m")
    scale = {"h": 3600, "m": 60, "s": 1}
    return float(sum(int(number) * scale[unit] for number, unit in parts))


@dataclass
class Rotation:
    """What :func:`rotate` did. The new secret's value is not kept here."""

    app: dict[str, Any]
    connector: CloudConnector
    new_key_id: str
    new_end: datetime
    places: int
    """How many OAuth settings received the new secret."""
    verified: list[str] = field(default_factory=list)
    old_key_ids: list[str] = field(default_factory=list)
    """The secrets this rotation replaces."""
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Old secrets left in place (``keep_old``)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "application": {"id": self.app.get("id"), "appId": self.app.get("appId"),
                            "displayName": self.app.get("displayName")},
            "connector": {"id": self.connector.name, "displayName": self.connector.display_name},
            "newSecret": {"keyId": self.new_key_id, "endDateTime": self.new_end.astimezone(UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), "places": self.places},
            "verified": self.verified,
            "replaced": self.old_key_ids,
            "removed": self.removed,
            "kept": self.kept,
        }  # fmt: skip


def app_of(graph: Graph, app: str) -> dict[str, Any]:
    """The app registration named ``app`` or with client id ``app``; missing is an input error."""
    found = find_app(graph, None if GUID.match(app) else app, app if GUID.match(app) else None)
    if found is None:
        raise InputError(f"APP {app}: no app registration with this name or client id")
    return found


def client_ids(registration: dict[str, Any]) -> list[str | None]:
    """The ``clientId`` of each OAuth setting of a registration (``None`` where missing)."""
    props = registration.get("properties") or {}
    return [s.get("clientId") if isinstance(s.get("clientId"), str) else None for s in oauth_settings(props)]


def check_connector(app: dict[str, Any], connector: CloudConnector, registration: dict[str, Any]) -> int:
    """The number of OAuth settings the secret will go into; an :class:`InputError` when there is
    none or one signs in with another client id (the new secret would not belong there)."""
    ids = client_ids(registration)
    if not ids:
        raise InputError(f"--connector {connector.display_name}: the connector has no OAuth settings to rotate")
    others = sorted({str(i) for i in ids if i != app.get("appId")})
    if others:
        raise InputError(
            f"--connector {connector.display_name}: its OAuth settings sign in with client id "
            f"{', '.join(others)}, not {app.get('displayName')}'s {app.get('appId')}: rotate the app it uses"
        )
    return len(ids)


def replaced_keys(app: dict[str, Any], only: str | None, *, all_old: bool = False, keep_old: bool = False) -> list[str]:
    """The client secrets a rotation replaces: just ``only``, or all the app has now.

    Removing every secret of an app with several is refused unless ``all_old`` says so: the other
    secrets may serve other connectors or services that this rotation does not update, and a
    removed secret cannot be restored. ``keep_old`` removes nothing, so it needs no such care."""
    credentials = app.get("passwordCredentials") or []
    keys = [str(c.get("keyId")) for c in credentials]
    if only is None:
        if len(keys) > 1 and not all_old and not keep_old:
            listed = ", ".join(
                f"{c.get('keyId')} ({c.get('hint')}***)" if c.get("hint") else str(c.get("keyId")) for c in credentials
            )
            raise InputError(
                f"APP {app.get('displayName')}: has {len(keys)} client secrets ({listed}); "
                "pick the one to replace with --only KEYID, or replace them all with --all-old"
            )
        return keys
    if only not in keys:
        raise InputError(
            f"--only {only}: the app has no client secret with this key id (it has: {', '.join(keys) or 'none'})"
        )
    return [only]


def rotate(
    graph: Graph,
    environment: PowerPlatformEnvironment,
    app: str,
    connector: str,
    *,
    expiry: datetime,
    grace: float,
    keep_old: bool = False,
    only: str | None = None,
    all_old: bool = False,
    secret_name: str | None = None,
    deliver: Callable[[str], None] | None = None,
    wait: Wait,
    progress: Progress = lambda _message: None,
) -> Rotation:
    """Rotate the client secret of ``app`` used by ``connector`` in ``environment``.

    ``deliver`` receives the new value once the connector holds it (``--secret-file``); ``wait``
    is called with ``grace`` seconds before old secrets are removed (the CLI shows a countdown)."""
    found = app_of(graph, app)
    target, registration = environment.registration(connector)
    check_connector(found, target, registration)
    old = replaced_keys(found, only, all_old=all_old, keep_old=keep_old)
    name = secret_name or f"connectorkit rotation {datetime.now(UTC):%Y-%m-%d}"
    key_id, value = add_secret(graph, found, expiry, display_name=name)
    progress(f"added client secret {key_id}")
    try:
        places = environment.set_client_secret(target.name, value)
    except ConnectorkitError as exc:
        raise ConnectorkitError(
            f"updating connector {target.display_name} ({target.name}) failed, {_undo(graph, found, key_id)}: {exc}"
        ) from None
    progress(f"connector {target.display_name} holds the new secret in {places} OAuth setting(s)")
    done = Rotation(found, target, key_id, expiry, places, old_key_ids=old)
    if deliver is not None:
        try:
            deliver(value)
        except OSError as exc:
            raise ConnectorkitError(
                f"--secret-file: cannot write ({exc.strerror}); the connector uses the new secret {key_id}, "
                f"old secret(s) kept: {', '.join(old) or 'none'}"
            ) from None
    done.verified = verify(graph, environment, done)
    progress("verified: " + "; ".join(done.verified))
    if keep_old or not old:
        done.kept = old
        return done
    try:
        wait(grace)
    except KeyboardInterrupt:
        raise ConnectorkitError(
            f"interrupted during the grace period: the connector uses the new secret {key_id}; "
            f"old secret(s) kept: {', '.join(old)}"
        ) from None
    for key in old:
        try:
            remove_secret(graph, found, key)
        except ConnectorkitError as exc:
            left = [k for k in old if k not in done.removed]
            raise ConnectorkitError(
                f"the connector uses the new secret {key_id}, but removing old secret {key} failed "
                f"(still present: {', '.join(left)}): {exc}"
            ) from None
        done.removed.append(key)
        progress(f"removed old client secret {key}")
    return done


def _undo(graph: Graph, app: dict[str, Any], key_id: str) -> str:
    try:
        remove_secret(graph, app, key_id)
    except ConnectorkitError as exc:
        return f"and removing the new client secret {key_id} failed too ({exc}): remove it in the portal"
    return f"so the new client secret {key_id} was removed again and nothing changed"


def verify(graph: Graph, environment: PowerPlatformEnvironment, done: Rotation) -> list[str]:
    """Read the connector and the app back; a :class:`ConnectorkitError` (old secrets kept) when
    they do not show the rotation."""
    _, registration = environment.registration(done.connector.name)
    ids = client_ids(registration)
    app_id = done.app.get("appId")
    problems: list[str] = []
    if len(ids) != done.places:
        problems.append(f"the connector shows {len(ids)} OAuth setting(s), {done.places} were updated")
    if any(i != app_id for i in ids):
        problems.append(f"an OAuth setting no longer carries client id {app_id}")
    shown = [s.get("clientSecret") for s in oauth_settings(registration.get("properties") or {})]
    if any(secret is not None for secret in shown):
        problems.append("the connector returned a client secret")  # never its value: it may be the old one
    listed = [str(c.get("keyId")) for c in graph.get_application(str(done.app["id"])).get("passwordCredentials") or []]
    if done.new_key_id not in listed:
        problems.append(f"Graph does not list the new secret {done.new_key_id}")
    if problems:
        raise ConnectorkitError(
            f"the connector was updated but the check afterwards failed ({'; '.join(problems)}); "
            f"old secrets kept: {', '.join(done.old_key_ids) or 'none'}"
        )
    return [
        f"connector re-read: {len(ids)} OAuth setting(s), each with client id {app_id}",
        "the Power Apps API returns no client secret, so the value itself cannot be compared",
        f"Graph lists the new secret {done.new_key_id}",
    ]


@dataclass(frozen=True)
class Link:
    """What :func:`link` did: the redirect URLs the connector uses and those it added."""

    app: dict[str, Any]
    connector: CloudConnector
    redirect_urls: list[str]
    added: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "application": {"id": self.app.get("id"), "appId": self.app.get("appId"),
                            "displayName": self.app.get("displayName")},
            "connector": {"id": self.connector.name, "displayName": self.connector.display_name},
            "redirectUrls": self.redirect_urls,
            "added": self.added,
        }  # fmt: skip


def redirect_urls(registration: dict[str, Any]) -> list[str]:
    """The redirect URLs the RP assigned to the connector's OAuth settings, each once."""
    props = registration.get("properties") or {}
    found = [s.get("redirectUrl") for s in oauth_settings(props)]
    return list(dict.fromkeys(url for url in found if isinstance(url, str) and url))


def link(graph: Graph, environment: PowerPlatformEnvironment, app: str, connector: str) -> Link:
    """Merge the connector's redirect URLs into the app's web redirect URIs (A.3: read, union,
    PATCH the whole collection; nothing is written when all are there)."""
    found = app_of(graph, app)
    target, registration = environment.registration(connector)
    urls = redirect_urls(registration)
    if not urls:
        raise InputError(f"--connector {target.display_name}: the connector has no OAuth settings with a redirect URL")
    existing = list((found.get("web") or {}).get("redirectUris") or [])
    merged = merge_uris(existing, urls, exact=False)
    added = [url for url in merged if url not in existing]
    if added:
        graph.update_application(str(found["id"]), {"web": {"redirectUris": merged}})
    return Link(found, target, urls, added)
