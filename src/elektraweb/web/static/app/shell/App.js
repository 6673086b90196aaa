import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { LoginScreen } from '../session/LoginScreen.js'
import { TopBar } from './TopBar.js'
import { ConnectionBanner } from './ConnectionBanner.js'
import { ErrorList } from '../shared/ErrorList.js'
import { NoticeList } from '../shared/NoticeList.js'
import { OverviewScreen } from '../registry/OverviewScreen.js'
import { ConfigScreen } from '../config/ConfigScreen.js'
import { AuditScreen } from '../audit/AuditScreen.js'

function Screen({ screen }) {
  if (screen === 'config') return html`<${ConfigScreen} />`
  if (screen === 'audit') return html`<${AuditScreen} />`
  return html`<${OverviewScreen} />`
}

export function App() {
  const { session, sessionChecked, screen } = useStore((s) => ({
    session: s.session,
    sessionChecked: s.sessionChecked,
    screen: s.route.screen,
  }))
  if (!sessionChecked) return html`<p class="splash">Loading elektra-web…</p>`
  if (!session) {
    return html`<${LoginScreen} /><${ErrorList} />`
  }
  return html`
    <${TopBar} />
    <${ConnectionBanner} />
    <main id="main" class="screen screen-${screen}"><${Screen} screen=${screen} /></main>
    <${ErrorList} />
    <${NoticeList} />
  `
}
