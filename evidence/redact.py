"""Masking of personal data for every file of a pack (pure).

``auth.masking`` decides what a masked value looks like (``203.0.x.x``,
``ab1*************``). Masked alone, two addresses of one /16 would become the
same text and look like one shared address, so a pack numbers them:
``203.0.x.x #3`` is the third distinct IP of the pack, the same one in every
file. The numbering follows the sorted raw values, so the same data gives the
same pseudonyms.

Free text (reasons cite identifiers, comments may hold addresses and phone
numbers) is masked too: every known IP or phone hash is replaced by its
pseudonym wherever it occurs (also where a detector marked it, ``⟦IP:...⟧``,
in unmasked packs too: the marks never reach a reader), any other IPv4/IPv6
address by its masked form
and a mobile number written out by its first three digits
(``auth.masking.mask_free_text``, which also finds them next to Chinese text).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable

from ringscope.auth.masking import PERSONAL_KEYS, PERSONAL_MARK, mask_free_text, mask_ip, mask_text

IP_EVIDENCE_KINDS = frozenset({"ip", "login_ip", "registration_ip"})
PHONE_EVIDENCE_KINDS = frozenset({"phone", "phone_hash"})
PHONE_KEYS = frozenset({"phone_hash", "phone", "phone_number"})

_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{4,}")


class Redactor:
    """Masks identifiers and text consistently across a pack; a no-op when ``enabled`` is False."""

    def __init__(self, ips: Iterable[str] = (), phones: Iterable[str] = (), enabled: bool = True):
        self.enabled = enabled
        self._ips = {v: f"{mask_ip(v)} #{n}" for n, v in enumerate(sorted(set(ips)), start=1)}
        self._phones = {v: f"{mask_text(v)} #{n}" for n, v in enumerate(sorted(set(phones)), start=1)}
        self._shortest_phone = min((len(v) for v in self._phones), default=0)

    def ip(self, value: str) -> str:
        if not self.enabled:
            return value
        return self._ips.get(value) or mask_ip(value)

    def phone(self, value: str) -> str:
        if not self.enabled:
            return value
        return self._phones.get(value) or mask_text(value)

    def ident(self, label: str, value: str) -> str:
        """A node key shown to the reader (IP and Phone keys are personal data)."""
        if label == "IP":
            return self.ip(value)
        if label == "Phone":
            return self.phone(value)
        return value

    def text(self, value: str) -> str:
        if not value:
            return value
        if "⟦" in value:  # identifiers a detector marked in its reason: shown as the pack shows them
            value = PERSONAL_MARK.sub(lambda m: self.ident(m.group(1), m.group(2)), value)
        if not self.enabled:
            return value
        if (self._phones and len(value) >= self._shortest_phone
                and not self._phones.keys().isdisjoint(_TOKEN.findall(value))):
            value = _TOKEN.sub(lambda m: self._phones.get(m.group(0), m.group(0)), value)
        return mask_free_text(value, self._known_ip)

    def _known_ip(self, address: str) -> str:
        return self._ips.get(address) or mask_ip(address)

    def value(self, key: str | None, value: Any) -> Any:
        """A property value: personal keys are replaced whole, any other text is scanned."""
        if not self.enabled or value is None:
            return value
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(key, v) for v in value]
        if key in PERSONAL_KEYS:
            return self.phone(str(value)) if key in PHONE_KEYS else self.ip(str(value))
        if isinstance(value, str):
            return self.text(value)
        return value

    def props(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: self.value(k, v) for k, v in props.items()}

    def evidence(self, evidence: Any) -> Any:
        """A cluster's evidence (per reason, a list of {"kind", "ids"}) with personal ids masked."""
        if not self.enabled:
            return evidence
        if isinstance(evidence, list):
            return [self.evidence(e) for e in evidence]
        if isinstance(evidence, dict) and "ids" in evidence:
            kind = evidence.get("kind")
            ids = evidence.get("ids") or []
            if kind in IP_EVIDENCE_KINDS:
                masked = [self._ip_or_range(str(i)) for i in ids]
            elif kind in PHONE_EVIDENCE_KINDS:
                masked = [self.phone(str(i)) for i in ids]
            else:
                masked = [self.text(str(i)) for i in ids]
            return {**evidence, "ids": masked}
        return self.value(None, evidence)

    def _ip_or_range(self, value: str) -> str:
        if value in self._ips:
            return self._ips[value]
        masked = self.text(value)
        return masked if masked != value else mask_ip(value)


def personal_values(nodes: Iterable[tuple[str, str, dict[str, Any]]], evidence: Any) -> tuple[set[str], set[str]]:
    """The raw IPs and phone hashes a pack contains: node keys, personal properties, cited evidence."""
    ips: set[str] = set()
    phones: set[str] = set()
    for label, key, props in nodes:
        if label == "IP":
            ips.add(key)
        elif label == "Phone":
            phones.add(key)
        for name, value in props.items():
            if name in PERSONAL_KEYS and isinstance(value, str) and value:
                (phones if name in PHONE_KEYS else ips).add(value)

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict) and "ids" in item:
            kind = item.get("kind")
            for i in item.get("ids") or []:
                if kind in IP_EVIDENCE_KINDS and _is_ip(str(i)):
                    ips.add(str(i))
                elif kind in PHONE_EVIDENCE_KINDS:
                    phones.add(str(i))

    walk(evidence)
    return ips, phones


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False
