// The page's entry point: render the app, follow the URL hash, continue the cookie's session.
import { render } from 'preact'
import { html } from './shared/html.js'
import { App } from './shell/App.js'
import { resumeSession } from './session/session.js'
import { startClock, StoreRoot } from './shared/store.js'
import { startRouting } from './shell/navigation.js'

render(html`<${StoreRoot} page=${App} />`, document.getElementById('app'))
startRouting()
startClock()
resumeSession()
