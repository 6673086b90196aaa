"""The web client as a person uses it: log in, open an instance, expand and select keys, edit
values. Locators follow what is on screen (roles, labels, texts), not the code's structure."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .stack import Stack

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class WebUI:
    def __init__(self, page: Page, stack: Stack, screenshots: Path) -> None:
        self.page = page
        self.stack = stack
        self.screenshots = screenshots
        self.last_preview = ""

    def log_in(self, user: str, password: str) -> None:
        self.page.goto("/")
        self.page.get_by_label("User").fill(user)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.locator(".user-name")).to_have_text(user)
        expect(self.page.locator(".connection")).to_have_attribute("data-state", "open")

    def screenshot(self, name: str) -> None:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.screenshots / f"{name}.png"), full_page=True)

    def accessibility_violations(self) -> list[str]:
        """axe-core's WCAG 2.1 A and AA findings on the page as it is now, one line each."""
        if not self.page.evaluate("() => 'axe' in window"):
            self.page.add_script_tag(path=str(AXE))
        found = self.page.evaluate(
            """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))
            .violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')
            + ' (' + n.failureSummary.replace(/\\s+/g, ' ') + ')').join('; ')}`)""",
            WCAG_AA,
        )
        return [str(line) for line in found]

    def open_instance(self, name: str) -> None:
        self.page.goto("/#/")
        # By keyboard: a click's coordinates can go stale while the overview re-renders live.
        self.page.locator(f"tr[data-instance='{name}'] a").first.press("Enter")
        expect(self.page).to_have_url(re.compile(r"#/instances/\d+$"))
        # The URL changes before the screen does: until the configuration screen renders, the
        # overview's two headings are on the page, and a strict locator would fail at once.
        expect(self.page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
        expect(self.row("system:/")).to_have_attribute("aria-expanded", "true")

    def open_target(self, kind: str, target_id: int, name: str) -> None:
        """Open the configuration screen of instance or cluster `target_id` by its address;
        its system:/ must hold keys (the screen opens it by itself, as `open_instance` waits)."""
        self.page.goto(f"/#/{kind}s/{target_id}")
        expect(self.page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
        expect(self.row("system:/")).to_have_attribute("aria-expanded", "true")

    def row(self, path: str) -> Locator:
        return self.page.locator(f"[role=treeitem][data-path='{path}']")

    def reveal(self, path: str) -> Locator:
        """Expand every ancestor of `path` in the tree, then select it."""
        root, _, rest = path.partition(":/")
        parts = rest.split("/")
        ancestors = [f"{root}:/"] + [
            f"{root}:/" + "/".join(parts[:n]) for n in range(1, len(parts))
        ]
        for ancestor in ancestors:
            row = self.visible_row(ancestor)
            # Read first: a namespace is opened by the screen as it is read, and a click on
            # a twisty that looked closed a moment before would close it again.
            expect(row).not_to_have_attribute("aria-busy", "true")
            if row.get_attribute("aria-expanded") != "true":
                row.locator(".twisty").click()
                expect(row).to_have_attribute("aria-expanded", "true")
        target = self.visible_row(path)
        target.click()
        expect(self.page.locator("#key-title")).to_have_text(path)
        return target

    def visible_row(self, path: str) -> Locator:
        """The row, once shown; if it never is, the page's state goes into the test's output."""
        row = self.row(path)
        try:
            row.wait_for()
        except Exception:
            print("page state:", page_state(self.page))
            raise
        return row

    def search(self, pattern: str) -> Locator:
        """Search the open instance's key names for `pattern`; the search field."""
        field = self.page.get_by_label("Search keys")
        field.fill(pattern)
        field.press("Enter")
        return field

    def value_editor(self) -> Locator:
        return self.page.locator("#value-editor")

    def type_value(self, value: str) -> None:
        editor = self.value_editor()
        editor.fill(value)
        editor.press("Enter")

    def apply_previewed(self) -> Locator:
        """Apply the write shown in the confirm step (its preview); returns the step's dialog
        body as it was, for a test to read what it showed."""
        step = self.page.get_by_test_id("confirm-changes")
        expect(step).to_be_visible()
        shown = step.inner_text()
        step.get_by_role("button", name="Apply").click()
        expect(step).to_have_count(0)
        self.last_preview = shown
        return step

    def close_refused_preview(self, pattern: str) -> None:
        """The confirm step shows the write refused (matching `pattern`) and offers no Apply;
        close it with Cancel."""
        step = self.page.get_by_test_id("confirm-changes")
        expect(step.get_by_role("alert").first).to_have_text(re.compile(pattern))
        expect(step.get_by_role("button", name="Apply")).to_have_count(0)
        step.get_by_role("button", name="Cancel").click()
        expect(step).to_have_count(0)

    def expect_value_error(self, pattern: str) -> None:
        expect(self.page.get_by_test_id("value-error")).to_have_text(re.compile(pattern))


def page_state(page: Page) -> str:
    """What the page holds: route, connection, the tree's loaded and expanded keys, errors."""
    return str(
        page.evaluate(
            """async () => { const m = await import('/app/shared/store.js'); const s = m.getState();
            const c = s.config; return JSON.stringify({route: s.route, conn: s.connection,
            loading: c && c.loading, expanded: c && c.expanded,
            nodes: c && Object.keys(c.nodes), errors: s.errors,
            rows: [...document.querySelectorAll('[role=treeitem]')].map(r => r.dataset.path)}) }"""
        )
    )
