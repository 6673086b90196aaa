"""Searching the whole instance on the server; export (download) and import (upload)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from .stack import Instance
from .ui import WebUI


def test_search_counts_results_and_says_when_there_are_none(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    ui.search("demo/web/server/")
    # five keys in spec:/ and their five in system:/
    expect(page.get_by_test_id("result-count")).to_have_text("10 results")
    page.locator(".result", has_text="system:/demo/web/server/port").click()
    expect(page.locator("#key-title")).to_have_text("system:/demo/web/server/port")
    ui.screenshot("search")
    ui.search("no-such-key-anywhere")
    expect(page.get_by_test_id("result-count")).to_have_text("No results")


def test_search_in_values_when_asked(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    page.get_by_label("Search keys").fill("shop\\.pem")
    page.get_by_label("values too").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 result")


def test_export_downloads_and_import_uploads(ui: WebUI, web1: Instance, tmp_path: Path) -> None:
    page = ui.page
    ui.open_instance("web-1")
    page.get_by_role("button", name="Import / Export").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Subtree").fill("system:/demo/web/server")
    dialog.get_by_label("Format").select_option("ini")
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download export").click()
    exported = tmp_path / "export.ini"
    download.value.save_as(exported)
    text = exported.read_text()
    assert "port" in text and "8080" in text, text

    upload = tmp_path / "imported.ini"
    upload.write_text("[limits]\nrequests = 100\nburst = 20\n")
    dialog.get_by_label("Subtree").fill("user:/imported")
    dialog.get_by_label("File").set_input_files(str(upload))
    expect(dialog.get_by_label("Format")).to_have_value("ini")
    dialog.get_by_role("button", name="Import", exact=True).click()
    ui.apply_previewed()
    assert "user:/imported/limits/requests" in ui.last_preview
    expect(dialog.get_by_role("status")).to_contain_text("Imported imported.ini")
    assert web1.kdb("get", "user:/imported/limits/requests").stdout.strip() == "100"


def test_a_refused_pattern_clears_the_old_results_and_says_why(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    ui.search("port")
    expect(page.get_by_test_id("result-count")).to_be_visible()
    search = ui.search("(unclosed")
    expect(page.get_by_test_id("result-count")).to_have_count(0)
    expect(search).to_have_attribute("aria-invalid", "true")
    expect(search).to_have_accessible_description(re.compile("no valid regex"))
    expect(page.get_by_test_id("search-status")).to_contain_text("refused")


def test_import_disables_its_button_and_says_it_is_importing(
    ui: WebUI, web1: Instance, tmp_path: Path
) -> None:
    page = ui.page
    upload = tmp_path / "progress.ini"
    upload.write_text("[progress]\nstep = 1\n")
    ui.open_instance("web-1")
    page.get_by_role("button", name="Import / Export").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Subtree").fill("user:/import-progress")
    dialog.get_by_label("File").set_input_files(str(upload))
    button = dialog.get_by_role("button", name="Import")
    # Every state the button passes through is recorded, however short the import takes.
    button.evaluate(
        """(button) => { window.importStates = [];
        new MutationObserver(() => window.importStates.push(
          [button.disabled, button.textContent.trim()])).observe(button,
          {attributes: true, childList: true, characterData: true, subtree: true}) }"""
    )
    button.click()
    ui.apply_previewed()
    expect(dialog.get_by_role("status")).to_contain_text("Imported progress.ini")
    states = page.evaluate("window.importStates")
    assert [True, "Importing progress.ini…"] in states, states
    expect(button).to_be_enabled()
    expect(button).to_have_text("Import")
    assert "1" in web1.kdb("get", "user:/import-progress/progress/step").stdout
