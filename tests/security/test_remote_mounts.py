"""Issue 8 item 1: mounting from afar is an admin's audited operation, and elektrad only mounts
files that really lie inside its `--mount-dir` directories (symlinks, `..` and `$HOME`
resolved first). Every attack runs through real daemons."""

from __future__ import annotations

from pathlib import Path

from support.processes import Elektrad

from .stack import SECRET_TEXT, Stack


async def test_only_admins_mount_and_every_mount_is_audited(stack: Stack) -> None:
    mounts = f"/api/instances/{stack.instance}/mounts"
    wanted = {"mountpoint": "system:/shop", "path": str(stack.allowed / "shop.ini")}
    for api in (stack.editor, stack.viewer):
        status, answer = await api("POST", mounts, wanted)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    assert await stack.mounts() == []

    status, answer = await stack.admin("POST", mounts, wanted)
    assert status == 200, answer
    assert answer["files"] == [str((stack.allowed / "shop.ini").resolve())]
    [listed] = await stack.mounts()
    assert listed["mountpoint"] == "system:/shop" and listed["managed"] is True
    # Editors now edit the mounted file through ordinary keys.
    port = f"/api/instances/{stack.instance}/kdb/system:/shop/port"
    status, answer = await stack.editor("PUT", port, "80")
    assert status == 200, answer
    assert "port = 80" in (stack.allowed / "shop.ini").read_text()

    status, answer = await stack.editor("DELETE", f"{mounts}/system:/shop")
    assert status == 403
    status, answer = await stack.admin("DELETE", f"{mounts}/system:/shop")
    assert status == 200, answer
    assert await stack.mounts() == []
    assert "port = 80" in (stack.allowed / "shop.ini").read_text()  # the file stays

    status, log = await stack.admin("GET", f"/api/audit?instance={stack.instance}")
    entries = [
        (e["action"], e["key"], e["result"]["outcome"]) for e in log if "mount" in e["action"]
    ]
    assert entries == [("umount", "system:/shop", "applied"), ("mount", "system:/shop", "applied")]


async def test_files_outside_the_mount_dir_are_refused_however_named(
    stack: Stack, tmp_path: Path
) -> None:
    (stack.allowed / "passwd.ini").symlink_to(stack.secret)
    (stack.allowed / "etc").symlink_to(stack.secret.parent)
    mounts = f"/api/instances/{stack.instance}/mounts"
    escapes = {
        "system:/a": str(stack.secret),  # plainly outside
        "system:/b": str(stack.allowed / ".." / stack.secret.name),  # `..`
        "system:/c": str(stack.allowed / "passwd.ini"),  # a symlink to the file
        "system:/d": str(stack.allowed / "etc" / "new.ini"),  # a symlinked directory
        "system:/e": "stolen.ini",  # relative: below the host's /etc/kdb
        "user:/f": str(stack.allowed / "f.ini"),  # user: absolute paths lie below $HOME
        "/g": str(stack.allowed / "g.ini"),  # cascading: user: and dir: files too
    }
    for mountpoint, path in escapes.items():
        wanted = {"mountpoint": mountpoint, "path": path}
        status, answer = await stack.admin("POST", mounts, wanted)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), (mountpoint, answer)
        assert path in answer["error"]["message"] and "outside" in answer["error"]["message"]
    assert await stack.mounts() == []
    assert stack.secret.read_text() == SECRET_TEXT
    assert not (tmp_path / "new.ini").exists()
    status, log = await stack.admin("GET", f"/api/audit?instance={stack.instance}")
    refused = [e for e in log if e["action"] == "mount" and e["result"]["outcome"] == "refused"]
    assert len(refused) == len(escapes)


async def test_user_mounts_resolve_below_home_before_the_check(stack: Stack) -> None:
    """A `user:` mount of `/x.ini` means `$HOME/x.ini`: allowed when $HOME is."""
    base = stack.host.base.parent / "web-2"
    home_dir = base / "home" / "mountable"  # Elektrad's $HOME is base/home
    home_dir.mkdir(parents=True)
    host = Elektrad(base, stack.clusterd.public_key, "web-2", mount_dirs=[home_dir])
    try:
        await host.start()
        mounts = f"/api/instances/{await stack.register(host)}/mounts"
        status, answer = await stack.admin(
            "POST", mounts, {"mountpoint": "user:/app", "path": "/mountable/app.ini"}
        )
        assert status == 200, answer
        assert answer["files"] == [str((home_dir / "app.ini").resolve())]
    finally:
        await host.stop()


async def test_operator_mounts_stay_and_no_mount_dir_means_no_remote_mounts(
    stack: Stack,
) -> None:
    await stack.host.kdb("mount", str(stack.secret), "system:/secret", "ini")
    mounts = f"/api/instances/{stack.instance}/mounts"
    status, answer = await stack.admin("DELETE", f"{mounts}/system:/secret")
    assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    assert "kdb umount" in answer["error"]["message"]
    assert [m["mountpoint"] for m in await stack.mounts()] == ["system:/secret"]

    bare = Elektrad(stack.host.base.parent / "bare", stack.clusterd.public_key, "bare")
    try:
        await bare.start()
        instance = await stack.register(bare)
        (bare.home / "x.ini").write_text("")
        status, answer = await stack.admin("POST", f"/api/instances/{instance}/mounts", {
            "mountpoint": "system:/x", "path": str(bare.home / "x.ini"),
        })  # fmt: skip
        assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
        assert "--mount-dir" in answer["error"]["message"]
        assert "system:/x" not in await bare.kdb("mount")
    finally:
        await bare.stop()


async def test_bad_mount_requests_are_refused_naming_the_problem(stack: Stack) -> None:
    (stack.allowed / "folder").mkdir()
    mounts = f"/api/instances/{stack.instance}/mounts"
    inside = stack.allowed
    refusals = [
        ({"mountpoint": "system:/a", "path": f"{inside}/folder", "format": "ini"}, 400, "a dir"),
        ({"mountpoint": "system:/a", "path": f"{inside}/{'n' * 300}.ini"}, 400, "name too long"),
        ({"mountpoint": "system:/a", "path": f"{inside}/a.conf"}, 400, "'format'"),
        ({"mountpoint": "system:/a", "path": f"{inside}/a", "format": "xml"}, 400, "'format'"),
        ({"mountpoint": "system:/a b\\", "path": f"{inside}/a.ini"}, 400, "system:/a b"),
        ({"mountpoint": "user:/elektra/x", "path": f"{inside}/a.ini"}, 403, "protected"),
        ({"mountpoint": "system:/elektra/y", "path": f"{inside}/a.ini"}, 403, "protected"),
    ]
    for body, status_wanted, named in refusals:
        status, answer = await stack.admin("POST", mounts, body)
        assert status == status_wanted and named in answer["error"]["message"], (body, answer)
    assert await stack.mounts() == []
    assert sorted(path.name for path in stack.allowed.iterdir()) == ["folder"]  # nothing made
