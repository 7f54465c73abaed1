"""Personal data (phone numbers and hashes, IP addresses) is masked unless a role allows it.

Properties that hold personal data (``PERSONAL_KEYS``) are masked whole. Free
text (comment texts, nicknames, reasons) is scanned: IPv4 and IPv6 addresses
and mainland mobile numbers (``1[3-9]`` and nine more digits, with an optional
``+86``, ASCII or full-width digits, spaces or dashes between the groups) are
masked where they occur, also right next to Chinese text (``加我192.168.1.7谢谢``:
only ASCII letters, digits and ``_`` count as part of a neighbouring word).
Detectors mark the identifiers their reasons cite (``⟦IP:203.0.113.9⟧``);
``render_reason`` shows them to a role that may see them and masks them, with
the rest of the text, for everyone else.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any, Callable

from ringscope.auth.roles import Actor

# Properties that hold personal data, wherever they appear.
PERSONAL_KEYS = frozenset({"ip", "registration_ip", "phone_hash", "phone", "phone_number"})
# A personal identifier cited in a detector's reason (``detection.findings.personal``): ⟦IP:203.0.113.9⟧.
PERSONAL_MARK = re.compile(r"⟦(IP|Phone):([^⟧]*)⟧")


def mask_ip(value: str) -> str:
    """203.0.113.9 -> 203.0.x.x; IPv6 keeps its /32 prefix; a network keeps its length (203.0.113.0/24 ->
    203.0.x.x/24). Anything else is masked whole."""
    address_text, slash, bits = str(value).partition("/")
    if slash and bits.isdigit():
        masked = mask_ip(address_text)
        return f"{masked}/{bits}" if masked != mask_text(address_text) else mask_text(value)
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


# --- personal data inside free text ------------------------------------------------------------------------

_WORD = "0-9A-Za-z_"  # what may not touch an address; Chinese characters may
IPV4_IN_TEXT = re.compile(rf"(?<![{_WORD}.])(\d{{1,3}}(?:\.\d{{1,3}}){{3}})(/\d{{1,2}})?(?![{_WORD}]|\.\d)", re.ASCII)
IPV6_IN_TEXT = re.compile(rf"(?<![{_WORD}:.])([0-9A-Fa-f]{{0,4}}(?::[0-9A-Fa-f]{{0,4}}){{2,7}})(/\d{{1,3}})?(?![{_WORD}:])")
_D = "[0-9\uff10-\uff19]"  # ASCII and full-width digits
MOBILE_IN_TEXT = re.compile(rf"(?<!{_D})(?:(?:\+|\uff0b)?(?:86|\uff18\uff16)[- ]?)?[1\uff11][3-9\uff13-\uff19]{_D}"
                            rf"(?:[- ]?{_D}{{4}}){{2}}(?!{_D})")


def mask_mobile(value: str) -> str:
    """A phone number in text: its first three digits (the carrier's segment, not personal) and stars."""
    digits = [c for c in value if c.isdigit()]
    if len(digits) > 11:  # +86 in front
        digits = digits[-11:]
    return "".join(digits[:3]) + "*" * 8


def mask_free_text(text: str, ip: Callable[[str], str] | None = None) -> str:
    """``text`` with every IP address (through ``ip``, default ``mask_ip``) and mobile number masked."""
    if not text:
        return text
    ip = ip or mask_ip
    if text.count(".") >= 3:
        text = IPV4_IN_TEXT.sub(lambda m: _address(m, ip, ipaddress.IPv4Address), text)
    if text.count(":") >= 2:
        text = IPV6_IN_TEXT.sub(lambda m: _address(m, ip, ipaddress.IPv6Address), text)
    return MOBILE_IN_TEXT.sub(lambda m: mask_mobile(m.group(0)), text)


def _address(match: re.Match, ip: Callable[[str], str], kind) -> str:
    address, prefix = match.group(1), match.group(2) or ""
    try:
        kind(address)
    except ValueError:
        return match.group(0)
    return (mask_ip(address) if prefix else ip(address)) + prefix


def mask_value(key: str, value: Any) -> Any:
    """A property's value for someone who sees masked data: personal keys whole, other text scanned."""
    if value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(key, v) for v in value)
    if key in PERSONAL_KEYS:
        text = str(value)
        return mask_ip(text) if "ip" in key else mask_text(text)
    return masked_reading(value) if isinstance(value, str) else value


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




# A run's reasons repeat: every member of a cluster carries its cluster's (1.2 M reasons of 42 k texts among the
# 72 k accounts flagged at 1 M; masking each took 30 s of `ringscope flagged`'s 35). The text alone decides
# what is shown, so each distinct text is masked once.
@functools.lru_cache(maxsize=1 << 16)
def masked_reading(text: str) -> str:
    """Stored text as a reader of masked data sees it: marked identifiers and free text masked. O(len), once
    per distinct text while it stays among the last 65,536."""
    return mask_free_text(PERSONAL_MARK.sub(lambda m: mask_identifier(m.group(1), m.group(2)), text))


def render_reason(text: str, actor: Actor | None = None) -> str:
    """A stored reason as ``actor`` may read it: marked identifiers shown (``view_unmasked``) or masked,
    and, for a masked reader, addresses and mobile numbers in the free text masked too. O(len)."""
    if actor is not None and actor.can("view_unmasked"):
        return unmarked_reading(text)
    return masked_reading(text)


@functools.lru_cache(maxsize=1 << 16)
def unmarked_reading(text: str) -> str:
    """Stored text as a reader of unmasked data sees it: the identifiers' marks taken away. O(len), once per
    distinct text while it stays among the last 65,536."""
    return PERSONAL_MARK.sub(lambda m: m.group(2), text)
