import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { syncState } from './registry.js'
import { SYNC_LABELS } from '../shared/format.js'

/** In sync, pending changes, rejected or drift, for a cluster or a member; a dash when the
 * instance is in no cluster or nobody has said yet. */
export function SyncBadge({ kind, item }) {
  const state = useStore((s) => (item ? syncState(s.sync, kind, item) : null))
  if (!state) return html`<span class="badge badge-none" title="No sync state reported">—</span>`
  const label = SYNC_LABELS[state] ?? state
  const tone = state === 'in-sync' ? 'ok' : state === 'pending' ? 'warn' : 'bad'
  return html`<span class=${`badge badge-${tone}`} data-sync=${state}>${label}</span>`
}
