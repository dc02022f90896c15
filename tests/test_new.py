"""``connectorkit new`` for every sign-in kind, checked against Microsoft's apiProperties schema."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from conftest import EXAMPLE, load_schema, needs_schemas

AAD_AUTHORIZE = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
AAD_TOKEN = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"

SECURITY = {
    "apiKey": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
    "apiKeyQuery": {"key": {"type": "apiKey", "in": "query", "name": "code"}},
    "basic": {"basic_auth": {"type": "basic"}},
    "aad": {
        "aad": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": AAD_AUTHORIZE,
            "tokenUrl": AAD_TOKEN,
            "scopes": {"https://graph.microsoft.com/User.Read": "Read your profile"},
        }
    },
    "oauth2": {
        "oauth": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://auth.example.com/authorize",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {"pets.read": "Read pets", "pets.write": "Change pets"},
        }
    },
    "clientCredentials": {
        "machine": {
            "type": "oauth2",
            "flow": "application",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {"pets.read": "Read pets"},
        }
    },
    "none": None,
}

# Where Microsoft's 2020 schema lags what the platform and real connectors use. Each entry is
# (kind, JSON path inside apiProperties.json, why). The test strips them before validating, and a
# separate test proves the schema still rejects each one (so the list cannot silently go stale).
SCHEMA_EXCEPTIONS = [
    (
        "aad",
        ("properties", "connectionParameters", "token", "oAuthSettings", "customParameters", "enableOnbehalfOfLogin"),
        "enableOnbehalfOfLogin postdates the schema; certified connectors use it (corpus: 9 fail the schema on it)",
    ),
    (
        "clientCredentials",
        ("properties", "scriptOperations"),
        "scriptOperations is documented by paconn and pac but absent from the 2020 schema",
    ),
]


def _strip(doc: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1])
    return doc


def _new(cli, write_spec, tmp_path: Path, kind: str, *extra: str) -> Path:
    spec = write_spec(SECURITY[kind])
    result = cli("new", "Petstore", "--from", spec, "-o", tmp_path / "out", *extra)
    assert result.exit_code == 0, result.stderr
    return tmp_path / "out" / "Petstore"


def _props(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "apiProperties.json").read_text())


AAD_ARGS = ("--client-id", "11111111-2222-3333-4444-555555555555")


@needs_schemas
@pytest.mark.parametrize("kind", list(SECURITY))
def test_generated_api_properties_validate_against_microsoft_schema(cli, write_spec, tmp_path, kind):
    folder = _new(cli, write_spec, tmp_path, kind, *AAD_ARGS)
    props = _props(folder)
    for exc_kind, path, _why in SCHEMA_EXCEPTIONS:
        if exc_kind == kind:
            props = _strip(props, path)
    validator = jsonschema.Draft7Validator(load_schema("paconn-apiProperties.schema.json"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(props)]
    assert errors == []


@needs_schemas
@pytest.mark.parametrize(("kind", "path", "why"), SCHEMA_EXCEPTIONS)
def test_schema_still_lags_on_each_documented_exception(cli, write_spec, tmp_path, kind, path, why):
    folder = _new(cli, write_spec, tmp_path, kind, *AAD_ARGS)
    props = _props(folder)
    validator = jsonschema.Draft7Validator(load_schema("paconn-apiProperties.schema.json"))
    assert not validator.is_valid(props), f"the schema now accepts this; drop the exception ({why})"
    assert validator.is_valid(_strip(props, path))


@needs_schemas
@pytest.mark.parametrize("kind", list(SECURITY))
def test_generated_settings_validate_against_paconn_schema(cli, write_spec, tmp_path, kind):
    folder = _new(cli, write_spec, tmp_path, kind, "--environment", "Aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["environment"] == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    if kind == "clientCredentials":
        # paconn reads settings.script (it uploads the script) but the 2020 schema omits it.
        assert settings.pop("script") == "script.csx"
    validator = jsonschema.Draft7Validator(load_schema("paconn-settings.schema.json"))
    assert [e.message for e in validator.iter_errors(settings)] == []


def test_api_key_header(cli, write_spec, tmp_path):
    folder = _new(cli, write_spec, tmp_path, "apiKey")
    params = _props(folder)["properties"]["connectionParameters"]
    assert list(params) == ["api_key"]
    assert params["api_key"]["type"] == "securestring"
    definition = json.loads((folder / "apiDefinition.swagger.json").read_text())
    assert definition["securityDefinitions"] == SECURITY["apiKey"]


def test_api_key_query_keeps_the_query_name_in_the_definition(cli, write_spec, tmp_path):
    folder = _new(cli, write_spec, tmp_path, "apiKeyQuery")
    definition = json.loads((folder / "apiDefinition.swagger.json").read_text())
    assert definition["securityDefinitions"]["key"] == {"type": "apiKey", "in": "query", "name": "code"}
    assert list(_props(folder)["properties"]["connectionParameters"]) == ["api_key"]


def test_basic(cli, write_spec, tmp_path):
    params = _props(_new(cli, write_spec, tmp_path, "basic"))["properties"]["connectionParameters"]
    assert list(params) == ["username", "password"]
    assert {p["type"] for p in params.values()} == {"securestring"}
    assert params["password"]["uiDefinition"]["constraints"]["clearText"] is False


def test_aad_from_definition_and_flags(cli, write_spec, tmp_path):
    folder = _new(cli, write_spec, tmp_path, "aad", *AAD_ARGS)
    params = _props(folder)["properties"]["connectionParameters"]
    settings = params["token"]["oAuthSettings"]
    assert params["token"]["type"] == "oauthSetting"
    assert settings["identityProvider"] == "aad"
    assert settings["clientId"] == AAD_ARGS[1]
    assert settings["redirectUrl"] == "https://global.consent.azure-apim.net/redirect"
    assert settings["redirectMode"] == "Global"
    assert settings["scopes"] == ["https://graph.microsoft.com/User.Read"]
    assert settings["customParameters"] == {
        "loginUri": {"value": "https://login.microsoftonline.com"},
        "tenantId": {"value": "contoso.onmicrosoft.com"},
        "resourceUri": {"value": "https://graph.microsoft.com"},
        "enableOnbehalfOfLogin": {"value": "false"},
    }
    assert settings["properties"]["AzureActiveDirectoryResourceId"] == "https://graph.microsoft.com"
    assert params["token:TenantId"] == {
        "type": "string",
        "metadata": {"sourceType": "AzureActiveDirectoryTenant"},
        "uiDefinition": {"constraints": {"required": "false", "hidden": "true"}},
    }


def test_aad_auth_config_file_with_microsoft_template_keys(cli, write_spec, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "oauth2": {
                    "clientId": "abc-client",
                    "resourceUri": "api://pets-api",
                    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                },
                "loginUri": "https://login.windows.net",
                "scopes": ["api://pets-api/Pets.Read"],
            }
        )
    )
    folder = _new(cli, write_spec, tmp_path, "aad", "--auth-config", config, "--redirect-mode", "globalperconnector")
    settings = _props(folder)["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["clientId"] == "abc-client"
    assert settings["redirectMode"] == "GlobalPerConnector"
    assert settings["scopes"] == ["api://pets-api/Pets.Read"]
    assert settings["customParameters"]["resourceUri"] == {"value": "api://pets-api"}
    assert settings["customParameters"]["tenantId"] == {"value": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
    assert settings["customParameters"]["loginUri"] == {"value": "https://login.windows.net"}


def test_flat_dotted_config_keys_and_flags_win_over_the_file(cli, write_spec, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"oauth2.clientId": "from-file", "oauth2.resourceUri": "https://r.example.com"}))
    folder = _new(cli, write_spec, tmp_path, "aad", "--auth-config", config, "--client-id", "from-flag")
    settings = _props(folder)["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["clientId"] == "from-flag"
    assert settings["customParameters"]["resourceUri"] == {"value": "https://r.example.com"}


@pytest.mark.parametrize(
    ("host", "login"),
    [
        ("login.microsoftonline.us", "https://login.microsoftonline.us"),
        ("login.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
        ("login.windows.net", "https://login.windows.net"),
    ],
)
def test_aad_sovereign_cloud_hosts(cli, write_spec, tmp_path, host, login):
    security = {
        "aad": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": f"https://{host}/common/oauth2/authorize?resource=https://graph.microsoft.us",
            "tokenUrl": f"https://{host}/common/oauth2/token",
            "scopes": {},
        }
    }
    spec = write_spec(security)
    result = cli("new", "Gov", "--from", spec, "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    settings = _props(tmp_path / "Gov")["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["identityProvider"] == "aad"
    assert settings["customParameters"]["loginUri"] == {"value": login}
    assert settings["customParameters"]["tenantId"] == {"value": "common"}
    assert settings["customParameters"]["resourceUri"] == {"value": "https://graph.microsoft.us"}


def test_aad_without_a_resource_is_an_input_error(cli, write_spec, tmp_path):
    security = copy.deepcopy(SECURITY["aad"])
    security["aad"]["scopes"] = {"openid": "", "offline_access": ""}
    result = cli("new", "P", "--from", write_spec(security), "-o", tmp_path)
    assert result.exit_code == 2
    assert "resourceUri" in result.stderr and "--resource-uri" in result.stderr
    assert not (tmp_path / "P").exists()


def test_generic_oauth2(cli, write_spec, tmp_path):
    folder = _new(cli, write_spec, tmp_path, "oauth2", "--client-id", "pets-client")
    token = _props(folder)["properties"]["connectionParameters"]["token"]
    settings = token["oAuthSettings"]
    assert settings["identityProvider"] == "oauth2"
    assert settings["clientId"] == "pets-client"
    assert settings["scopes"] == ["pets.read", "pets.write"]
    assert settings["customParameters"] == {
        "authorizationUrl": {"value": "https://auth.example.com/authorize"},
        "tokenUrl": {"value": "https://auth.example.com/token"},
        "refreshUrl": {"value": "https://auth.example.com/token"},
    }
    assert "token:TenantId" not in _props(folder)["properties"]["connectionParameters"]


def test_client_credentials_becomes_parameters_policies_and_script(cli, write_spec, tmp_path):
    folder = _new(cli, write_spec, tmp_path, "clientCredentials")
    props = _props(folder)["properties"]
    assert props["connectionParameters"]["client_id"]["type"] == "string"
    assert props["connectionParameters"]["client_secret"]["type"] == "securestring"
    policies = props["policyTemplateInstances"]
    assert [p["templateId"] for p in policies] == ["setheader", "setheader"]
    values = [p["parameters"]["x-ms-apimTemplateParameter.value"] for p in policies]
    assert values == ["@connectionParameters('client_id')", "@connectionParameters('client_secret')"]
    assert props["scriptOperations"] == []
    script = (folder / "script.csx").read_text()
    assert "class Script : ScriptBase" in script
    assert '@"https://auth.example.com/token"' in script
    assert '@"pets.read"' in script
    assert "grant_type" in script and "client_credentials" in script
    for policy in policies:
        assert f'@"{policy["parameters"]["x-ms-apimTemplateParameter.name"]}"' in script
    definition = json.loads((folder / "apiDefinition.swagger.json").read_text())
    assert "securityDefinitions" not in definition
    assert "security" not in definition


def test_script_only_uses_namespaces_the_platform_allows(cli, write_spec, tmp_path):
    allowed = {
        "System", "System.Collections", "System.Collections.Generic", "System.Diagnostics", "System.IO",
        "System.IO.Compression", "System.Linq", "System.Net", "System.Net.Http", "System.Net.Http.Headers",
        "System.Net.Security", "System.Security.Authentication", "System.Security.Cryptography", "System.Text",
        "System.Text.RegularExpressions", "System.Threading", "System.Threading.Tasks", "System.Web", "System.Xml",
        "System.Xml.Linq", "System.Drawing", "System.Drawing.Drawing2D", "System.Drawing.Imaging",
        "Microsoft.Extensions.Logging", "Newtonsoft.Json", "Newtonsoft.Json.Linq",
    }  # fmt: skip
    script = (_new(cli, write_spec, tmp_path, "clientCredentials") / "script.csx").read_text()
    used = {line.split()[1].rstrip(";") for line in script.splitlines() if line.startswith("using ")}
    assert used and used <= allowed


def test_no_security_means_no_connection_parameters(cli, write_spec, tmp_path):
    props = _props(_new(cli, write_spec, tmp_path, "none"))["properties"]
    assert props["connectionParameters"] == {}
    assert "policyTemplateInstances" not in props


def test_planted_client_secret_never_reaches_files_or_output(cli, write_spec, tmp_path):
    secret = "PLANTED-s3cr3t-7c1d9e"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"oauth2": {"clientId": "cid", "clientSecret": secret, "resourceUri": "api://x"}}))
    spec = write_spec(SECURITY["aad"])
    result = cli("new", "Petstore", "--from", spec, "-o", tmp_path / "out", "--auth-config", config, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stdout and secret not in result.stderr
    for file in (tmp_path / "out").rglob("*"):
        if file.is_file():
            assert secret.encode() not in file.read_bytes(), file


def test_triggers_are_counted_and_listed_in_capabilities(cli, write_spec, tmp_path):
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path, "--format", "json")
    data = json.loads(result.stdout)
    assert (data["operations"], data["triggers"]) == (4, 1)
    assert _props(tmp_path / "Petstore")["properties"]["capabilities"] == ["actions", "triggers"]


def test_definition_is_kept_as_written(cli, tmp_path):
    cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path)
    written = (tmp_path / "Petstore" / "apiDefinition.swagger.json").read_text()
    assert json.loads(written) == json.loads(EXAMPLE.read_text())
    assert list(json.loads(written)) == list(json.loads(EXAMPLE.read_text()))
    assert written.splitlines()[1].startswith('    "swagger"')


def test_yaml_definition(cli, tmp_path, petstore):
    from ruamel.yaml import YAML

    spec = tmp_path / "petstore.yaml"
    with spec.open("w") as fh:
        YAML().dump(petstore, fh)
    result = cli("new", "Petstore", "--from", spec, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    written = json.loads((tmp_path / "out" / "Petstore" / "apiDefinition.swagger.json").read_text())
    assert written == petstore


def test_publisher_and_stack_owner(cli, tmp_path):
    cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path, "--publisher", "Contoso", "--stack-owner", "Pets Inc")
    props = _props(tmp_path / "Petstore")["properties"]
    assert (props["publisher"], props["stackOwner"]) == ("Contoso", "Pets Inc")
    readme = (tmp_path / "Petstore" / "readme.md").read_text()
    assert "## Publisher: Contoso" in readme
    assert "### List pets" in readme


# ------------------------------------------------------------------ icon and brand colour


def _png(tmp_path: Path, size: tuple[int, int], fmt: str = "PNG", name: str = "icon.png") -> Path:
    path = tmp_path / name
    Image.new("RGB", size, "#123456").save(path, format=fmt)
    return path


def test_generated_icon_is_certifiable(cli, tmp_path):
    cli("new", "Pet Store", "--from", EXAMPLE, "-o", tmp_path, "--brand-color", "#1F6FEB")
    raw = Image.open(tmp_path / "Pet Store" / "icon.png")
    assert raw.format == "PNG"
    image = raw.convert("RGB")
    assert image.size == (230, 230)
    assert image.getpixel((0, 0)) == (0x1F, 0x6F, 0xEB)
    assert _props(tmp_path / "Pet Store")["properties"]["iconBrandColor"] == "#1f6feb"
    background = Image.new("RGB", image.size, (0x1F, 0x6F, 0xEB))
    from PIL import ImageChops

    left, top, right, bottom = ImageChops.difference(image, background).getbbox()
    assert (right - left) < 0.7 * 230 and (bottom - top) < 0.7 * 230


def test_icon_is_copied_when_valid(cli, tmp_path):
    icon = _png(tmp_path, (160, 160))
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path / "out", "--icon", icon)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "Petstore" / "icon.png").read_bytes() == icon.read_bytes()


@pytest.mark.parametrize(
    ("size", "fmt", "message"),
    [
        ((200, 100), "PNG", "must be square"),
        ((64, 64), "PNG", "between 100 and 230"),
        ((400, 400), "PNG", "between 100 and 230"),
        ((150, 150), "JPEG", "expected PNG"),
    ],
)
def test_bad_icons_are_refused(cli, tmp_path, size, fmt, message):
    icon = _png(tmp_path, size, fmt, name="logo.img")
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path / "out", "--icon", icon)
    assert result.exit_code == 2
    assert message in result.stderr and "logo.img" in result.stderr
    assert not (tmp_path / "out" / "Petstore").exists()


def test_icon_that_is_not_an_image(cli, tmp_path):
    icon = tmp_path / "icon.png"
    icon.write_text("not an image")
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path / "out", "--icon", icon)
    assert result.exit_code == 2 and "not an image" in result.stderr


@pytest.mark.parametrize(("color", "reason"), [("#FFFFFF", "white"), ("#007ee5", "default connector colour")])
def test_brand_colors_certification_refuses(cli, tmp_path, color, reason):
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path, "--brand-color", color)
    assert result.exit_code == 2
    assert "certification refuses" in result.stderr and reason in result.stderr
    assert not (tmp_path / "Petstore").exists()


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "123456", "#12345g"])
def test_malformed_brand_color(cli, tmp_path, color):
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path, "--brand-color", color)
    assert result.exit_code == 2 and "#RRGGBB" in result.stderr


def test_default_brand_color_is_stable_and_allowed(cli, tmp_path):
    cli("new", "A", "--from", EXAMPLE, "-o", tmp_path / "1")
    cli("new", "A", "--from", EXAMPLE, "-o", tmp_path / "2")
    first = _props(tmp_path / "1" / "A")["properties"]["iconBrandColor"]
    assert first == _props(tmp_path / "2" / "A")["properties"]["iconBrandColor"]
    assert first not in ("#ffffff", "#007ee5")
    icon = Image.open(io.BytesIO((tmp_path / "1" / "A" / "icon.png").read_bytes()))
    assert icon.format == "PNG"


def test_no_icon_for_independent_publishers(cli, tmp_path):
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path, "--no-icon", "--brand-color", "#da3b01",
                 "--publisher", "Ada Lovelace", "--stack-owner", "Petstore Inc")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "Petstore"
    assert not (folder / "icon.png").exists()
    assert "icon" not in json.loads((folder / "settings.json").read_text())
    checked = cli("validate", folder, "--profile", "independent-publisher")
    assert checked.exit_code == 0, checked.stdout
    assert "0 errors, 0 warnings" in checked.stdout
    both = cli("new", "Other", "--from", EXAMPLE, "-o", tmp_path, "--no-icon", "--icon", EXAMPLE)
    assert both.exit_code == 2 and "--no-icon" in both.stderr


@pytest.mark.parametrize("kind", list(SECURITY))
def test_every_generated_connector_validates_clean(cli, write_spec, tmp_path, kind):
    folder = _new(cli, write_spec, tmp_path, kind, *AAD_ARGS, "--publisher", "Contoso", "--stack-owner", "Contoso")
    for profile in ("custom", "certified"):
        checked = cli("validate", folder, "--profile", profile)
        assert checked.exit_code == 0, checked.stdout
        assert "0 errors, 0 warnings" in checked.stdout, checked.stdout
