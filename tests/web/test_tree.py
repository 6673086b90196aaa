"""The configuration tree as a screen opens it."""

from __future__ import annotations

from .ui import WebUI

# Every value the system:/ row's aria-expanded takes from now on, as the page renders it.
RECORD_SYSTEM_ROOT = """
() => {
  const seen = (window.systemRootExpanded = [])
  const system = "[role=treeitem][data-path='system:/']"
  const isRow = (node) => node.nodeType === 1 && node.matches(system)
  new MutationObserver((records) => {
    for (const record of records) {
      const found = []
      if (record.type === 'attributes' && isRow(record.target)) {
        found.push(record.oldValue, record.target.getAttribute('aria-expanded'))
      }
      for (const node of record.addedNodes) {
        const rows = node.nodeType === 1 ? [node, ...node.querySelectorAll('[role=treeitem]')] : []
        for (const row of rows.filter(isRow)) found.push(row.getAttribute('aria-expanded'))
      }
      seen.push(...found.filter((value) => value !== null))  // null: not read yet
    }
  }).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-expanded'],
    attributeOldValue: true,
  })
}
"""


def test_system_is_never_shown_closed_before_the_screen_opens_it(ui: WebUI) -> None:
    """Shown closed and opened a moment later, a click on its twisty in between (by a user, or
    a test that saw it closed) would land after the opening and close it again. Until it is
    read it is busy, neither open nor closed."""
    ui.page.evaluate(RECORD_SYSTEM_ROOT)
    ui.open_instance("web-1")  # waits until system:/ is open
    seen = ui.page.evaluate("window.systemRootExpanded")
    assert seen and set(seen) == {"true"}, seen
