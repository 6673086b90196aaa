import { html } from '../shared/html.js'
import { getState } from '../shared/store.js'

function shown(value) {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`
  if (typeof value === 'object') return html`<span class="muted">${value.size} bytes (too large to show)</span>`
  return html`<code>${value}</code>`
}

function metaDiff(before, after) {
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort()
  return names
    .filter((name) => (before ?? {})[name] !== (after ?? {})[name])
    .map((name) => html`<li><code>${name}</code>: ${shown((before ?? {})[name])} → ${shown((after ?? {})[name])}</li>`)
}

function what(change) {
  if (change.meta_before === null) return 'created'
  if (change.meta_after === null) return 'removed'
  return 'changed'
}

/** Keys with their value (and metadata) before and after a change. */
export function ChangeList({ changes }) {
  if (changes.length === 0) return html`<p class="muted small">Nothing changes.</p>`
  return html`
    <table class="table changes">
      <thead><tr><th>Key</th><th>Before</th><th>After</th></tr></thead>
      <tbody>
        ${changes.map((change) => html`
          <tr data-key=${change.key} data-change=${what(change)}>
            <td data-label="Key"><code>${change.key}</code> <span class="badge">${what(change)}</span></td>
            <td data-label="Before">${shown(change.before)}</td>
            <td data-label="After">${shown(change.after)}
              ${change.meta_before !== null && change.meta_after !== null &&
              html`<ul class="meta-diff">${metaDiff(change.meta_before, change.meta_after)}</ul>`}</td>
          </tr>`)}
      </tbody>
    </table>
  `
}

function nameOf(target) {
  const kind = target.cluster !== undefined ? 'cluster' : 'instance'
  const id = target.cluster ?? target.instance
  const list = kind === 'cluster' ? getState().clusters : getState().instances
  const name = list.find((item) => item.id === id)?.name ?? `${kind} ${id}`
  return kind === 'cluster' ? `Cluster ${name} (its keys)` : name
}

/** A preview: per target (a cluster first, then each member) what would change or why not. */
export function PreviewTargets({ targets }) {
  return targets.map((target) => html`
    <section class="preview-target" aria-label=${nameOf(target)}>
      <h3>${nameOf(target)}</h3>
      ${target.refused
        ? html`<p class="field-error" role="alert">Would be refused: ${target.refused.message}</p>`
        : html`<${ChangeList} changes=${target.changes} />`}
      ${target.truncated && html`<p class="muted small">Only the first changes are listed.</p>`}
    </section>`)
}
