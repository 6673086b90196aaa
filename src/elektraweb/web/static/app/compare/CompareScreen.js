import { useEffect, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { reportError, useStore } from '../shared/store.js'
import { canEdit } from '../session/session.js'
import { targetName } from '../shell/navigation.js'
import { compare, copyValue, parseCompare } from './compare.js'

function State({ state }) {
  if (!state) return html`<span class="muted">—</span>`
  const meta = Object.entries(state.meta)
  return html`
    <code>${state.value ?? '(no value)'}</code>
    ${meta.length > 0 && html`<ul class="meta-list small">${meta.map(([name, value]) =>
      html`<li key=${name}><code>${name}</code> = <code>${value}</code></li>`)}</ul>`}
  `
}

function CopyButton({ from, to, names, name, state, onCopied }) {
  const [busy, setBusy] = useState(false)
  if (!state || state.value === null) return null
  const copy = () => {
    setBusy(true)
    copyValue(to, name, state.value)
      .then(onCopied)
      .catch((error) => reportError(error, `Could not copy ${name} to ${names[to.kind + to.id]}`))
      .finally(() => setBusy(false))
  }
  return html`<button disabled=${busy} onClick=${copy}
    aria-label=${`Copy to ${names[to.kind + to.id]} the value of ${name} from ${names[from.kind + from.id]}`}>
    Copy to ${names[to.kind + to.id]}</button>`
}

function Rows({ id, title, rows, comparison, names, editor, reload }) {
  const { a, b } = comparison
  return html`
    <section class="panel" aria-labelledby=${id}>
      <h2 id=${id}>${title} <span class="count">${rows.length}</span></h2>
      ${rows.length === 0 ? html`<p class="empty">None.</p>` : html`
        <table class="table compare-table">
          <thead><tr><th scope="col">Key</th><th scope="col">${names[a.kind + a.id]}</th>
            <th scope="col">${names[b.kind + b.id]}</th>
            ${editor && html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}</tr></thead>
          <tbody>
            ${rows.map((row) => html`
              <tr key=${row.name} data-key=${row.name}>
                <td><code>${row.name}</code></td>
                <td><${State} state=${row.a} /></td>
                <td><${State} state=${row.b} /></td>
                ${editor && html`<td class="actions">
                  <${CopyButton} from=${a} to=${b} names=${names} name=${row.name} state=${row.a} onCopied=${reload} />
                  <${CopyButton} from=${b} to=${a} names=${names} name=${row.name} state=${row.b} onCopied=${reload} />
                </td>`}
              </tr>`)}
          </tbody>
        </table>`}
    </section>
  `
}

/** Two targets side by side below one key: what only one has, and what differs. */
export function CompareScreen() {
  const { state, session } = useStore((s) => ({ state: s, session: s.session }))
  const wanted = parseCompare(location.hash)
  const [result, setResult] = useState(null)
  const [problem, setProblem] = useState(null)
  const reload = () => {
    if (!wanted) return
    compare(wanted).then((found) => { setResult(found); setProblem(null) })
      .catch((error) => { setResult(null); setProblem(error.message) })
  }
  useEffect(reload, [location.hash])
  if (!wanted) return html`<h1 tabindex="-1">Compare</h1><p class="muted">Choose “Compare with…” on an instance or a cluster.</p>`
  const label = (target) => `${targetName(state, target)} (${target.kind})`
  const names = { [wanted.a.kind + wanted.a.id]: label(wanted.a), [wanted.b.kind + wanted.b.id]: label(wanted.b) }
  const editor = canEdit(session)
  return html`
    <h1 tabindex="-1">Compare ${label(wanted.a)} with ${label(wanted.b)}</h1>
    <p>Keys at and below <code>${wanted.key}</code>.
      ${result && html` <span data-testid="same-count">${result.same}</span> are the same on both.`}</p>
    ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    ${!result && !problem && html`<p class="muted" aria-busy="true">Comparing…</p>`}
    ${result && html`
      <${Rows} id="compare-different" title="Different" rows=${result.different} comparison=${wanted} names=${names} editor=${editor} reload=${reload} />
      <${Rows} id="compare-only-a" title=${`Only in ${label(wanted.a)}`} rows=${result.only_a} comparison=${wanted} names=${names} editor=${editor} reload=${reload} />
      <${Rows} id="compare-only-b" title=${`Only in ${label(wanted.b)}`} rows=${result.only_b} comparison=${wanted} names=${names} editor=${editor} reload=${reload} />`}
  `
}
