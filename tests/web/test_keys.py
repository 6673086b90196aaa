"""Creating, renaming, duplicating and deleting keys, undo and redo, and the metadata editor."""

from __future__ import annotations

from playwright.sync_api import expect

from .stack import Instance, Stack
from .ui import WebUI


def _gone(instance: Instance, key: str) -> bool:
    return instance.kdb("get", key, check=False).returncode != 0


def test_delete_offers_undo_and_undo_brings_the_key_back(ui: WebUI, web1: Instance) -> None:
    key = "system:/demo/features/new_checkout"
    before = web1.kdb("get", key).stdout
    ui.open_instance("web-1")
    ui.reveal(key)
    ui.page.get_by_role("button", name="Delete").click()
    ui.apply_previewed()
    assert key in ui.last_preview and "removed" in ui.last_preview
    expect(ui.row(key)).to_have_count(0)
    assert _gone(web1, key)
    notice = ui.page.locator(".notice", has_text=f"Deleted {key}")
    notice.get_by_role("button", name="Undo").click()
    expect(ui.row(key)).to_be_visible()
    assert web1.kdb("get", key).stdout == before


def test_create_rename_duplicate_and_undo_redo(ui: WebUI, web1: Instance) -> None:
    page = ui.page
    ui.open_instance("web-1")
    ui.reveal("system:/demo/features/dark_mode")
    ui.row("system:/demo/features").click()
    page.get_by_role("button", name="+ New key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("beta_users")
    dialog.get_by_label("Type").select_option("unsigned_short")
    dialog.get_by_label("Range").fill("0-500")
    dialog.get_by_label("Value").fill("900")
    expect(dialog.locator(".field-error")).to_have_text("900 is not within the range 0-500")
    dialog.get_by_label("Value").fill("50")
    dialog.get_by_label("Description").fill("Users who see beta features")
    dialog.get_by_role("button", name="Create key").click()
    created = "system:/demo/features/beta_users"
    expect(page.locator("#key-title")).to_have_text(created)
    expect(page.locator(".description")).to_have_text("Users who see beta features")
    assert web1.kdb("get", created).stdout.strip() == "50"
    assert web1.kdb("meta-get", created, "check/range").stdout.strip() == "0-500"

    page.get_by_role("button", name="Rename / move").click()
    page.get_by_role("dialog").get_by_label("New name").fill("system:/demo/features/beta_quota")
    page.get_by_role("dialog").get_by_role("button", name="Move").click()
    ui.apply_previewed()
    expect(page.locator("#key-title")).to_have_text("system:/demo/features/beta_quota")
    assert _gone(web1, created)

    page.get_by_role("button", name="Duplicate / copy").click()
    page.get_by_role("dialog").get_by_role("button", name="Copy").click()
    ui.apply_previewed()
    expect(page.locator("#key-title")).to_have_text("system:/demo/features/beta_quota_copy")
    assert web1.kdb("get", "system:/demo/features/beta_quota_copy").stdout.strip() == "50"

    page.get_by_role("button", name="↶ Undo").click()  # the copy
    expect(ui.row("system:/demo/features/beta_quota_copy")).to_have_count(0)
    page.get_by_role("button", name="↶ Undo").click()  # the rename
    expect(ui.row(created)).to_be_visible()
    assert _gone(web1, "system:/demo/features/beta_quota")
    page.get_by_role("button", name="↷ Redo").click()
    expect(ui.row("system:/demo/features/beta_quota")).to_be_visible()
    assert web1.kdb("get", "system:/demo/features/beta_quota").stdout.strip() == "50"


def test_metadata_editor_changes_metakeys(ui: WebUI, web1: Instance) -> None:
    # A key no spec describes: metadata from spec is edited in spec (see below).
    key = "system:/demo/features/upload_note"
    web1.kdb("set", key, "uploads above the limit are refused")
    ui.open_instance("web-1")
    ui.reveal(key)
    page = ui.page
    page.locator(".metadata summary").click()
    page.get_by_label("Description").fill("Largest upload in MiB")
    page.get_by_label("Visibility").select_option("advanced")
    page.get_by_role("button", name="+ Add metakey").click()
    page.get_by_label("Metakey name").last.fill("owner")
    page.get_by_label("Value of").last.fill("team-shop")
    page.get_by_role("button", name="Save metadata").click()
    expect(page.locator(".description")).to_have_text("Largest upload in MiB")
    assert web1.kdb("meta-get", key, "owner").stdout.strip() == "team-shop"
    assert web1.kdb("meta-get", key, "visibility").stdout.strip() == "advanced"
    # advanced is below the default visibility level "user": hidden until asked for
    expect(ui.row(key)).to_have_count(0)
    page.get_by_role("button", name="hidden by visibility").click()
    expect(ui.row(key)).to_be_visible()


def test_the_tree_works_with_the_keyboard(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    ui.row("system:/").focus()
    page.keyboard.press("ArrowDown")  # system:/demo
    expect(page.locator("#key-title")).to_have_text("system:/demo")
    page.keyboard.press("ArrowRight")  # expand demo
    expect(ui.row("system:/demo/cache")).to_be_visible()
    page.keyboard.press("ArrowRight")  # into its first child
    expect(page.locator("#key-title")).to_have_text("system:/demo/cache")
    page.keyboard.press("ArrowLeft")  # back to the parent
    expect(page.locator("#key-title")).to_have_text("system:/demo")
    expect(ui.row("system:/demo")).to_be_focused()


def test_after_a_delete_the_panel_shows_the_parent_and_the_counts_go_down(
    ui: WebUI, stack: Stack
) -> None:
    """The focus moves to the parent's row; the deleted key leaves the panel and every count."""
    web2 = stack.instances["web-2"]
    key = "system:/demo/features/dark_mode"
    ui.open_instance("web-2")
    ui.reveal(key)
    counts = {path: ui.row(path).locator(".key-count") for path in ("system:/", "system:/demo")}
    before = {path: int(count.inner_text()) for path, count in counts.items()}
    ui.page.get_by_role("button", name="Delete").click()
    ui.apply_previewed()
    expect(ui.page.locator("#key-title")).to_have_text("system:/demo/features")
    expect(ui.row("system:/demo/features")).to_be_focused()
    for path, count in counts.items():
        expect(count).to_have_text(str(before[path] - 1))
    assert _gone(web2, key)
    ui.page.locator(".notice", has_text=f"Deleted {key}").get_by_role("button", name="Undo").click()
    expect(ui.row(key)).to_be_visible()
    for path, count in counts.items():
        expect(count).to_have_text(str(before[path]))


def test_metadata_from_spec_is_edited_in_spec_not_copied_onto_the_key(
    ui: WebUI, web1: Instance
) -> None:
    page = ui.page
    key = "system:/demo/web/server/port"
    ui.open_instance("web-1")
    ui.reveal(key)
    page.locator("details.metadata summary").click()
    expect(page.locator("#spec-note")).to_contain_text("spec:/demo/web/server/port")
    expect(page.locator("#meta-description")).to_be_disabled()
    page.get_by_role("button", name="Edit spec:/demo/web/server/port").click()
    expect(page.locator("#key-title")).to_have_text("spec:/demo/web/server/port")
    page.locator("details.metadata summary").click()
    description = page.locator("#meta-description")
    expect(description).to_be_enabled()
    description.fill("The port, from the spec")
    page.get_by_role("button", name="Save metadata").click()
    expect(page.locator(".description")).to_have_text("The port, from the spec")
    spec = web1.kdb("meta-get", "spec:/demo/web/server/port", "description").stdout.strip()
    assert spec == "The port, from the spec"
    assert web1.kdb("meta-get", key, "description").stdout.strip() == "The port, from the spec"
