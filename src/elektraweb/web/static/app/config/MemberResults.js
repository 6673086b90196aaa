import { html } from '../shared/html.js'
import { dismissMemberResults, memberOutcomes } from './members.js'
import { useStore } from '../shared/store.js'

const LABELS = { applied: 'Applied', rejected: 'Rejected', pending: 'Pending', unknown: 'Unknown' }

/** After a cluster write: what happened on each member (applied, rejected and why, pending). */
export function MemberResults() {
  const { results, instances } = useStore((s) => ({ results: s.memberResults, instances: s.instances }))
  // The live region stays on the cluster's screen, so the first results are announced.
  if (!results) return html`<section class="member-results-region" aria-label="Result per member" aria-live="polite"></section>`
  const outcomes = memberOutcomes(results)
  const nameOf = (id) => instances.find((i) => i.id === id)?.name ?? `instance ${id}`
  return html`
    <section class="member-results" aria-label="Result per member" aria-live="polite">
      <div class="member-results-head">
        <strong>${results.action}</strong>
        <button class="icon" aria-label="Dismiss results" onClick=${dismissMemberResults}>×</button>
      </div>
      ${results.error && html`<p class="field-error">${results.error.message}</p>`}
      <ul>
        ${outcomes.map((o) => html`
          <li key=${o.id} class=${`outcome outcome-${o.status}`} data-member=${nameOf(o.id)} data-status=${o.status}>
            <span class="outcome-name">${nameOf(o.id)}</span>
            <span class=${`badge badge-${o.status === 'applied' ? 'ok' : o.status === 'rejected' ? 'bad' : 'warn'}`}>
              ${LABELS[o.status] ?? o.status}</span>
            ${o.reason && html`<span class="outcome-reason">${o.reason}</span>`}
          </li>`)}
        ${outcomes.length === 0 && !results.error && html`<li class="muted small">The cluster has no members.</li>`}
      </ul>
    </section>
  `
}
