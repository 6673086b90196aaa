"""Mounts from the browser: an admin mounts a file inside the instance's --mount-dir and
unmounts it; a file outside is refused with the instance's reason; a viewer only looks."""

from __future__ import annotations

from playwright.sync_api import expect

from .stack import Stack
from .ui import WebUI


def test_an_admin_mounts_and_unmounts_inside_the_mount_dir(ui: WebUI, stack: Stack) -> None:
    page, db1 = ui.page, stack.instances["db-1"]
    ui.open_instance("db-1")
    page.get_by_role("button", name="Mounts").click()
    dialog = page.get_by_role("dialog", name="Mounts")
    expect(dialog.get_by_role("table", name="Mounts")).to_be_visible()

    dialog.get_by_label("Mountpoint").fill("system:/ui-mounted")
    dialog.get_by_label("Path").fill(str(db1.root.parent / "outside.ini"))
    dialog.get_by_role("button", name="Mount", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("outside the directories")
    assert "system:/ui-mounted" not in db1.kdb("mount").stdout

    (db1.mount_dir / "ui.ini").write_text("[greeting]\ntext = hello\n")
    dialog.get_by_label("Path").fill(str(db1.mount_dir / "ui.ini"))
    dialog.get_by_label("Format").select_option("ini")
    dialog.get_by_role("button", name="Mount", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("Mounted")
    row = dialog.locator("tr[data-mountpoint='system:/ui-mounted']")
    expect(row).to_contain_text(str(db1.mount_dir.resolve() / "ui.ini"))
    assert "system:/ui-mounted" in db1.kdb("mount").stdout
    expect(ui.row("system:/ui-mounted")).to_have_count(1)  # the tree shows the new keys
    ui.screenshot("mounts")

    row.get_by_role("button", name="Unmount").click()
    expect(row).to_have_count(0)
    expect(ui.row("system:/ui-mounted")).to_have_count(0)
    assert "system:/ui-mounted" not in db1.kdb("mount").stdout


def test_a_viewer_sees_mounts_without_the_controls(viewer_ui: WebUI, stack: Stack) -> None:
    page, web2 = viewer_ui.page, stack.instances["web-2"]
    web2.kdb("mount", str(web2.mount_dir / "seen.ini"), "system:/seen", "ini")
    try:
        viewer_ui.open_instance("web-2")
        page.get_by_role("button", name="Mounts").click()
        dialog = page.get_by_role("dialog", name="Mounts")
        expect(dialog.locator("tr[data-mountpoint='system:/seen']")).to_be_visible()
        expect(dialog.get_by_role("button", name="Unmount")).to_have_count(0)
        expect(dialog.get_by_role("button", name="Mount", exact=True)).to_have_count(0)
    finally:
        web2.kdb("umount", "system:/seen")
