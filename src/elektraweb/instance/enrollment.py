"""Enrollment: elektrad registers itself with clusterd, as `kubeadm join` does (docs/deploy.md §4).

With a one-time token from an admin, elektrad sends its name, endpoint and public key to
clusterd's `POST /api/enroll` and receives clusterd's public key, which it pins in its state
directory (`clusterd.key`, mode 0600) and allows from then on. A pinned key means the host is
enrolled: a restart uses it and never spends a token again.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from elektraweb.wire.keys import load_public_key, write_public_key

PINNED_KEY_FILE = "clusterd.key"
TIMEOUT_SECONDS = 30.0


class EnrollmentError(Exception):
    """Enrolling failed; the message says why (clusterd's own words where it answered)."""


@dataclass(frozen=True)
class Enrollment:
    """What elektrad tells clusterd about itself, and where clusterd is."""

    url: str
    """clusterd's base URL, e.g. ``https://config.example.org``."""
    token: str
    name: str
    endpoint: str
    """Where clusterd reaches this daemon: ``tcp://HOST:PORT``."""
    public_key: str
    expected_clusterd_key: str | None = None
    """The key the operator pinned beforehand (``--clusterd-key``); else the first answer is
    trusted (docs/security.md §10)."""


def pinned_key_path(state_dir: Path) -> Path:
    return state_dir / PINNED_KEY_FILE


def pinned_clusterd_key(state_dir: Path) -> str | None:
    """The clusterd key pinned by an earlier enrollment, or None if this host never enrolled."""
    path = pinned_key_path(state_dir)
    if not path.exists():
        return None
    try:
        return load_public_key(path)
    except ValueError as error:
        raise EnrollmentError(f"{path}: {error}") from None


def advertised_endpoint(listen: str) -> str:
    """The endpoint to give clusterd for the one elektrad listens on: every interface (``*``,
    ``0.0.0.0``, ``[::]``) becomes this host's name."""
    host, _, port = listen.removeprefix("tcp://").rpartition(":")
    if port == "0":
        raise EnrollmentError(
            f"--listen {listen} has no fixed port for clusterd to reach: give one, or --advertise"
        )
    if host in ("*", "0.0.0.0", "[::]"):
        host = socket.getfqdn()
    return f"tcp://{host}:{port}"


def enroll(enrollment: Enrollment, state_dir: Path, report: Callable[[str], None]) -> str:
    """Enroll once and pin clusterd's key; the pinned key if this host is already enrolled.
    `report` hears one line on how it went."""
    pinned = pinned_clusterd_key(state_dir)
    if pinned is not None:
        _check_expected(enrollment, pinned, f"the key pinned in {pinned_key_path(state_dir)}")
        report(f"enrolled before: allowing clusterd's key {pinned}")
        return pinned
    answer = _post(enrollment)
    clusterd_key = answer.get("clusterd_key")
    if not isinstance(clusterd_key, str):
        raise EnrollmentError(f"{enrollment.url} answered without clusterd's public key")
    _check_expected(enrollment, clusterd_key, f"the key {enrollment.url} answered with")
    try:
        write_public_key(pinned_key_path(state_dir), clusterd_key)
    except ValueError as error:
        raise EnrollmentError(f"{enrollment.url} answered with an unusable key: {error}") from None
    waits = " until an admin accepts it" if answer.get("state") == "pending" else ""
    report(
        f"enrolled at {enrollment.url} as instance {answer.get('instance')}, "
        f"{answer.get('state')}{waits}; clusterd's key {clusterd_key} pinned"
    )
    return clusterd_key


def _check_expected(enrollment: Enrollment, key: str, what: str) -> None:
    expected = enrollment.expected_clusterd_key
    if expected is not None and expected != key:
        raise EnrollmentError(
            f"--clusterd-key {expected} does not match {what}, {key}: refusing to trust it"
        )


def _post(enrollment: Enrollment) -> dict[str, object]:
    if not enrollment.url.startswith(("http://", "https://")):
        raise EnrollmentError(f"--enroll {enrollment.url!r} must be an http:// or https:// URL")
    body = {
        "token": enrollment.token,
        "name": enrollment.name,
        "endpoint": enrollment.endpoint,
        "public_key": enrollment.public_key,
    }
    request = urllib.request.Request(
        enrollment.url.rstrip("/") + "/api/enroll",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Requested-With": "elektrad"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise EnrollmentError(f"clusterd refused: {_message(error)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise EnrollmentError(f"cannot reach {enrollment.url}: {reason}") from None
    except ValueError:
        raise EnrollmentError(f"{enrollment.url} did not answer with JSON") from None
    if not isinstance(answer, dict):
        raise EnrollmentError(f"{enrollment.url} did not answer with a JSON object")
    return answer


def _message(error: urllib.error.HTTPError) -> str:
    """clusterd's error message, from its ``{"error": {"message"}}`` body where there is one."""
    try:
        problem = json.loads(error.read())["error"]
        return f"{problem['message']} ({problem.get('code') or error.code})"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {error.code} {error.reason}"
