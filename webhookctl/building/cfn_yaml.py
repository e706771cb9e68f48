"""The template as YAML, byte for byte what cfn-flip writes (`to_yaml(json, clean_up=False)`), emitted by
libyaml through PyYAML's C bindings: about six times faster than cfn-flip's pure-Python emitter on the stack
(`make bench` prints the ratio).

cfn-flip's representation is kept exactly: short-form intrinsics (`!Ref`, `!GetAtt A.B`, `!Sub`), key order as
built, its quoting rules (account-id-like strings and strings starting with 0 single-quoted, multi-line ones
double-quoted, 200+ characters folded), and its block sequences indented under their key. Two emitter
differences are bridged: libyaml may write a tagged scalar plain where PyYAML's emitter (which cfn-flip
uses) quotes it, so tagged scalars ask for single quotes; and libyaml writes a sequence that is a mapping's
value "indentless" (at the key's column), so those are indented afterwards, line by line. Without libyaml,
PyYAML's own emitter writes the same bytes, and it is the one used for a template holding a long double-quoted
or non-ASCII string, since the two emitters break those across lines in different places.
tests/templates/test_cfn_yaml.py holds both to cfn-flip.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

TAG_STR = "tag:yaml.org,2002:str"
TAG_MAP = "tag:yaml.org,2002:map"
WIDTH = 200  # cfn-flip's CFN_MAX_COL_WIDTH default
MAX_QUOTED_LINES = 10
MIN_BREAKABLE = 40  # the shortest string that, deeply indented, can reach WIDTH
_TAG_ROOM = 12  # ": !GetAtt '" and the like, between a key and its text
ACCOUNT_ID = re.compile(r"^0[0-9]+$")
C_EMITTER = getattr(yaml, "__with_libyaml__", False)


class _Representation:
    """cfn-flip's representers (cfn_flip.yaml_dumper and cfn_tools.yaml_dumper), on any PyYAML dumper."""

    def represent_scalar(self, tag: str, value: str, style: str | None = None, otherwise: str | None = None) -> Any:
        if ACCOUNT_ID.match(value):
            style = "'"
        if style is None and any(eol in value for eol in "\n\r"):
            style = '"'
        return super().represent_scalar(tag, value, style or otherwise)  # type: ignore[misc]

    def represent_text(self, value: str) -> Any:
        if sum(1 for c in value if c in "\n\r") >= MAX_QUOTED_LINES:
            return self.represent_scalar(TAG_STR, value, "|")
        if len(value) >= WIDTH and "\n" not in value:
            return self.represent_scalar(TAG_STR, value, ">")
        if value.startswith("0"):
            return self.represent_scalar(TAG_STR, value, "'")
        return self.represent_scalar(TAG_STR, value)

    def represent_intrinsic(self, name: str, value: Any) -> Any:
        tag = f"!{name}"
        if tag == "!GetAtt" and isinstance(value, list):
            value = ".".join(value)
        if isinstance(value, list):
            return self.represent_sequence(tag, value)  # type: ignore[attr-defined]
        if isinstance(value, dict):
            return self.represent_mapping(tag, value)  # type: ignore[attr-defined]
        # PyYAML's emitter never writes a scalar with an explicit tag plain; libyaml would.
        return self.represent_scalar(tag, value, otherwise="'")

    def represent_map(self, value: dict) -> Any:
        if len(value) == 1:
            key = next(iter(value))
            if key in ("Ref", "Condition"):
                return self.represent_intrinsic(key, value[key])
            if key.startswith("Fn::"):
                return self.represent_intrinsic(key[4:], value[key])
        return self.represent_mapping(TAG_MAP, value, flow_style=False)  # type: ignore[attr-defined]


class _CDumper(_Representation, yaml.CDumper):
    pass


class _PythonDumper(_Representation, yaml.Dumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # cfn-flip's: block sequences are indented under their key ("  - item").
        return super().increase_indent(flow, False)


for _dumper in (_CDumper, _PythonDumper):
    _dumper.add_representer(dict, _Representation.represent_map)
    _dumper.add_representer(str, _Representation.represent_text)


def to_yaml(template: dict[str, Any]) -> str:
    """The template (plain dicts and lists, in reading order) as cfn-flip would write it."""
    dumper = _CDumper if C_EMITTER and not _has_text_breaking_differently(template) else _PythonDumper
    text = yaml.dump(template, Dumper=dumper, default_flow_style=False, allow_unicode=True, width=WIDTH,
                     sort_keys=False)
    return indent_sequences(text) if dumper is _CDumper else text


def _has_text_breaking_differently(value: Any, in_sequence: bool = False, indent: int = 0, start: int = 0) -> bool:
    """Whether VALUE holds a string that the two emitters would break across lines differently.

    The stack has none, so libyaml writes it; a user's long inline script takes PyYAML's own emitter.
    INDENT is the column of VALUE's block (two per level), START the column its text starts at on its line.
    """
    if isinstance(value, str):
        return len(value) >= MIN_BREAKABLE and _breaks_differently(value, in_sequence and start + len(value) >= WIDTH)
    if isinstance(value, dict):
        if isinstance(value.get("Fn::GetAtt"), list) and all(isinstance(p, str) for p in value["Fn::GetAtt"]):
            value = {"Fn::GetAtt": ".".join(value["Fn::GetAtt"])}  # written as one scalar
        return any(_has_text_breaking_differently(k) or _has_text_breaking_differently(
            v, in_sequence, indent + 2, indent + len(str(k)) + 2 + _TAG_ROOM) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_text_breaking_differently(item, True, indent + 2, indent + 2 + _TAG_ROOM) for item in value)
    return False


def _breaks_differently(text: str, may_fold_shifted: bool) -> bool:
    """Double-quoted strings (line breaks, edge spaces, unprintables) and non-ASCII ones (libyaml counts
    bytes towards the width, PyYAML characters) are broken at different places by the two emitters; so is
    text with spaces long enough to fold inside a sequence, which libyaml folds before indent_sequences
    shifts it right."""
    return (text != text.strip(" ") or not text.isprintable() or not text.isascii()
            or (may_fold_shifted and " " in text))


_ITEM_MARKERS = re.compile(r"^((?:- )*)")
_OPENS_VALUE = re.compile(r"(?::|: ![A-Za-z]+)$")


def indent_sequences(text: str) -> str:
    """libyaml's indentless sequences ("key:\\n- item") indented under their key ("key:\\n  - item").

    A sequence is indentless when its first item sits at the column of the mapping key it is the value of;
    each such open sequence shifts every line inside it by two more columns. (A sequence that is itself an
    item, "- - x" or "- !Sub\\n  - x", libyaml already indents.)
    """
    out: list[str] = []
    open_columns: list[int] = []
    previous = ""
    for line in text.split("\n"):
        content = line.lstrip(" ")
        column = len(line) - len(content)
        is_item = content.startswith("- ") or content == "-"
        while open_columns and (column < open_columns[-1] or (column == open_columns[-1] and not is_item)):
            open_columns.pop()
        starts = is_item and (not open_columns or open_columns[-1] != column) and _is_key_at(previous, column)
        if starts:
            open_columns.append(column)
        out.append(" " * (2 * len(open_columns)) + line if line else line)
        previous = line if line.strip() else previous
    return "\n".join(out)


def _is_key_at(line: str, column: int) -> bool:
    """Whether LINE is a mapping key at COLUMN whose value starts on the next line."""
    content = line.lstrip(" ")
    key_column = len(line) - len(content) + len(_ITEM_MARKERS.match(content).group(1))
    return key_column == column and _OPENS_VALUE.search(content.rstrip()) is not None
