"""az's output formats and `--query`, reproduced from knack's formatters.

- json/jsonc: `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`; no output for None.
- table: one row per list item; columns are an item's scalar fields (keys sorted unless a query
  is active; keys `id`, `type`, `etag` always skipped), first letter capitalised; laid out like
  tabulate's "simple" format (column width = max(header + 2, widest value), two-space gaps).
  A command's table transformer applies only when no query is active.
- tsv: one line per list item; a dict gives its values (sorted by key, or in query order for a
  JMESPath multiselect hash), a nested list gives its length, a nested dict an empty field;
  bare strings unquoted; a top-level boolean prints `true`/`false`.
- --query: JMESPath with ordered dicts, as az does.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from azmi.cli.errors import CliError

FORMATS = ("json", "jsonc", "table", "tsv", "none")
SKIP_KEYS = ("id", "type", "etag")
TABLE_UNAVAILABLE = ("Table output unavailable. Use the --query option to specify an appropriate query. "
                     "Use --debug for more info.")

TableTransformer = Callable[[Any], Any]


def compile_query(text: str) -> ParsedResult:
    """Compile a JMESPath expression; raises ValueError with az's wording."""
    try:
        return jmespath.compile(text)
    except JMESPathError as exc:
        raise ValueError(f"invalid jmespath_type value: '{text}'") from exc


def apply_query(result: Any, query: ParsedResult | None) -> Any:
    if query is None:
        return result
    return query.search(result, jmespath.Options(dict_cls=OrderedDict))


def format_json(result: Any) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"


def _capitalize(key: str) -> str:
    return key[0].upper() + key[1:] if key else key


def _table_row(item: Any, sort_keys: bool) -> dict[str, Any]:
    if isinstance(item, dict):
        keys = sorted(item) if sort_keys else list(item)
        row: dict[str, Any] = {}
        for key in keys:
            if key in SKIP_KEYS:
                continue
            value = item[key]
            if value is not None and not isinstance(value, (list, dict, set)):
                row[_capitalize(str(key))] = value
        return row
    if isinstance(item, list):
        return {f"Column{i + 1}": v for i, v in enumerate(item)}
    return {"Result": item}


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def tabulate_simple(rows: list[dict[str, Any]]) -> str:
    """tabulate(rows, headers="keys", tablefmt="simple", disable_numparse=True)."""
    headers: list[str] = []
    for row in rows:
        headers.extend(k for k in row if k not in headers)
    if not headers:
        return ""
    cells = [[_cell(row.get(h)) for h in headers] for row in rows]
    widths = [max([len(h) + 2] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    lines = [line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]
    return "\n".join(lines)


def format_table(result: Any, *, query_active: bool, transformer: TableTransformer | None = None) -> str:
    if transformer is not None and not query_active:
        result = transformer(result)
    items = result if isinstance(result, list) else [result]
    sort_keys = not query_active and transformer is None
    rows = [_table_row(item, sort_keys) for item in items]
    if not rows:
        return "\n"
    table = tabulate_simple(rows)
    if not table:
        raise CliError(TABLE_UNAVAILABLE)
    return table + "\n"


def _tsv_field(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return ""
    return value if isinstance(value, str) else str(value)


def _tsv_row(item: Any) -> str:
    if isinstance(item, OrderedDict):
        return "\t".join(_tsv_field(v) for v in item.values())
    if isinstance(item, dict):
        return "\t".join(_tsv_field(v) for _, v in sorted(item.items()))
    if isinstance(item, list):
        return "\t".join(_tsv_field(v) for v in item)
    if isinstance(item, bool):
        return str(item).lower()
    return _tsv_field(item)


def format_tsv(result: Any) -> str:
    items = result if isinstance(result, list) else [result]
    return "".join(_tsv_row(item) + "\n" for item in items)


def render(result: Any, fmt: str, query: ParsedResult | None = None,
           transformer: TableTransformer | None = None) -> str:
    """The text az prints for `result` (already a plain JSON value) in format `fmt`."""
    result = apply_query(result, query)
    if result is None or fmt == "none":
        return ""
    if fmt in ("json", "jsonc"):
        return format_json(result)
    if fmt == "table":
        return format_table(result, query_active=query is not None, transformer=transformer)
    if fmt == "tsv":
        return format_tsv(result)
    raise CliError(f"unknown output format '{fmt}'", exit_code=2)
