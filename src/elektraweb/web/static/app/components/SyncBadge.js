import { html } from '../html.js'
import { SYNC_LABELS } from '../format.js'

/** In sync, pending changes or drift; a dash while clusterd does not say. */
export function SyncBadge({ state }) {
  if (!state) return html`<span class="badge badge-none" title="No sync state reported">—</span>`
  const label = SYNC_LABELS[state] ?? state
  const tone = label === 'In sync' ? 'ok' : label === 'Drift' ? 'bad' : 'warn'
  return html`<span class=${`badge badge-${tone}`} data-sync=${state}>${label}</span>`
}
