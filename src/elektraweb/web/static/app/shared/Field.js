import { useState } from 'preact/hooks'
import { html } from './html.js'

let nextId = 1

/** A labelled input with its hint and the refusal that belongs to it, right beneath. The
 * child gets the field's id (the same on every render, so a screen reader keeps its place)
 * and the ids of the hint and the refusal, for its aria-describedby. */
export function Field({ label, hint, error, children, id = null }) {
  const [ownId] = useState(() => `field-${nextId++}`)
  const fieldId = id ?? ownId
  const described = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(' ')
  return html`
    <div class=${`field ${error ? 'field-invalid' : ''}`}>
      <label for=${fieldId}>${label}</label>
      ${children(fieldId, described || null)}
      ${hint && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
      ${error && html`<p class="field-error" id=${`${fieldId}-error`} role="alert">${error}</p>`}
    </div>
  `
}
