import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { reconnectNow } from '../shared/api.js'

/** Says when the live link to clusterd is down; it reconnects by itself. */
export function ConnectionBanner() {
  const connection = useStore((s) => s.connection)
  const states = [connection.requests, connection.events]
  const state = states.includes('offline')
    ? 'offline'
    : states.includes('connecting')
      ? 'connecting'
      : 'open'
  return html`
    <div class="connection connection-${state}" role="status" aria-live="polite"
      data-state=${state}>
      ${state === 'open' && html`<span class="dot"></span> Live`}
      ${state === 'connecting' && html`<span class="dot"></span> Connecting to clusterd…`}
      ${state === 'offline' &&
      html`<span class="dot"></span> Connection to clusterd lost — reconnecting automatically.
        <button class="link" onClick=${reconnectNow}>Retry now</button>`}
    </div>
  `
}
