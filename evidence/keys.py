"""Which key signs an evidence pack, and which keys a verifier trusts.

Signing (``ringscope evidence export``), the first that applies:

1. ``RINGSCOPE_EVIDENCE_SIGNING_KEY``: path of an Ed25519 private key, PEM
   (PKCS#8, unencrypted: ``openssl genpkey -algorithm ed25519 -out key.pem``);
2. ``RINGSCOPE_EVIDENCE_HMAC_KEY``: a shared secret, HMAC-SHA256 (anyone who
   can check such a signature can also make one: prefer Ed25519);
3. the installation's own Ed25519 key, ``keys/evidence-signing.pem`` in
   ``RINGSCOPE_HOME``, generated on first use (folder 0700, key 0600);
   ``ringscope evidence key`` prints its public half for publishing.

Trust (``ringscope evidence verify``): ``--key PUB.pem`` alone when given;
else ``RINGSCOPE_EVIDENCE_VERIFY_KEY`` (an Ed25519 public key, PEM), the
public half of ``RINGSCOPE_EVIDENCE_SIGNING_KEY`` and
``RINGSCOPE_EVIDENCE_HMAC_KEY``. The installation's own key is not trusted
implicitly: every installation has its own, so packs of colleagues would fail
for no reason, and a key that was never chosen says nothing about who signed.
With no trusted key, a signature is checked against the public key the pack
carries, and the verifier says so.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ringscope.common.errors import SettingError
from ringscope.common.paths import ringscope_home
from ringscope.evidence.manifest import (
    ED25519, HMAC_SHA256, Signer, ed25519_key_id, ed25519_signer, hmac_key_id, hmac_signer, raw_public,
)

HMAC_ENV = "RINGSCOPE_EVIDENCE_HMAC_KEY"
SIGNING_ENV = "RINGSCOPE_EVIDENCE_SIGNING_KEY"
VERIFY_ENV = "RINGSCOPE_EVIDENCE_VERIFY_KEY"
KEY_DIR = "keys"
PRIVATE_FILE = "evidence-signing.pem"
PUBLIC_FILE = "evidence-signing.pub.pem"
GENERATE_HINT = "make one with `openssl genpkey -algorithm ed25519 -out key.pem`"


def _read(what: str, path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SettingError(f"{what}={path}: cannot read the key file ({exc.strerror or exc})") from None


def load_private_key(path: Path, what: str = SIGNING_ENV):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(_read(what, path), password=None)
    except (ValueError, TypeError) as exc:
        raise SettingError(f"{what}={path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingError(f"{what}={path}: not an Ed25519 key ({GENERATE_HINT})")
    return key


def load_public_key(path: Path, what: str = VERIFY_ENV):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(_read(what, path))
    except (ValueError, TypeError) as exc:
        raise SettingError(f"{what}={path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SettingError(f"{what}={path}: not an Ed25519 public key")
    return key


def public_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- the installation's own key ------------------------------------------------------------------------------

def installation_key_path(env: Mapping[str, str] | None = None) -> Path:
    return ringscope_home(None if env is None else dict(env)) / KEY_DIR / PRIVATE_FILE


def installation_key(env: Mapping[str, str] | None = None):
    """The installation's Ed25519 private key, generated the first time (two processes racing create one key:
    each writes its own candidate and links it into place; the loser reads the winner's)."""
    path = installation_key_path(env)
    if not path.exists():
        _generate(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingError(f"{path}: the signing key is readable by others (mode {mode:o}); `chmod 600 {path}`")
    key = load_private_key(path, "the installation's signing key")
    public = path.with_name(PUBLIC_FILE)
    if not public.exists():
        _write_public(public, key.public_key())
    return key


def _generate(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        key = Ed25519PrivateKey.generate()
        candidate = folder / f".{PRIVATE_FILE}.{os.getpid()}.{os.urandom(4).hex()}"
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(candidate, path)  # atomic, and never replaces a key another process made first
            except FileExistsError:
                pass
        finally:
            candidate.unlink(missing_ok=True)
    except OSError as exc:
        raise SettingError(f"{path}: cannot create the installation's signing key ({exc.strerror or exc}); "
                           f"set RINGSCOPE_HOME to a writable folder or {SIGNING_ENV}") from None


def _write_public(path: Path, public_key) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_bytes(public_pem(public_key))
        os.chmod(temporary, 0o644)
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)  # only a convenience copy: `ringscope evidence key` prints it anyway


# --- signing ---------------------------------------------------------------------------------------------------

def signer_from_env(env: Mapping[str, str] | None = None) -> Signer:
    """The key exports are signed with: the environment's, else the installation's (made on first use)."""
    env = os.environ if env is None else env
    if env.get(SIGNING_ENV):
        return ed25519_signer(load_private_key(Path(env[SIGNING_ENV])))
    if env.get(HMAC_ENV):
        return hmac_signer(env[HMAC_ENV].encode("utf-8"))
    return ed25519_signer(installation_key(env))


@dataclass(frozen=True)
class PublishedKey:
    pem: bytes
    key_id: str
    source: str
    note: str | None  # e.g. exports are signed with HMAC instead


def publishable_key(env: Mapping[str, str] | None = None) -> PublishedKey:
    """The public key to publish: the one exports are signed with (``ringscope evidence key``)."""
    env = os.environ if env is None else env
    if env.get(SIGNING_ENV):
        public = load_private_key(Path(env[SIGNING_ENV])).public_key()
        source, note = f"{SIGNING_ENV}={env[SIGNING_ENV]}", None
    else:
        public = installation_key(env).public_key()
        source = str(installation_key_path(env))
        note = (f"{HMAC_ENV} is set, so exports are signed with HMAC-SHA256 and not with this key; unset it to "
                "sign with this key" if env.get(HMAC_ENV) else None)
    return PublishedKey(public_pem(public), ed25519_key_id(raw_public(public)), source, note)


# --- trust -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrustedKey:
    algorithm: str  # ED25519 | HMAC_SHA256
    key_id: str
    source: str  # where the verifier got it, for messages
    material: Any  # an Ed25519PublicKey, or the HMAC secret (bytes)

    def describe(self) -> str:
        return f"{'Ed25519' if self.algorithm == ED25519 else 'HMAC-SHA256'} key {self.key_id} ({self.source})"


@dataclass(frozen=True)
class TrustedKeys:
    keys: tuple[TrustedKey, ...] = ()

    def any(self) -> bool:
        return bool(self.keys)

    def of(self, algorithm: str) -> tuple[TrustedKey, ...]:
        return tuple(k for k in self.keys if k.algorithm == algorithm)

    def describe(self) -> str:
        return "; ".join(k.describe() for k in self.keys) or "none"


def ed25519_trusted(public_key, source: str) -> TrustedKey:
    return TrustedKey(ED25519, ed25519_key_id(raw_public(public_key)), source, public_key)


def trusted_keys(env: Mapping[str, str] | None = None, key_file: Path | None = None) -> TrustedKeys:
    """``--key PUB.pem`` alone when given; else what the environment configures (possibly nothing)."""
    if key_file is not None:
        return TrustedKeys((ed25519_trusted(load_public_key(Path(key_file), "--key"), f"--key {key_file}"),))
    env = os.environ if env is None else env
    keys: list[TrustedKey] = []
    if env.get(VERIFY_ENV):
        keys.append(ed25519_trusted(load_public_key(Path(env[VERIFY_ENV])), VERIFY_ENV))
    elif env.get(SIGNING_ENV):
        keys.append(ed25519_trusted(load_private_key(Path(env[SIGNING_ENV])).public_key(),
                                    f"the public half of {SIGNING_ENV}"))
    if env.get(HMAC_ENV):
        secret = env[HMAC_ENV].encode("utf-8")
        keys.append(TrustedKey(HMAC_SHA256, hmac_key_id(secret), HMAC_ENV, secret))
    return TrustedKeys(tuple(keys))


def own_keys(env: Mapping[str, str] | None = None) -> TrustedKeys:
    """What this installation signs with, as trusted keys: to check a pack it has just made (the app does)."""
    configured = trusted_keys(env)
    if configured.any():
        return configured
    return TrustedKeys((ed25519_trusted(installation_key(env).public_key(), "this installation's key"),))
