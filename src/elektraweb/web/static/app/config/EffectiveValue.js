import { useEffect, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { kdbPath, request } from '../shared/api.js'

const STAGES = {
  spec: 'spec key',
  override: 'override',
  namespace: 'namespace',
  fallback: 'fallback',
  default: 'default',
}

/** The key's `kdbExplain` (null until it is there) and why it could not be read: read again
 * whenever the key's revision changes. */
export function useExplanation(target, path, revision) {
  const [explained, setExplained] = useState(null)
  const [problem, setProblem] = useState(null)
  useEffect(() => {
    setExplained(null)
    setProblem(null)
    if (!path || path.endsWith(':/')) return undefined
    let current = true
    request('GET', kdbPath(target, 'kdbExplain', path))
      .then((found) => { if (current) setExplained(found) })
      .catch((error) => { if (current) setProblem(error.message) })
    return () => { current = false }
  }, [target.kind, target.id, path, revision])
  return { explained, problem }
}

/** How the key's cascading name resolves, as `kdb get -v` tells it: every name tried, in
 * order, by which step, and which one wins. */
export function EffectiveValue({ explained, problem }) {  if (problem) return html`<section class="effective" aria-labelledby="effective-title"><h3 id="effective-title">Effective value</h3><p class="muted small">${problem}</p></section>`
  if (!explained) return null
  const winner = explained.resolved
  return html`
    <section class="effective" aria-labelledby="effective-title" data-testid="effective-value">
      <h3 id="effective-title">Effective value</h3>
      <p>
        <code>${explained.key}</code> resolves to
        ${winner ? html` <code data-testid="effective-winner">${winner}</code> = <code>${explained.value}</code>`
          : html` <span class="muted">nothing</span>`}
        ${explained.member != null && html`<span class="muted small"> (as member #${explained.member} resolves it)</span>`}
      </p>
      ${Object.keys(explained.spec.meta).length > 0 && html`
        <p class="small">Specification${explained.spec.key ? html` <code>${explained.spec.key}</code>` : ''}:</p>
        <ul class="meta-list small" aria-label="Metadata from the specification" data-testid="spec-meta">
          ${Object.entries(explained.spec.meta).map(([name, value]) =>
            html`<li key=${name}><code>${name}</code> = <code>${value}</code></li>`)}
        </ul>`}
      <table class="table effective-steps">
        <caption class="visually-hidden">Names tried by the cascading lookup, in order</caption>
        <thead><tr><th scope="col">Step</th><th scope="col">Name</th><th scope="col">Found</th></tr></thead>
        <tbody>
          ${explained.steps.map((step, index) => html`
            <tr key=${index} class=${step.name === winner && step.stage !== 'spec' ? 'winner' : ''}
              aria-current=${step.name === winner && step.stage !== 'spec' ? 'true' : null}>
              <td>${STAGES[step.stage] ?? step.stage}</td>
              <td><code>${step.name}</code></td>
              <td>${!step.found ? html`<span class="muted">—</span>`
                : step.stage === 'spec' ? 'yes' : html`<code>${step.value ?? ''}</code>`}</td>
            </tr>`)}
        </tbody>
      </table>
    </section>
  `
}
