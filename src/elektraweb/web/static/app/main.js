// The page's entry point: render the app, follow the URL hash, continue the cookie's session.
import { render } from 'preact'
import { html } from './html.js'
import { App } from './components/App.js'
import { resumeSession } from './session.js'
import { StoreRoot } from './store.js'
import { startRouting } from './navigation.js'

render(html`<${StoreRoot} page=${App} />`, document.getElementById('app'))
startRouting()
resumeSession()
