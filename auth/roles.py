"""Who may do what. One table, used by the CLI, the app, sanctions and evidence alike."""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.common.errors import RingscopeError

ROLES = ("viewer", "investigator", "approver", "admin")

# action -> roles allowed
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "view_unmasked": frozenset({"approver", "admin"}),
    "preview_sanction": frozenset({"investigator", "approver", "admin"}),
    "apply_sanction": frozenset({"investigator", "approver", "admin"}),
    # Permanent bans and propagation beyond one hop need a second person with this right.
    "approve_sanction": frozenset({"approver", "admin"}),
    "revoke_sanction": frozenset({"approver", "admin"}),
    # Record an appeal the account holder or its representative submitted (appeals/).
    "file_appeal": frozenset({"investigator", "approver", "admin"}),
    # Grant (revoke, with the cascade) or deny an appeal: someone who took no part in the decision appealed.
    "decide_appeal": frozenset({"approver", "admin"}),
    "export_masked": frozenset({"investigator", "approver", "admin"}),
    "export_unmasked": frozenset({"approver", "admin"}),
    # Place an account in the observation room, release it, resolve an escalated stay (watch/).
    "watch_account": frozenset({"investigator", "approver", "admin"}),
    "run_detection": frozenset({"investigator", "approver", "admin"}),
    # Apply the content-health index's bands as effects on every account (`ringscope health apply`, health/): a
    # platform-wide change of restrictions, so not an investigator's alone.
    "apply_health_effects": frozenset({"approver", "admin"}),
    # Load data into the graph from the platform's lake (the app's "Pull its neighbourhood").
    "load_data": frozenset({"investigator", "approver", "admin"}),
    "manage_users": frozenset({"admin"}),
    "edit_policy": frozenset({"admin"}),
    "raw_cypher": frozenset({"admin"}),
    # Vouch for audit entries the anchor file lacks (after a crash between commit and anchor).
    "anchor_audit": frozenset({"admin"}),
}


class NotAllowed(RingscopeError):
    """The actor's role does not allow the action."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (roles: {', '.join(ROLES)})")

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]

    def require(self, action: str) -> None:
        if not self.can(action):
            allowed = ", ".join(r for r in ROLES if r in PERMISSIONS[action])
            raise NotAllowed(f"{self.name} ({self.role}) may not {action.replace('_', ' ')}; "
                             f"roles that may: {allowed}")
