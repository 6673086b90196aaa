import { html } from './html.js'

let nextId = 1

/** A labelled input with its hint and the refusal that belongs to it, right beneath. */
export function Field({ label, hint, error, children, id = null }) {
  const fieldId = id ?? `field-${nextId++}`
  return html`
    <div class=${`field ${error ? 'field-invalid' : ''}`}>
      <label for=${fieldId}>${label}</label>
      ${children(fieldId, error ? `${fieldId}-error` : hint ? `${fieldId}-hint` : null)}
      ${hint && !error && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
      ${error && html`<p class="field-error" id=${`${fieldId}-error`} role="alert">${error}</p>`}
    </div>
  `
}
