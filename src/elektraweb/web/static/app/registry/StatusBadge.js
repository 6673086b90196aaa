import { html } from '../shared/html.js'
import { exactTime, relativeTime } from '../shared/format.js'

/** Online, or offline with since when and the last error. */
export function StatusBadge({ status }) {
  if (status?.online) return html`<span class="status status-online"><span class="dot"></span>Online</span>`
  const since = status?.offline_since
  const why = status?.last_error
  return html`
    <span class="status status-offline" title=${[since && exactTime(since), why].filter(Boolean).join(' — ')}>
      <span class="dot"></span>Offline${since ? html` <span class="since">since ${relativeTime(since)}</span>` : ''}
    </span>
  `
}
