import { html } from '../html.js'
import { useStore } from '../store.js'
import { LoginScreen } from './LoginScreen.js'
import { TopBar } from './TopBar.js'
import { ConnectionBanner } from './ConnectionBanner.js'
import { ErrorList } from './ErrorList.js'
import { NoticeList } from './NoticeList.js'
import { OverviewScreen } from './OverviewScreen.js'
import { ConfigScreen } from './ConfigScreen.js'
import { AuditScreen } from './AuditScreen.js'

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
