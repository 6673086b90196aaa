import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { loadAudit, loadOlder } from './audit.js'
import { exactTime, relativeTime } from '../shared/format.js'

// A value over the audit log's limit is kept as its size and SHA-256 (docs/security.md §9).
function Value({ value }) {
  if (value !== null && typeof value === 'object' && 'sha256' in value) {
    return html`<code title=${`SHA-256 ${value.sha256}`}>${value.size} bytes, sha256 ${value.sha256.slice(0, 12)}…</code>`
  }
  return html`<code>${value ?? '(no value)'}</code>`
}

function State({ state }) {
  if (state === null || state === undefined) return html`<span class="muted">—</span>`
  if (typeof state === 'object' && 'value' in state) {
    const metaCount = Object.keys(state.meta ?? {}).length
    return html`<${Value} value=${state.value} />${metaCount > 0 &&
      html`<span class="muted small"> +${metaCount} meta</span>`}`
  }
  return html`<code class="json">${JSON.stringify(state)}</code>`
}

function Outcome({ result, pending }) {
  if (!result) return null
  // Sent, outcome not known yet; or learnt later by reading the target (docs/security.md §5).
  if (pending) return html`<span class="badge badge-warn">pending</span>`
  if (result.outcome === 'unknown') return html`<span class="badge badge-warn">unknown</span>`
  if (result.outcome === 'not-applied') {
    return html`<span class="badge badge-none">not applied</span>`
  }
  if (result.ok === false) {
    return html`<span class="badge badge-bad" title=${result.error?.message ?? ''}>failed</span>`
  }
  return html`<span class="badge badge-ok">ok</span>`
}

function Filters() {
  const { filters, instances, clusters } = useStore((s) => ({
    filters: s.audit.filters,
    instances: s.instances,
    clusters: s.clusters,
  }))
  const [draft, setDraft] = useState(filters)
  const set = (name) => (e) => setDraft({ ...draft, [name]: e.currentTarget.value })
  return html`
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); loadAudit(draft) }}>
      <label>Instance
        <select name="instance" value=${draft.instance ?? ''} onChange=${set('instance')}>
          <option value="">any</option>
          ${instances.map((i) => html`<option value=${i.id}>${i.name}</option>`)}
        </select></label>
      <label>Cluster
        <select name="cluster" value=${draft.cluster ?? ''} onChange=${set('cluster')}>
          <option value="">any</option>
          ${clusters.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select></label>
      <label>User <input name="user" value=${draft.user ?? ''} onInput=${set('user')} /></label>
      <label>Key <input name="key" class="mono" placeholder="user:/app" value=${draft.key ?? ''}
        onInput=${set('key')} /></label>
      <button class="primary" type="submit">Filter</button>
      <button type="button" class="ghost" onClick=${() => { setDraft({}); loadAudit({}) }}>Clear</button>
    </form>
  `
}

/** Who changed what, when, from what to what; newest first. */
export function AuditScreen() {
  const { entries, loading, more, instances, clusters } = useStore((s) => ({
    entries: s.audit.entries,
    loading: s.audit.loading,
    more: s.audit.more,
    instances: s.instances,
    clusters: s.clusters,
  }))
  const targetName = (target) => {
    const list = target.type === 'cluster' ? clusters : target.type === 'instance' ? instances : []
    const found = list.find((item) => String(item.id) === String(target.id))
    return found ? `${target.type} ${found.name}` : `${target.type} ${target.id ?? ''}`
  }
  return html`
    <section class="panel" aria-labelledby="audit-title">
      <div class="panel-head"><h1 id="audit-title" tabindex="-1">Audit log</h1></div>
      <${Filters} />
      ${loading && html`<p class="muted">Loading…</p>`}
      ${!loading && entries.length === 0 && html`<p class="empty">No entries match.</p>`}
      ${entries.length > 0 && html`
        <table class="table audit">
          <thead><tr><th>When</th><th>User</th><th>Action</th><th>Target</th><th>Key</th>
            <th>Before</th><th>After</th><th>Result</th></tr></thead>
          <tbody>
            ${entries.map((entry) => html`
              <tr key=${entry.id}>
                <td data-label="When" title=${exactTime(entry.time)}>${relativeTime(entry.time)}</td>
                <td data-label="User">${entry.user}</td>
                <td data-label="Action"><code>${entry.action}</code></td>
                <td data-label="Target">${targetName(entry.target)}</td>
                <td data-label="Key">${entry.key && html`<code>${entry.key}</code>`}</td>
                <td data-label="Before"><${State} state=${entry.before} /></td>
                <td data-label="After"><${State} state=${entry.after} /></td>
                <td data-label="Result"><${Outcome} result=${entry.result} pending=${entry.pending} /></td>
              </tr>`)}
          </tbody>
        </table>
        ${more && html`<button onClick=${loadOlder}>Older entries</button>`}`}
    </section>
  `
}
