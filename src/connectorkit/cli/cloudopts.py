"""Options every command that talks to Microsoft's cloud shares: which cloud, and base URL overrides.

``--cloud`` picks a row of :data:`connectorkit.cloud.clouds.CLOUDS`; each base URL can be replaced
on the command line or through its ``CONNECTORKIT_*_URL`` variable, which is how a proxy or the
tests' local stand-ins are reached.
"""

from __future__ import annotations

import os

import typer

from connectorkit.cloud.clouds import Cloud, env_variable, resolve_cloud

CLOUD_OPTION = typer.Option(
    None,
    "--cloud",
    help="Microsoft cloud: public, gcc, gcchigh, dod or china (default: CONNECTORKIT_CLOUD, the signed-in "
    "profile's cloud, else public).",
)
GRAPH_URL_OPTION = typer.Option(
    None, "--graph-url", help=f"Microsoft Graph base URL (default: the cloud's; env {env_variable('graph')})."
)
POWERAPPS_URL_OPTION = typer.Option(
    None,
    "--powerapps-url",
    help=f"Power Apps resource provider base URL (default: the cloud's; env {env_variable('powerapps')}).",
)
FLOW_URL_OPTION = typer.Option(
    None, "--flow-url", help=f"Flow resource provider base URL (default: the cloud's; env {env_variable('flow')})."
)
LOGIN_URL_OPTION = typer.Option(
    None, "--login-url", help=f"Sign-in authority host (default: the cloud's; env {env_variable('login')})."
)


def cloud_from_options(
    cloud: str | None,
    graph_url: str | None = None,
    powerapps_url: str | None = None,
    flow_url: str | None = None,
    login_url: str | None = None,
) -> Cloud:
    """The cloud the options name, with their base URL overrides applied over the environment's.

    Without ``--cloud`` and ``CONNECTORKIT_CLOUD``, the cloud and endpoint overrides recorded by
    ``connectorkit login`` are used, so one sign-in to a national cloud serves every later command.
    An unknown cloud or a malformed URL is an :class:`~connectorkit.errors.InputError`."""
    from connectorkit.cloud.identity import profile_cloud_defaults

    overrides: dict[str, str | None] = {
        "graph": graph_url,
        "powerapps": powerapps_url,
        "flow": flow_url,
        "login": login_url,
    }
    name, stored = profile_cloud_defaults(cloud)
    for field, value in stored.items():
        # The order is: the option, its environment variable, then what `login` recorded.
        if not overrides.get(field) and not os.environ.get(env_variable(field)):
            overrides[field] = value
    return resolve_cloud(name, overrides)
