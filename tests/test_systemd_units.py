"""The unit files in systemd/: required directives, a comment above each one, and their security score.

The score comes from ``systemd-analyze security --offline=yes`` (systemd >= 250). It runs against a
copy of the units under a private ``--root``, because with a plain path offline mode still merges
drop-ins from the host's /etc/systemd/system (found by trying it with systemd 252), which would make
the score depend on the machine. Where systemd-analyze is absent those tests skip; CI installs
Debian's ``systemd`` package so they run there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "systemd"
SERVICES = ["news-monitor.service", "news-monitor-once.service"]
MAX_EXPOSURE = 1.5
EXE = "/opt/news-monitor/bin/news-monitor"  # a venv: see the ExecStart= comment
CONFIG = "/etc/news-monitor/monitor.toml"

Directive = tuple[str, str, str]  # (section, key, value)

HARDENING = [
    "DynamicUser",
    "User",
    "Group",
    "StateDirectory",
    "StateDirectoryMode",
    "UMask",
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "DevicePolicy",
    "PrivateMounts",
    "PrivateIPC",
    "PrivateUsers",
    "NoNewPrivileges",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "ProtectProc",
    "ProcSubset",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "RestrictNamespaces",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "RemoveIPC",
    "SystemCallArchitectures",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "RestrictAddressFamilies",
    "IPAddressDeny",
]

REQUIRED: dict[str, list[Directive]] = {
    "news-monitor.service": [
        ("Service", "Type", "notify"),
        ("Service", "ExecStart", f"{EXE} run --config {CONFIG}"),
        ("Service", "EnvironmentFile", "-/etc/news-monitor/secrets.env"),
        ("Service", "WatchdogSec", "60s"),
        ("Service", "Restart", "on-failure"),
        ("Service", "KillSignal", "SIGTERM"),
        ("Service", "TimeoutStopSec", "45s"),
        ("Install", "WantedBy", "multi-user.target"),
    ],
    "news-monitor-once.service": [
        ("Service", "Type", "oneshot"),
        ("Service", "ExecStart", f"{EXE} once --config {CONFIG}"),
        ("Service", "EnvironmentFile", "-/etc/news-monitor/secrets.env"),
        ("Unit", "Conflicts", "news-monitor.service"),
    ],
    "news-monitor.timer": [
        ("Timer", "Unit", "news-monitor-once.service"),
        ("Timer", "OnUnitInactiveSec", "5min"),
        ("Install", "WantedBy", "timers.target"),
    ],
}

SERVICE_HARDENING: list[Directive] = [
    ("Service", "DynamicUser", "yes"),
    ("Service", "StateDirectory", "news-monitor"),
    ("Service", "UMask", "0077"),
    ("Service", "ProtectSystem", "strict"),
    ("Service", "ProtectHome", "yes"),
    ("Service", "PrivateTmp", "yes"),
    ("Service", "PrivateDevices", "yes"),
    ("Service", "DevicePolicy", "closed"),
    ("Service", "NoNewPrivileges", "yes"),
    ("Service", "CapabilityBoundingSet", ""),
    ("Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ("Service", "SystemCallFilter", "@system-service"),
    ("Service", "SystemCallArchitectures", "native"),
    ("Service", "ProtectKernelTunables", "yes"),
    ("Service", "ProtectKernelModules", "yes"),
    ("Service", "ProtectKernelLogs", "yes"),
    ("Service", "ProtectControlGroups", "yes"),
    ("Service", "ProtectClock", "yes"),
    ("Service", "ProtectHostname", "yes"),
    ("Service", "ProtectProc", "invisible"),
    ("Service", "ProcSubset", "pid"),
    ("Service", "LockPersonality", "yes"),
    ("Service", "MemoryDenyWriteExecute", "yes"),
    ("Service", "RestrictNamespaces", "yes"),
    ("Service", "RestrictRealtime", "yes"),
    ("Service", "RestrictSUIDSGID", "yes"),
    ("Service", "RemoveIPC", "yes"),
]


def parse(path: Path) -> list[tuple[int, Directive]]:
    """(line number, directive) for every ``Key=value`` line, in order; sections are tracked."""
    section, found = "", []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{path.name}:{number}: continuation lines are not supported here"
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep and section, f"{path.name}:{number}: not a directive inside a section: {raw!r}"
        found.append((number, (section, key.strip(), value.strip())))
    return found


def directives(name: str) -> list[Directive]:
    return [d for _, d in parse(UNITS / name)]


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_directive_has_a_comment_line_right_above_it(name: str) -> None:
    lines = (UNITS / name).read_text().splitlines()
    bare = [f"{name}:{n}: {lines[n - 1]}" for n, _ in parse(UNITS / name) if not lines[n - 2].startswith("#")]
    assert bare == []


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_directives_are_present(name: str) -> None:
    wanted = REQUIRED[name] + (SERVICE_HARDENING if name.endswith(".service") else [])
    missing = [d for d in wanted if d not in directives(name)]
    assert missing == []


def test_both_services_are_hardened_identically() -> None:
    def hardening(name: str) -> list[Directive]:
        return [d for d in directives(name) if d[1] in HARDENING]

    assert hardening("news-monitor.service") == hardening("news-monitor-once.service")
    assert {key for _, key, _ in hardening("news-monitor.service")} == set(HARDENING)


# Bounds from the soak's measurements (docs/systemd.md "Resource limits" says why these values).
LIMITS: list[Directive] = [
    ("Service", "MemoryMax", "1G"),
    ("Service", "OOMPolicy", "continue"),
    ("Service", "TasksMax", "64"),
]


@pytest.mark.parametrize("name", SERVICES)
def test_both_services_bound_memory_and_tasks(name: str) -> None:
    assert [d for d in directives(name) if d[1] in {k for _, k, _ in LIMITS}] == LIMITS


def test_the_limits_are_explained_in_the_docs() -> None:
    doc = (ROOT / "docs" / "systemd.md").read_text(encoding="utf-8")
    for _, key, value in LIMITS:
        assert f"{key}={value}" in doc, f"docs/systemd.md does not explain {key}={value}"


def test_the_timer_and_the_daemon_exclude_each_other() -> None:
    conflicts = " ".join(v for s, k, v in directives("news-monitor.service") if k == "Conflicts")
    assert {"news-monitor.timer", "news-monitor-once.service"} <= set(conflicts.split())


needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package `systemd`); CI installs it",
)


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "", "LC_ALL": "C.UTF-8"}
    return subprocess.run(["systemd-analyze", "--no-pager", *args], capture_output=True, text=True, env=env, timeout=60)


def private_root(tmp_path: Path) -> Path:
    """A --root holding only our units, so no drop-in on this machine can change the result."""
    system = tmp_path / "etc" / "systemd" / "system"
    system.mkdir(parents=True)
    for unit in REQUIRED:
        shutil.copy(UNITS / unit, system / unit)
    return tmp_path


@needs_analyze
@pytest.mark.parametrize("name", SERVICES)
def test_exposure_score_is_at_most_the_target(name: str, tmp_path: Path) -> None:
    result = analyze("security", "--offline=yes", f"--root={private_root(tmp_path)}", name)
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr, result.stderr
    match = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) <= MAX_EXPOSURE, result.stdout


@needs_analyze
def test_systemd_accepts_every_line(tmp_path: Path) -> None:
    """verify reports unknown keys and bad values; the missing /opt venv is the only allowed complaint."""
    paths = [str(p) for p in sorted(private_root(tmp_path).glob("etc/systemd/system/*"))]
    result = analyze("verify", "--man=no", *paths)
    complaints = [
        line for line in (result.stdout + result.stderr).splitlines() if f"Command {EXE} is not executable" not in line
    ]
    assert complaints == []


@needs_analyze
def test_ci_script_prints_each_score(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "systemd-check.sh")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in SERVICES:
        assert re.search(rf"^{re.escape(name)}: exposure \d+\.\d+ ", result.stdout, re.M), result.stdout
