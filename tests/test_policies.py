"""Policy templates and their expression language, on small calls and on real corpus connectors."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from connectorkit.definition.models import ApiProperties, PolicyTemplateInstance
from connectorkit.errors import InputError
from connectorkit.runtime.expressions import ExpressionError, evaluate, evaluate_value, parse_path
from connectorkit.runtime.model import Call, Headers, Request, Response
from connectorkit.runtime.policies import (
    PolicyError,
    PolicyOptions,
    SideRequestError,
    apply_request_policies,
    apply_response_policies,
)

from conftest import CORPUS, needs_corpus

P = "x-ms-apimTemplateParameter."
SECRET = "s3cr3t-KEY-value"


def make_call(
    *,
    connection: dict[str, Any] | None = None,
    headers: list[tuple[str, str]] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    method: str = "GET",
    base_url: str = "https://api.example.com/v1",
    path: str = "/items/42",
    operation_id: str = "Op",
) -> Call:
    request = Request(
        method=method,
        base_url=base_url,
        path=path,
        query=list(query or []),
        headers=Headers(headers or []),
        json=body,
        has_json=body is not None,
    )
    return Call(operation_id, dict(connection or {}), request)


def policy(
    template_id: str, section: str | None = None, operations: list[str] | None = None, **params: Any
) -> dict[str, Any]:
    parameters: dict[str, Any] = {P + k: v for k, v in params.items()}
    if section is not None:
        parameters["x-ms-apimTemplate-policySection"] = section
    if operations is not None:
        parameters["x-ms-apimTemplate-operationName"] = operations
    return {"templateId": template_id, "title": f"t-{template_id}", "parameters": parameters}


def respond(call: Call, status: int = 200, body: Any = None, headers: list[tuple[str, str]] | None = None) -> None:
    call.response = Response(status=status, headers=Headers(headers or []), json=body, has_json=body is not None)


# ------------------------------------------------------------------------------------ expressions


class TestExpressions:
    def test_connection_parameter_spliced_into_url(self) -> None:
        call = make_call(connection={"tenant": "contoso"})
        assert (
            evaluate("https://@connectionParameters('tenant').example.com/v1", call) == "https://contoso.example.com/v1"
        )

    def test_function_names_case_insensitive_and_double_quotes(self) -> None:
        call = make_call(connection={"api_key": "k"})
        assert evaluate('Bearer @ConnectionParameters("api_key")', call) == "Bearer k"

    def test_defaults(self) -> None:
        call = make_call(connection={"empty": ""})
        assert evaluate("@connectionParameters('dog','default')", call) == "default"
        assert evaluate("@connectionParameters('empty', 'd')", call) == "d"
        assert evaluate("x@connectionParameters('missing')y", call) == "xy"

    def test_strict_missing_connection_parameter(self) -> None:
        with pytest.raises(ExpressionError, match="'missing' has no value"):
            evaluate("@connectionParameters('missing')", make_call(), strict=True)

    def test_dynamic_host_doc_examples(self) -> None:
        call = make_call(
            headers=[("test", "foo"), ("port", "1234")],
            connection={"cat": "bar", "subPath": "path"},
            query=[("domain", "pqr")],
        )
        assert evaluate("https://@header('test').abc.xyz:@header('port')", call) == "https://foo.abc.xyz:1234"
        assert evaluate("https://@connectionParameters('cat').abc.xyz", call) == "https://bar.abc.xyz"
        assert (
            evaluate("https://@header('test').abc.@queryParameters('domain')/@connectionParameters('subPath')", call)
            == "https://foo.abc.pqr/path"
        )
        assert evaluate("https://@header('test123', 'default').abc.xyz", call) == "https://default.abc.xyz"
        assert evaluate("@headers('test')moo", call) == "foomoo"
        assert evaluate("moo@headers('TEST')", call) == "moofoo"

    def test_celonis_two_expressions(self) -> None:
        call = make_call(connection={"team": "t1", "cluster": "eu"})
        template = "https://@connectionParameters('team').@connectionParameters('cluster').celonis.cloud/intelligence"
        assert evaluate(template, call) == "https://t1.eu.celonis.cloud/intelligence"

    def test_body_paths(self) -> None:
        body = {"a": {"b": 5}, "@odata.etag": 'W/"1"', "list": [{"x": "first"}], "flag": True}
        call = make_call(body=body)
        assert evaluate("@body().a.b", call) == "5"
        assert evaluate("@body()['@odata.etag']", call) == 'W/"1"'
        assert evaluate("@body().list[0].x", call) == "first"
        assert evaluate("@body()?['a']?['b']", call) == "5"
        assert evaluate("@body().flag", call) == "true"
        assert evaluate_value("@body().a", call) == {"b": 5}
        assert evaluate_value("@body().nothing", call) is None
        assert evaluate("v=@body().a", call) == 'v={"b":5}'

    def test_wrappers(self) -> None:
        call = make_call(body={"firstName": "John", "lastName": "Smith"})
        assert evaluate("{@body().firstName} {@body().lastName}", call) == "John Smith"
        assert evaluate("name: @{body().firstName}!", call) == "name: John!"
        assert evaluate_value("{@body()['firstName']}", call) == "John"

    def test_response_section_body(self) -> None:
        call = make_call(body={"x": "request"})
        respond(call, body={"x": "response"})
        assert evaluate("@body().x", call) == "request"
        assert evaluate("@body().x", call, section="response") == "response"

    def test_item_and_environment(self) -> None:
        call = make_call()
        assert evaluate("{@item()['id']}-{@item()['reference']}", call, item={"id": 7, "reference": "R"}) == "7-R"
        assert evaluate("@environmentVariables('env')", call, environment={"env": "prod"}) == "prod"
        with pytest.raises(ExpressionError, match="outside an array"):
            evaluate("@item().x", call)

    def test_literal_at_signs_stay(self) -> None:
        call = make_call()
        assert evaluate("user@example.com @odata.nextLink @", call) == "user@example.com @odata.nextLink @"

    def test_original_method(self) -> None:
        assert evaluate("@Request.OriginalHTTPMethod", make_call(method="PATCH")) == "PATCH"

    @pytest.mark.parametrize(
        ("template", "problem"),
        [
            ("@unknownFunc('x')", "unknown function 'unknownFunc'"),
            ("@connectionParameters('x'", "expected ',' or ')'"),
            ("@connectionParameters('x)", "unterminated string"),
            ("@connectionParameters()", "takes a name"),
            ("@body('x')", "takes no arguments"),
            ("{@body().a", "unclosed"),
            ("@Request.Other", "unknown member"),
        ],
    )
    def test_bad_syntax_names_the_expression(self, template: str, problem: str) -> None:
        with pytest.raises(ExpressionError) as caught:
            evaluate(template, make_call())
        assert template in str(caught.value)
        assert problem in str(caught.value)
        assert isinstance(caught.value, InputError)

    def test_parse_path_forms(self) -> None:
        assert parse_path("@body().a['b'][2]").steps == ("a", "b", 2)
        assert parse_path("['@odata.type']").steps == ("@odata.type",)
        assert parse_path("previewPriority").steps == ("previewPriority",)
        assert parse_path("null").steps == ()
        assert parse_path("@item()._assignments").root == "item"
        with pytest.raises(ExpressionError):
            parse_path("@headers('x')")


# --------------------------------------------------------------------------------- selection rules


class TestSelection:
    def test_operation_filter(self) -> None:
        instances = [
            policy("setheader", operations=["Other"], name="X-A", value="a"),
            policy("setheader", operations=["Op", "Third"], name="X-B", value="b"),
            policy("setheader", name="X-C", value="c"),
        ]
        call = make_call()
        outcome = apply_request_policies(instances, call)
        assert call.request.headers.get("X-A") is None
        assert call.request.headers.get("X-B") == "b"
        assert call.request.headers.get("X-C") == "c"
        assert len(outcome.applied) == 2

    def test_template_id_case_insensitive_and_model_instances(self) -> None:
        instance = PolicyTemplateInstance(
            templateId="SetHeader", title="t", parameters={P + "name": "X-Y", P + "value": "1"}
        )
        call = make_call()
        apply_request_policies([instance, policy("setQueryParameter", name="q", value="2")], call)
        assert call.request.headers.get("x-y") == "1"
        assert call.request.query == [("q", "2")]

    def test_unknown_template_id(self) -> None:
        with pytest.raises(PolicyError, match="unknown templateId 'frobnicate'"):
            apply_request_policies([policy("Frobnicate")], make_call())

    def test_bad_section(self) -> None:
        with pytest.raises(PolicyError, match="policySection"):
            apply_request_policies([policy("setheader", section="Later", name="a", value="b")], make_call())

    def test_sections(self) -> None:
        instances = [
            policy("setheader", name="X-Req", value="1"),
            policy("setheader", section="Response", name="X-Resp", value="2"),
            policy("setheader", section="Failure", name="X-Fail", value="3"),
        ]
        call = make_call()
        apply_request_policies(instances, call)
        assert call.request.headers.get("X-Req") == "1"
        assert call.request.headers.get("X-Resp") is None

        respond(call, 200)
        apply_response_policies(instances, call)
        assert call.response is not None
        assert call.response.headers.get("X-Resp") == "2"
        assert call.response.headers.get("X-Fail") is None
        assert call.response.headers.get("X-Req") is None

        respond(call, 500)
        apply_response_policies(instances, call)
        assert call.response.headers.get("X-Resp") == "2"
        assert call.response.headers.get("X-Fail") == "3"

        respond(call, 500)
        apply_response_policies(instances, call, options=PolicyOptions(failure_runs_response=False))
        assert call.response.headers.get("X-Resp") is None
        assert call.response.headers.get("X-Fail") == "3"

        respond(call, 200)
        apply_response_policies(instances, call, failed=True)
        assert call.response.headers.get("X-Fail") == "3"

    def test_response_policies_need_a_response(self) -> None:
        with pytest.raises(PolicyError, match="need a response"):
            apply_response_policies([], make_call())


# ------------------------------------------------------------------------------------- templates


class TestHeadersAndQuery:
    @pytest.mark.parametrize(
        ("action", "options", "expected"),
        [
            ("override", PolicyOptions(), [("X", "new")]),
            ("skip", PolicyOptions(), [("X", "old")]),
            ("append", PolicyOptions(), [("X", "old, new")]),
            ("append", PolicyOptions(header_append="repeat"), [("X", "old"), ("X", "new")]),
        ],
    )
    def test_setheader_exists_actions(
        self, action: str, options: PolicyOptions, expected: list[tuple[str, str]]
    ) -> None:
        call = make_call(headers=[("X", "old")])
        apply_request_policies([policy("setheader", name="X", value="new", existsAction=action)], call, options=options)
        assert call.request.headers.items() == expected

    def test_setheader_adds_when_absent(self) -> None:
        for action in ("skip", "append", "override"):
            call = make_call()
            apply_request_policies([policy("setheader", name="X", value="v", existsAction=action)], call)
            assert call.request.headers.items() == [("X", "v")]

    def test_setheader_doc_cat_example(self) -> None:
        call = make_call(headers=[("test", "foo")], connection={"cat": "bar"})
        apply_request_policies([policy("setheader", name="cat", value="@connectionParameters('cat', '')")], call)
        assert call.request.headers.items() == [("test", "foo"), ("cat", "bar")]

    def test_bad_exists_action(self) -> None:
        with pytest.raises(PolicyError, match="existsAction"):
            apply_request_policies([policy("setheader", name="X", value="v", existsAction="merge")], make_call())

    @pytest.mark.parametrize(
        ("value", "action", "options", "expected"),
        [
            ("@connectionParameters('cat')", "override", PolicyOptions(), [("domain", "bar")]),
            (
                "@queryParameters('domain')@connectionParameters('cat')",
                "override",
                PolicyOptions(),
                [("domain", "pqrbar")],
            ),
            ("@connectionParameters('dog','default')", "override", PolicyOptions(), [("domain", "default")]),
            ("x", "skip", PolicyOptions(), [("domain", "pqr")]),
            ("bar", "append", PolicyOptions(), [("domain", "pqr"), ("domain", "bar")]),
            ("bar", "append", PolicyOptions(query_append="join"), [("domain", "pqr,bar")]),
        ],
    )
    def test_setqueryparameter(
        self, value: str, action: str, options: PolicyOptions, expected: list[tuple[str, str]]
    ) -> None:
        call = make_call(query=[("domain", "pqr")], connection={"cat": "bar"})
        apply_request_policies(
            [policy("setqueryparameter", name="domain", value=value, existsAction=action)], call, options=options
        )
        assert call.request.query == expected

    def test_setqueryparameter_skip_adds_default(self) -> None:
        call = make_call()
        apply_request_policies([policy("setqueryparameter", name="$top", value="10", existsAction="skip")], call)
        assert call.request.query == [("$top", "10")]


class TestRoutingAndHosts:
    def test_dynamichosturl_replaces_base_and_strips_slash(self) -> None:
        call = make_call(connection={"jirainstance": "acme"}, base_url="https://placeholder/rest/api", path="/2/issue")
        apply_request_policies(
            [
                policy(
                    "dynamichosturl",
                    urlTemplate="https://@connectionParameters('jirainstance').atlassian.net/rest/api/",
                )
            ],
            call,
        )
        assert call.request.base_url == "https://acme.atlassian.net/rest/api"
        assert call.request.url == "https://acme.atlassian.net/rest/api/2/issue"

    def test_dynamichosturl_keep_base_path_option(self) -> None:
        call = make_call(connection={"hostName": "acme.example.com"}, base_url="https://x/api/3", path="/contacts")
        apply_request_policies(
            [policy("dynamichosturl", urlTemplate="https://@connectionParameters('hostName')")],
            call,
            options=PolicyOptions(dynamic_host_replaces_base_path=False),
        )
        assert call.request.url == "https://acme.example.com/api/3/contacts"

    def test_dynamichosturl_not_a_url_hides_value(self) -> None:
        call = make_call(connection={"host": SECRET})
        with pytest.raises(PolicyError) as caught:
            apply_request_policies([policy("dynamichosturl", urlTemplate="@connectionParameters('host')")], call)
        assert SECRET not in str(caught.value)
        assert "@connectionParameters('host')" in str(caught.value)

    def test_dynamicsubdomain(self) -> None:
        call = make_call(connection={"subdomain": "acme"})
        apply_request_policies(
            [policy("dynamicsubdomain", urlTemplate="https://@connectionParameters('subdomain').alisqi.com/api/")], call
        )
        assert call.request.base_url == "https://acme.alisqi.com/api"

    def test_route_with_path_params_and_original_method(self) -> None:
        call = make_call(method="PATCH", path="/v2/tasks/a%2Fb/details", operation_id="UpdateTaskDetails_V2")
        apply_request_policies(
            [
                policy(
                    "routerequesttoendpoint",
                    newPath="/v1.0/planner/tasks/{id}/details",
                    httpMethod="@Request.OriginalHTTPMethod",
                )
            ],
            call,
            path_params={"id": "a%2Fb"},
        )
        assert call.request.path == "/v1.0/planner/tasks/a%2Fb/details"
        assert call.request.method == "PATCH"

    def test_route_changes_method_adds_slash_and_merges_query(self) -> None:
        call = make_call(query=[("indicator_type", "domain"), ("indicator_value", "x.com")])
        apply_request_policies(
            [
                policy(
                    "routerequesttoendpoint",
                    newPath="whois/search?@queryParameters('indicator_type')=@queryParameters('indicator_value')",
                    httpMethod="post",
                )
            ],
            call,
        )
        assert call.request.path == "/whois/search"
        assert call.request.method == "POST"
        assert ("domain", "x.com") in call.request.query
        assert ("indicator_type", "domain") in call.request.query

    def test_route_doc_examples(self) -> None:
        call = make_call(query=[("version", "v2")], base_url="https://test.abc.xyz", path="/get/7")
        apply_request_policies(
            [policy("routerequesttoendpoint", newPath="/@queryParameters('version')/get/{id}")],
            call,
            path_params={"id": "7"},
        )
        assert call.request.url.startswith("https://test.abc.xyz/v2/get/7")
        call = make_call(base_url="https://test.abc.xyz", path="/get/7")
        apply_request_policies(
            [policy("routerequesttoendpoint", newPath="/@header('version', 'v1')/get/{id}")],
            call,
            path_params={"id": "7"},
        )
        assert call.request.url == "https://test.abc.xyz/v1/get/7"

    def test_route_missing_path_param(self) -> None:
        with pytest.raises(PolicyError, match=r"\{id\} has no value"):
            apply_request_policies([policy("routerequesttoendpoint", newPath="/x/{id}")], make_call())

    def test_miro_header_in_path(self) -> None:
        call = make_call(headers=[("TeamId", "T9")])
        apply_request_policies([policy("routerequesttoendpoint", newPath="/teams/@headers('TeamId')/boards")], call)
        assert call.request.path == "/teams/T9/boards"


class TestBodyTemplates:
    def test_setproperty_constant_on_object(self) -> None:
        call = make_call(body={"url": "u"})
        apply_request_policies(
            [
                policy(
                    "SetProperty",
                    newPropertyParentPathTemplate="@body()",
                    newPropertySubPathTemplate="version",
                    propertyValuePathTemplate="v1",
                )
            ],
            call,
        )
        assert call.request.json == {"url": "u", "version": "v1"}

    def test_setproperty_on_every_array_element(self) -> None:
        call = make_call(body={"people": [{"n": "a"}, {"n": "b"}]})
        apply_request_policies(
            [
                policy(
                    "setproperty",
                    newPropertyParentPathTemplate="@body().people",
                    newPropertySubPathTemplate="age",
                    propertyValuePathTemplate="30",
                )
            ],
            call,
        )
        assert call.request.json == {"people": [{"n": "a", "age": "30"}, {"n": "b", "age": "30"}]}

    def test_setproperty_interpolation_and_bracket_sub_path(self) -> None:
        call = make_call(body={"firstName": "John", "lastName": "Smith", "@odata.id": "abc"})
        apply_request_policies(
            [
                policy(
                    "setproperty",
                    newPropertyParentPathTemplate="@body()",
                    newPropertySubPathTemplate="full",
                    propertyValuePathTemplate="{@body().firstName} {@body().lastName}",
                ),
                policy(
                    "setproperty",
                    newPropertyParentPathTemplate="@body()",
                    newPropertySubPathTemplate="['@odata.id']",
                    propertyValuePathTemplate="https://graph.microsoft.com/v1.0/directoryObjects/{@body()['@odata.id']}",
                ),
            ],
            call,
        )
        assert call.request.json["full"] == "John Smith"
        assert call.request.json["@odata.id"] == "https://graph.microsoft.com/v1.0/directoryObjects/abc"

    def test_setproperty_connection_value_into_nested_path(self) -> None:
        call = make_call(body={"favicon_generation": {}}, connection={"key": "K"})
        apply_request_policies(
            [
                policy(
                    "setproperty",
                    newPropertyParentPathTemplate="@body().favicon_generation",
                    newPropertySubPathTemplate="api_key",
                    propertyValuePathTemplate="@connectionParameters('key')",
                )
            ],
            call,
        )
        assert call.request.json == {"favicon_generation": {"api_key": "K"}}

    def test_setproperty_response_items_freeagent(self) -> None:
        call = make_call()
        respond(call, body={"invoices": [{"id": "1", "reference": "A"}, {"id": "2", "reference": "B"}]})
        apply_response_policies(
            [
                policy(
                    "setproperty",
                    section="Response",
                    newPropertyParentPathTemplate="@body().invoices",
                    newPropertySubPathTemplate="title",
                    propertyValuePathTemplate="'{@item()['id']}-{@item()['reference']}'",
                )
            ],
            call,
        )
        assert call.response is not None
        assert [i["title"] for i in call.response.json["invoices"]] == ["1-A", "2-B"]

    def test_setproperty_whole_expression_keeps_type(self) -> None:
        call = make_call()
        respond(call, body={"next": {"page": 2}})
        apply_response_policies(
            [
                policy(
                    "setproperty",
                    section="Response",
                    newPropertyParentPathTemplate="@body()",
                    newPropertySubPathTemplate="nextLink",
                    propertyValuePathTemplate="@body().next",
                )
            ],
            call,
        )
        assert call.response is not None
        assert call.response.json["nextLink"] == {"page": 2}

    def test_setproperty_absent_parent_is_a_note(self) -> None:
        call = make_call(body={})
        outcome = apply_request_policies(
            [
                policy(
                    "setproperty",
                    newPropertyParentPathTemplate="@body().references",
                    newPropertySubPathTemplate="x",
                    propertyValuePathTemplate="y",
                )
            ],
            call,
        )
        assert call.request.json == {}
        assert outcome.notes and not outcome.applied

    def test_convertarraytoobject_doc_example(self) -> None:
        body = {"peopleArray": [{"Name": "XYZ", "Age": "30"}, {"Name": "ABC", "Age": "23"}]}
        call = make_call(body=body)
        apply_request_policies(
            [
                policy(
                    "convertarraytoobject",
                    propertyParentPath="@body()",
                    propertySubPath="peopleArray",
                    keyWithinCollectionPath="Name",
                    newPropertyPath="peopleObject",
                    retainKey="false",
                )
            ],
            call,
        )
        assert call.request.json["peopleObject"] == {"XYZ": {"Age": "30"}, "ABC": {"Age": "23"}}
        assert call.request.json["peopleArray"][0] == {"Name": "XYZ", "Age": "30"}

    def test_convertarraytoobject_retain_key_default(self) -> None:
        call = make_call(body={"a": [{"id": "k", "v": 1}]})
        apply_request_policies(
            [
                policy(
                    "convertarraytoobject",
                    propertyParentPath="@body()",
                    propertySubPath="a",
                    keyWithinCollectionPath="id",
                    newPropertyPath="@body().a",
                )
            ],
            call,
        )
        assert call.request.json == {"a": {"k": {"id": "k", "v": 1}}}

    def test_convertobjecttoarray_doc_example(self) -> None:
        call = make_call(body={"peopleObject": {"XYZ": {"Age": "30"}, "ABC": {"Age": "23"}}})
        apply_request_policies(
            [
                policy(
                    "convertobjecttoarray",
                    propertyParentPath="@body()",
                    propertySubPath="peopleObject",
                    newPropertyPath="@body().peopleArray",
                    keyName="Name",
                    valueName="Details",
                )
            ],
            call,
        )
        assert call.request.json["peopleArray"] == [
            {"Name": "XYZ", "Details": {"Age": "30"}},
            {"Name": "ABC", "Details": {"Age": "23"}},
        ]

    def test_convertobjecttoarray_defaults_whole_body_and_items(self) -> None:
        call = make_call()
        respond(call, body={"DE": 1, "FR": 2})
        apply_response_policies(
            [
                policy(
                    "convertobjecttoarray",
                    section="Response",
                    propertyParentPath="@body()",
                    propertySubPath="null",
                    newPropertyPath="@body().Zones",
                )
            ],
            call,
        )
        assert call.response is not None
        assert call.response.json["Zones"] == [{"key": "DE", "value": 1}, {"key": "FR", "value": 2}]

        respond(call, body={"value": [{"assignments": {"u1": {"o": 1}}}, {"assignments": {}}]})
        apply_response_policies(
            [
                policy(
                    "convertobjecttoarray",
                    section="Response",
                    propertyParentPath="@body().value",
                    propertySubPath="assignments",
                    newPropertyPath="@item()._assignments",
                    keyName="userId",
                )
            ],
            call,
        )
        assert call.response.json["value"][0]["_assignments"] == [{"userId": "u1", "value": {"o": 1}}]
        assert call.response.json["value"][1]["_assignments"] == []

    def test_stringtoarray(self) -> None:
        call = make_call(body={"age": "3;0", "assignments": "u1; u2;"})
        apply_request_policies(
            [
                policy(
                    "stringtoarray",
                    propertyParentPath="@body()",
                    propertySubPath="age",
                    delimiterList=";",
                    childPropertyName="AgeW",
                    newPropertyPath="@body().ages",
                ),
                policy(
                    "stringtoarray",
                    propertyParentPath="@body()",
                    propertySubPath="assignments",
                    delimiterList=";",
                    childPropertyName="userId",
                    newPropertyPath="@body().assignments",
                ),
            ],
            call,
        )
        assert call.request.json["ages"] == [{"AgeW": "3"}, {"AgeW": "0"}]
        assert call.request.json["assignments"] == [{"userId": "u1"}, {"userId": "u2"}]

    def test_stringreplace_per_item_and_literal_source(self) -> None:
        call = make_call(
            body={"references": [{"resourceLink": "https://a.b/c@d"}, {"resourceLink": "x"}, {"other": 1}]}
        )
        apply_request_policies(
            [
                policy(
                    "stringreplace",
                    propertyParentPath="@body().references",
                    propertySubPath="resourceLink",
                    sourceString=".",
                    replacementString="%2E",
                    newPropertyPath="@item().resourceLink",
                ),
                policy(
                    "stringreplace",
                    propertyParentPath="@body().references",
                    propertySubPath="resourceLink",
                    sourceString="@",
                    replacementString="%40",
                    newPropertyPath="@item().resourceLink",
                ),
            ],
            call,
        )
        refs = call.request.json["references"]
        assert refs[0]["resourceLink"] == "https://a%2Eb/c%40d"
        assert refs[1]["resourceLink"] == "x"
        assert refs[2] == {"other": 1}

    def test_stringreplace_to_new_property(self) -> None:
        call = make_call()
        respond(call, body={"invoices": [{"url": "https://api.freeagent.com/v2/invoices/12"}]})
        apply_response_policies(
            [
                policy(
                    "stringreplace",
                    section="Response",
                    propertyParentPath="@body().invoices",
                    propertySubPath="url",
                    sourceString="https://api.freeagent.com/v2/invoices/",
                    replacementString="",
                    newPropertyPath="@item().id",
                )
            ],
            call,
        )
        assert call.response is not None
        assert call.response.json["invoices"][0] == {"url": "https://api.freeagent.com/v2/invoices/12", "id": "12"}

    def test_encodepropertyvalue(self) -> None:
        call = make_call(body={"assignments": [{"userId": "a b/c@d"}]})
        apply_request_policies(
            [
                policy(
                    "encodepropertyvalue",
                    propertyParentPath="@body().assignments",
                    propertySubPath="userId",
                    newPropertyPath="@item().userId",
                )
            ],
            call,
        )
        assert call.request.json["assignments"][0]["userId"] == "a%20b%2Fc%40d"

    def test_moveproperties_children(self) -> None:
        call = make_call(body={"displayName": "x", "customProperties": {"a": 1, "b": 2}})
        apply_request_policies(
            [
                policy(
                    "moveproperties",
                    srcParentPath="@body()",
                    srcSubPath="customProperties",
                    dstParentPath="@body()",
                    dstSubPath="null",
                    copyOnlySubProperties="true",
                )
            ],
            call,
        )
        assert call.request.json == {"displayName": "x", "a": 1, "b": 2}

    def test_moveproperties_whole_property(self) -> None:
        call = make_call(body={"src": {"p": 1}})
        apply_request_policies(
            [
                policy(
                    "moveproperties",
                    srcParentPath="@body()",
                    srcSubPath="p",
                    dstParentPath="@body()",
                    dstSubPath="dst",
                    copyOnlySubProperties="false",
                )
            ],
            make_call(body={}),
        )
        apply_request_policies(
            [
                policy(
                    "moveproperties",
                    srcParentPath="@body().src",
                    srcSubPath="p",
                    dstParentPath="@body()",
                    dstSubPath="dst",
                    copyOnlySubProperties="false",
                )
            ],
            call,
        )
        assert call.request.json == {"src": {}, "dst": {"p": 1}}


class TestResponseTemplates:
    def test_updatenextlink_rewrites_backend_links(self) -> None:
        call = make_call(base_url="https://graph.microsoft.com/v1.0")
        respond(
            call,
            body={"value": [], "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups/1/members?$skiptoken=X"},
        )
        outcome = apply_response_policies(
            [policy("updatenextlink", nextLinkPropertyName="@odata.nextLink")],
            call,
            next_link_base="http://127.0.0.1:8000/apim/c/conn-1/",
        )
        assert call.response is not None
        assert (
            call.response.json["@odata.nextLink"] == "http://127.0.0.1:8000/apim/c/conn-1/groups/1/members?$skiptoken=X"
        )
        assert outcome.applied

    def test_updatenextlink_leaves_foreign_links_and_needs_base(self) -> None:
        call = make_call(base_url="https://api.example.com/v1")
        respond(call, body={"nextLink": "https://elsewhere.example.com/page2"})
        outcome = apply_response_policies(
            [policy("updatenextlink", nextLinkPropertyName="nextLink")], call, next_link_base="http://local"
        )
        assert call.response is not None
        assert call.response.json["nextLink"] == "https://elsewhere.example.com/page2"
        assert outcome.notes
        respond(call, body={"nextLink": "https://api.example.com/v1/p2"})
        outcome = apply_response_policies([policy("updatenextlink", nextLinkPropertyName="nextLink")], call)
        assert call.response.json["nextLink"] == "https://api.example.com/v1/p2"
        assert outcome.notes

    def test_updatenextlink_is_not_request_side(self) -> None:
        call = make_call()
        outcome = apply_request_policies([policy("updatenextlink", nextLinkPropertyName="nextLink")], call)
        assert outcome.applied == [] and outcome.notes == []

    @pytest.mark.parametrize(("status", "flag"), [(401, True), (403, False), (200, False)])
    def test_setconnectionstatustounauthenticated(self, status: int, flag: bool) -> None:
        call = make_call()
        respond(call, status)
        outcome = apply_response_policies([policy("setconnectionstatustounauthenticated", statusCode=401)], call)
        assert outcome.connection_unauthenticated is flag

    def test_pollingtrigger_skipped_with_note(self) -> None:
        call = make_call()
        instance = policy(
            "pollingtrigger", triggerConfig={"since": "@{triggerBody().x}"}, triggerDataPath="@triggerBody().value"
        )
        outcome = apply_request_policies([instance], call)
        assert "pollingtrigger" in outcome.notes[0]
        assert call.request.query == []


# ------------------------------------------------------------------------------------ side calls


class FakeSend:
    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.status = status
        self.body = body
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(
            Request(
                request.method, request.base_url, request.path, list(request.query), Headers(request.headers.items())
            )
        )
        return Response(self.status, json=self.body, has_json=self.body is not None)


def cradl_policies() -> list[dict[str, Any]]:
    return [
        policy(
            "setheader",
            section="Request",
            name="Authorization",
            value="Basic @connectionParameters('api_key')",
            existsAction="override",
        ),
        policy("dynamichosturl", section="Request", urlTemplate="https://auth.lucidtech.ai"),
        policy(
            "setheader",
            section="Request",
            name="Content-Type",
            value="application/x-www-form-urlencoded",
            existsAction="override",
        ),
        policy(
            "setvaluefromurl",
            section="Request",
            parameterTemplate="@headers('Authorization')",
            httpMethod="POST",
            parameterValueUrl="/oauth2/token?grant_type=client_credentials",
            parameterValuePathTemplate="@body().access_token",
        ),
        policy(
            "setheader",
            section="Request",
            name="Authorization",
            value="Bearer @headers('Authorization')",
            existsAction="override",
        ),
        policy("dynamichosturl", section="Request", urlTemplate="https://api.lucidtech.ai/v1"),
        policy("setheader", section="Request", name="Content-Type", value="application/json", existsAction="override"),
    ]


class TestSetValueFromUrl:
    def test_cradl_sequence_depends_on_order(self) -> None:
        send = FakeSend(body={"access_token": "TOKEN-1"})
        call = make_call(
            connection={"api_key": "Y2xpZW50OnNlY3JldA=="},
            base_url="https://api.lucidtech.ai/v1",
            path="/documents",
            method="POST",
            body={"x": 1},
        )
        apply_request_policies(cradl_policies(), call, send=send)
        side = send.requests[0]
        assert side.method == "POST"
        assert side.url == "https://auth.lucidtech.ai/oauth2/token?grant_type=client_credentials"
        assert side.headers.get("Authorization") == "Basic Y2xpZW50OnNlY3JldA=="
        assert side.headers.get("Content-Type") == "application/x-www-form-urlencoded"
        assert call.request.headers.get("Authorization") == "Bearer TOKEN-1"
        assert call.request.headers.get("Content-Type") == "application/json"
        assert call.request.url == "https://api.lucidtech.ai/v1/documents"

        reordered = cradl_policies()
        reordered[1], reordered[5] = reordered[5], reordered[1]
        send = FakeSend(body={"access_token": "T"})
        call = make_call(connection={"api_key": "k"}, path="/documents")
        apply_request_policies(reordered, call, send=send)
        assert send.requests[0].url.startswith("https://api.lucidtech.ai/v1/oauth2/token")
        assert call.request.base_url == "https://auth.lucidtech.ai"

    def test_planner_etag_into_header(self) -> None:
        send = FakeSend(body={"@odata.etag": 'W/"JzEtVGFzayAg"'})
        call = make_call(
            base_url="https://graph.microsoft.com",
            method="PATCH",
            path="/v2/tasks/T1",
            operation_id="UpdateTask_V3",
            headers=[("Authorization", "Bearer x")],
        )
        apply_request_policies(
            [
                policy(
                    "SetValueFromUrl",
                    section="Request",
                    operations=["UpdateTask_V3"],
                    parameterTemplate="@headers('If-Match')",
                    parameterValueUrl="/v1.0/planner/tasks/{id}",
                    parameterValuePathTemplate="@body()['@odata.etag']",
                    httpMethod="GET",
                )
            ],
            call,
            send=send,
            path_params={"id": "T1"},
        )
        assert send.requests[0].url == "https://graph.microsoft.com/v1.0/planner/tasks/T1"
        assert send.requests[0].headers.get("Authorization") == "Bearer x"
        assert call.request.headers.get("If-Match") == 'W/"JzEtVGFzayAg"'
        assert call.request.method == "PATCH"

    def test_query_target(self) -> None:
        send = FakeSend(body={"access_token": "PAGE"})
        call = make_call(query=[("pageId", "p1")])
        apply_request_policies(
            [
                policy(
                    "setvaluefromurl",
                    parameterTemplate="@queryParameters('access_token')",
                    parameterValueUrl="/@queryParameters('pageId')?fields=access_token",
                    parameterValuePathTemplate="@body().access_token",
                )
            ],
            call,
            send=send,
        )
        assert send.requests[0].path == "/p1"
        assert send.requests[0].query == [("fields", "access_token")]
        assert call.request.query_value("access_token") == "PAGE"

    def test_errors(self) -> None:
        instance = policy(
            "setvaluefromurl",
            parameterTemplate="@headers('X')",
            parameterValueUrl="/t",
            parameterValuePathTemplate="@body().v",
        )
        with pytest.raises(PolicyError, match="needs a send function"):
            apply_request_policies([instance], make_call())
        with pytest.raises(SideRequestError, match="returned 500"):
            apply_request_policies([instance], make_call(), send=FakeSend(500, {"v": SECRET}))
        with pytest.raises(SideRequestError, match="found nothing"):
            apply_request_policies([instance], make_call(), send=FakeSend(200, {"other": 1}))
        bad = policy(
            "setvaluefromurl",
            parameterTemplate="@body().x",
            parameterValueUrl="/t",
            parameterValuePathTemplate="@body().v",
        )
        with pytest.raises(PolicyError, match="parameterTemplate"):
            apply_request_policies([bad], make_call(), send=FakeSend(200, {"v": 1}))

    def test_side_request_over_loopback(self, httpserver: HTTPServer) -> None:
        httpserver.expect_request(
            "/oauth2/token",
            method="POST",
            query_string="grant_type=client_credentials",
            headers={"Authorization": "Basic abc"},
        ).respond_with_json({"access_token": "LOOP"})

        def send(request: Request) -> Response:
            with httpx.Client() as client:
                reply = client.request(request.method, request.url, headers=request.headers.items())
            return Response(reply.status_code, Headers(list(reply.headers.items())), reply.json(), True, reply.content)

        instances = cradl_policies()
        instances[1] = policy("dynamichosturl", urlTemplate=httpserver.url_for("/").rstrip("/"))
        call = make_call(connection={"api_key": "abc"}, path="/documents")
        apply_request_policies(instances, call, send=send)
        assert call.request.headers.get("Authorization") == "Bearer LOOP"
        httpserver.check_assertions()


# ----------------------------------------------------------------------------------- secrets


def test_secrets_stay_out_of_errors_and_outcomes() -> None:
    call = make_call(connection={"api_key": SECRET})
    outcome = apply_request_policies(
        [policy("setheader", name="Authorization", value="Key @connectionParameters('api_key')")], call
    )
    assert call.request.headers.get("Authorization") == f"Key {SECRET}"
    assert SECRET not in repr(outcome)
    with pytest.raises(ExpressionError) as caught:
        apply_request_policies(
            [policy("setheader", name="X", value="@connectionParameters('api_key') @nope('x')")], call
        )
    assert SECRET not in str(caught.value)


# -------------------------------------------------------------------------------- real connectors


def corpus_instances(folder: str) -> list[PolicyTemplateInstance]:
    path = CORPUS / folder / "apiProperties.json"
    if not path.is_file():
        pytest.skip(f"{path} not in the corpus")
    props = ApiProperties.model_validate(json.loads(path.read_text(encoding="utf-8-sig")))
    return list(props.properties.policyTemplateInstances or [])


def sample_body() -> dict[str, Any]:
    return {
        "references": [{"resourceLink": "https://x.example.com/a.b", "alias": "r"}],
        "checklist": [{"id": "c1", "title": "t"}],
        "assignments": "u1;u2",
        "customProperties": {"extension_1": "v"},
        "invoices": [{"url": "https://api.freeagent.com/v2/invoices/9", "reference": "R"}],
        "@odata.id": "u1",
    }


@needs_corpus
@pytest.mark.parametrize(
    "folder",
    [
        "certified-connectors/JIRA",
        "certified-connectors/Cradl AI",
        "certified-connectors/Planner",
        "certified-connectors/AzureAD",
        "certified-connectors/Almabase",
        "certified-connectors/DeskDirector",
        "certified-connectors/AlisQI",
        "independent-publisher-connectors/FreeAgent",
        "independent-publisher-connectors/Electricity Maps",
        "custom-connectors/Facebook",
    ],
)
def test_corpus_policies_run_on_every_operation(folder: str) -> None:
    instances = corpus_instances(folder)
    assert instances
    operations = sorted({op for i in instances for op in i.operations}) or ["AnyOperation"]
    text = json.dumps([i.dump() for i in instances])
    connection: dict[str, Any] = {name: "acme" for name in re.findall(r"connectionParameters\('([^']+)'", text)}
    for instance in instances:
        url = (instance.parameters or {}).get(P + "urlTemplate", "")
        if url.startswith("@connectionParameters("):
            connection[url.split("'")[1]] = "https://acme.example.com"
    path_params = {name: "P1" for name in re.findall(r"\{(\w+)\}", text)}
    applied = 0
    for operation in operations:
        call = make_call(
            connection=connection, body=sample_body(), method="PATCH", query=[("pageId", "p1")], operation_id=operation
        )
        send = FakeSend(body={"access_token": "T", "@odata.etag": "E"})
        applied += len(apply_request_policies(instances, call, send=send, path_params=path_params).applied)
        assert call.request.url.startswith(("https://", "http://"))
        respond(
            call,
            401,
            body={
                "value": [{"assignments": {"u": {}}}],
                "@odata.nextLink": call.request.base_url + "/next",
                "nextLink": "x",
                **sample_body(),
            },
        )
        applied += len(apply_response_policies(instances, call, next_link_base="http://local/conn").applied)
    assert applied > 0


@needs_corpus
def test_corpus_jira_dynamichosturl_and_route() -> None:
    instances = corpus_instances("certified-connectors/JIRA")
    hosts = [i for i in instances if i.template == "dynamichosturl"]
    assert hosts
    call = make_call(connection={"jirainstance": "acme"}, base_url="https://placeholder/rest/api", path="/2/project")
    apply_request_policies(hosts, call)
    assert call.request.base_url.startswith("https://acme.atlassian.net")
    assert not call.request.base_url.endswith("/")


@needs_corpus
def test_corpus_deskdirector_flags_unauthenticated() -> None:
    instances = corpus_instances("certified-connectors/DeskDirector")
    call = make_call(connection={"api_key": "k", "url": "https://dd.example.com"})
    respond(call, 401)
    outcome = apply_response_policies(instances, call)
    assert outcome.connection_unauthenticated


@needs_corpus
def test_corpus_every_template_id_is_known() -> None:
    for path in sorted(CORPUS.glob("*/*/apiProperties.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue
        raw = data.get("properties", {}).get("policyTemplateInstances") or []
        call = make_call(operation_id="__none__")
        # Selection validates every instance (template id, section) even when none applies.
        apply_request_policies(
            [i for i in raw if "x-ms-apimTemplate-operationName" in (i.get("parameters") or {})], call
        )


@needs_corpus
def test_corpus_planner_create_task_body_pipeline() -> None:
    instances = corpus_instances("certified-connectors/Planner")
    call = make_call(
        method="POST",
        path="/v3/tasks",
        operation_id="CreateTask_V3",
        body={"title": "t", "assignments": "a.b@x.com; c"},
    )
    apply_request_policies(instances, call)
    assert call.request.path == "/v1.0/planner/tasks"
    assert call.request.json["assignments"] == {
        "a%2Eb%40x%2Ecom": {"orderHint": " !", "@odata.type": "microsoft.graph.plannerAssignment"},
        "c": {"orderHint": " !", "@odata.type": "microsoft.graph.plannerAssignment"},
    }
