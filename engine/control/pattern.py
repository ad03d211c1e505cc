"""OSC address patterns → regular expressions: `?`, `*`, `[abc]`, `[a-z]`, `[!abc]`, `{one,two}` (OSC 1.0) and
`//`, which matches across any number of containers (OSC 1.1). python-osc's matcher lacks `//`.
"""

from __future__ import annotations

import re
from functools import lru_cache

WILDCARDS = frozenset("*?[]{}")


def is_pattern(address: str) -> bool:
    return "//" in address or any(c in WILDCARDS for c in address)


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    close = pattern.find("]", i + 1)
    if close < 0:
        raise ValueError("unclosed [")
    body = pattern[i + 1 : close]
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    if not body:
        raise ValueError("empty []")
    chars = "".join("\\" + c if c in "\\^[]" else c for c in body)
    if chars.endswith("-"):
        chars = chars[:-1] + "\\-"
    if chars.startswith("-"):
        chars = "\\" + chars
    return f"[{'^' if negate else ''}{chars}{'/' if negate else ''}]", close + 1


def _braces(pattern: str, i: int) -> tuple[str, int]:
    close = pattern.find("}", i + 1)
    if close < 0:
        raise ValueError("unclosed {")
    options = pattern[i + 1 : close].split(",")
    return "(?:" + "|".join(re.escape(o) for o in options) + ")", close + 1


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """A regex matching the addresses the pattern selects, or None when the pattern is malformed."""
    out = ["^"]
    i = 0
    try:
        while i < len(pattern):
            c = pattern[i]
            if pattern.startswith("//", i):
                out.append("/(?:[^/]+/)*")
                i += 2
            elif c == "*":
                out.append("[^/]*")
                i += 1
            elif c == "?":
                out.append("[^/]")
                i += 1
            elif c == "[":
                part, i = _bracket(pattern, i)
                out.append(part)
            elif c == "{":
                part, i = _braces(pattern, i)
                out.append(part)
            elif c in "]}":
                raise ValueError(f"stray {c}")
            else:
                out.append(re.escape(c))
                i += 1
        out.append("$")
        return re.compile("".join(out))
    except (ValueError, re.error):
        return None
