import { useEffect, useRef } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { LoginScreen } from '../session/LoginScreen.js'
import { TopBar } from './TopBar.js'
import { ConnectionBanner } from './ConnectionBanner.js'
import { ErrorList } from '../shared/ErrorList.js'
import { NoticeList } from '../shared/NoticeList.js'
import { ConfirmChanges } from '../history/ConfirmChanges.js'
import { OverviewScreen } from '../registry/OverviewScreen.js'
import { ConfigScreen } from '../config/ConfigScreen.js'
import { AuditScreen } from '../audit/AuditScreen.js'
import { AccessScreen } from '../users/AccessScreen.js'
import { CompareScreen } from '../compare/CompareScreen.js'
import { screenTitle } from './navigation.js'

function Screen({ screen }) {
  if (screen === 'config') return html`<${ConfigScreen} />`
  if (screen === 'audit') return html`<${AuditScreen} />`
  if (screen === 'access') return html`<${AccessScreen} />`
  if (screen === 'compare') return html`<${CompareScreen} />`
  return html`<${OverviewScreen} />`
}

/** The page title names the screen; the new screen's heading takes the focus (after logging
 * in too), so keyboard and screen reader users start there instead of at the page's top. */
function useScreenChange(title, routeKey) {
  useEffect(() => {
    document.title = `${title} — elektra-web`
  }, [title])
  const focused = useRef(null)
  useEffect(() => {
    // After every render: the heading may come only once the screen's data is there.
    if (routeKey === null || focused.current === routeKey) return
    const heading = document.querySelector('main h1')
    if (!heading) return
    focused.current = routeKey
    // Someone already moved into the new screen (this effect runs after paint): keep it there.
    if (heading.closest('main').contains(document.activeElement)) return
    heading.focus({ preventScroll: true })
  })
}

export function App() {
  const { session, sessionChecked, route, title } = useStore((s) => ({
    session: s.session,
    sessionChecked: s.sessionChecked,
    route: s.route,
    title: s.session ? screenTitle(s) : 'Log in',
  }))
  const routeKey = session ? `${route.screen}/${route.kind ?? ''}/${route.id ?? ''}/${route.query ?? ''}` : null
  useScreenChange(title, routeKey)
  if (!sessionChecked) return html`<p class="splash">Loading elektra-web…</p>`
  if (!session) {
    return html`<${LoginScreen} /><${ErrorList} />`
  }
  return html`
    <${TopBar} />
    <${ConnectionBanner} />
    <main id="main" tabindex="-1" class="screen screen-${route.screen}"><${Screen} screen=${route.screen} /></main>
    <${ErrorList} />
    <${NoticeList} />
    <${ConfirmChanges} />
  `
}
