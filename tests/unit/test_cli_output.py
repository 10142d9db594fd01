"""az's output formats: json, table, tsv, none and --query (knack semantics)."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from azmi.cli.errors import CliError
from azmi.cli.output import apply_query, compile_query, format_table, format_tsv, render

UAMI = {"clientId": "c-1", "id": "/subscriptions/s/resourcegroups/rg/providers/x/y/id1", "location": "eastus",
        "name": "id1", "principalId": "p-1", "resourceGroup": "rg", "tags": {}, "tenantId": "t",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities"}


def test_json_is_indented_and_sorted_like_az() -> None:
    assert render({"b": 1, "a": [True, None]}, "json") == '{\n  "a": [\n    true,\n    null\n  ],\n  "b": 1\n}\n'


def test_json_keeps_non_ascii() -> None:
    assert render({"n": "é"}, "json") == '{\n  "n": "é"\n}\n'


def test_none_result_and_none_format_print_nothing() -> None:
    assert render(None, "json") == ""
    assert render(None, "tsv") == ""
    assert render({"a": 1}, "none") == ""


def test_query_then_tsv_prints_bare_string() -> None:
    assert render(UAMI, "tsv", compile_query("clientId")) == "c-1\n"


def test_tsv_list_of_scalars_one_per_line() -> None:
    assert format_tsv(["a", "b"]) == "a\nb\n"


def test_tsv_plain_dict_sorted_by_key_nested_list_is_length_dict_is_empty() -> None:
    assert format_tsv({"z": "last", "a": [1, 2, 3], "m": {"x": 1}}) == "3\t\tlast\n"


def test_tsv_multiselect_hash_keeps_query_order() -> None:
    out = render([UAMI], "tsv", compile_query("[].{n:name, c:clientId, a:location}"))
    assert out == "id1\tc-1\teastus\n"


def test_tsv_top_level_bool_is_lowercase_nested_is_python() -> None:
    assert format_tsv(True) == "true\n"
    assert format_tsv([{"a": False}]) == "False\n"


def test_table_auto_columns_sorted_skip_id_type_and_nested() -> None:
    out = format_table([UAMI], query_active=False)
    lines = out.splitlines()
    assert lines[0].split() == ["ClientId", "Location", "Name", "PrincipalId", "ResourceGroup", "TenantId"]
    assert "Microsoft.ManagedIdentity" not in out and "/subscriptions" not in out


def test_table_layout_is_tabulate_simple() -> None:
    out = format_table([{"name": "rg1", "location": "eastus"}, {"name": "longer-name", "location": "westeurope"}],
                       query_active=False)
    assert out == ("Location    Name\n"
                   "----------  -----------\n"
                   "eastus      rg1\n"
                   "westeurope  longer-name\n")


def test_table_query_keeps_projection_order_and_capitalizes() -> None:
    out = render([UAMI], "table", compile_query("[].{name:name, Id:id, id:id}"))
    assert out.splitlines()[0].split() == ["Name", "Id"]  # a lower-case `id` key is skipped, as in az
    assert "/subscriptions/s/resourcegroups/rg/providers/x/y/id1" in out


def test_table_scalar_result_and_lists() -> None:
    assert format_table("x", query_active=True) == "Result\n--------\nx\n"
    assert format_table([["a", "b"]], query_active=True).splitlines()[0].split() == ["Column1", "Column2"]


def test_table_transformer_applies_only_without_query() -> None:
    def transformer(items: list[dict]) -> list[dict]:
        return [{"Only": i["name"]} for i in items]

    assert render([UAMI], "table", transformer=transformer).splitlines()[0] == "Only"
    assert render([UAMI], "table", compile_query("[].{n:name}"), transformer).splitlines()[0] == "N"


def test_table_without_scalar_fields_is_unavailable() -> None:
    with pytest.raises(CliError, match="Table output unavailable"):
        format_table([{"nested": {"a": 1}}], query_active=False)


def test_table_empty_list_prints_blank_line() -> None:
    assert format_table([], query_active=False) == "\n"


def test_query_uses_ordered_dicts() -> None:
    result = apply_query({"b": 1, "a": 2}, compile_query("{b:b, a:a}"))
    assert isinstance(result, OrderedDict) and list(result) == ["b", "a"]


def test_invalid_query_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid jmespath_type value"):
        compile_query("[?")
