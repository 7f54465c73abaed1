"""Personal data (phone numbers and hashes, IP addresses) is masked unless a role allows it."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ringscope.auth.roles import Actor

# Properties that hold personal data, wherever they appear.
PERSONAL_KEYS = frozenset({"ip", "registration_ip", "phone_hash", "phone", "phone_number"})


def mask_ip(value: str) -> str:
    """203.0.113.9 -> 203.0.x.x; IPv6 keeps its /32 prefix. Anything else is masked whole."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return mask_text(value)
    if address.version == 4:
        a, b, _, _ = value.split(".")
        return f"{a}.{b}.x.x"
    groups = address.exploded.split(":")
    return ":".join(groups[:2]) + ":x:x:x:x:x:x"


def mask_text(value: str, keep: int = 3) -> str:
    """ab12cd34ef -> ab1*******; short values are masked whole."""
    if len(value) <= keep + 2:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - keep)


def mask_value(key: str, value: Any) -> Any:
    if value is None or key not in PERSONAL_KEYS:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(key, v) for v in value)
    text = str(value)
    return mask_ip(text) if "ip" in key else mask_text(text)


def mask_properties(props: dict[str, Any], actor: Actor | None = None) -> dict[str, Any]:
    """A copy of ``props`` with personal values masked, unless ``actor`` may view them unmasked."""
    if actor is not None and actor.can("view_unmasked"):
        return dict(props)
    return {k: mask_value(k, v) for k, v in props.items()}


def mask_identifier(label: str, value: str, actor: Actor | None = None) -> str:
    """An IP node's or Phone node's id shown to someone (the key itself is personal data)."""
    if actor is not None and actor.can("view_unmasked"):
        return value
    if label == "IP":
        return mask_ip(value)
    if label == "Phone":
        return mask_text(value)
    return value


# A personal identifier cited in a detector's reason (``detection.findings.personal``): ⟦IP:203.0.113.9⟧.
PERSONAL_MARK = re.compile(r"⟦(IP|Phone):([^⟧]*)⟧")
# Personal data written in free text: IPv4 addresses (also between Chinese characters: 加我192.168.1.7谢谢)
# and mainland mobile numbers (11 digits from 13x to 19x).
_IPV4_IN_TEXT = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.[0-9])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_free_text(text: str) -> str:
    """IPv4 addresses and mobile numbers inside free text masked (``203.0.x.x``, ``138********``). O(len)."""
    text = _IPV4_IN_TEXT.sub(lambda m: mask_ip(m.group(0)), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_text(m.group(0)), text)


def render_reason(text: str, actor: Actor | None = None) -> str:
    """A stored reason as ``actor`` may read it: marked identifiers shown (``view_unmasked``) or masked,
    and, for a masked reader, addresses and mobile numbers in the free text masked too. O(len)."""
    if actor is not None and actor.can("view_unmasked"):
        return PERSONAL_MARK.sub(lambda m: m.group(2), text)
    return mask_free_text(PERSONAL_MARK.sub(lambda m: mask_identifier(m.group(1), m.group(2)), text))
