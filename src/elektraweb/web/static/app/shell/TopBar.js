import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { logOut } from '../session/session.js'
import { describeEntry, redo, undo } from '../history/undo.js'
import { UndoRedoKeys } from './UndoRedoKeys.js'

function NavLink({ href, current, children }) {
  return html`<a href=${href} class="nav-link" aria-current=${current ? 'page' : null}>${children}</a>`
}

/** The URL hash names screens, so following `#main` would leave the screen: move the focus. */
function skipToContent(event) {
  event.preventDefault()
  document.getElementById('main')?.focus()
}

export function TopBar() {
  const { session, screen, undoLabel, redoLabel } = useStore((s) => ({
    session: s.session,
    screen: s.route.screen,
    undoLabel: s.history.undo ? describeEntry(s.history.undo) : null,
    redoLabel: s.history.redo ? describeEntry(s.history.redo) : null,
  }))
  return html`
    <header class="topbar">
      <a class="skip-link" href="#main" onClick=${skipToContent}>Skip to content</a>
      <a class="brand" href="#/"><span class="brand-mark">e</span> elektra-web</a>
      <nav class="nav" aria-label="Screens">
        <${NavLink} href="#/" current=${screen === 'overview'}>Overview<//>
        <${NavLink} href="#/audit" current=${screen === 'audit'}>Audit log<//>
        <${NavLink} href="#/access" current=${screen === 'access'}>Users and tokens<//>
      </nav>
      <div class="topbar-actions">
        <button class="ghost" onClick=${undo} disabled=${!undoLabel}
          title=${undoLabel ? `Undo ${undoLabel} (Ctrl+Z)` : 'Nothing to undo'}>↶ Undo</button>
        <button class="ghost" onClick=${redo} disabled=${!redoLabel}
          title=${redoLabel ? `Redo ${redoLabel} (Ctrl+Shift+Z)` : 'Nothing to redo'}>↷ Redo</button>
        <span class="user" title="Logged in">
          <span class="user-name">${session.user}</span>
          <span class="role role-${session.role}">${session.role}</span>
        </span>
        <button class="ghost" onClick=${logOut}>Log out</button>
      </div>
      <${UndoRedoKeys} />
    </header>
  `
}
