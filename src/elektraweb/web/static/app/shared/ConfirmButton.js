import { useEffect, useState } from 'preact/hooks'
import { html } from './html.js'
import { Dialog } from './Dialog.js'

/** A dialog that spells out what a destructive action will do, with Cancel focused first. */
export function ConfirmDialog({ title, consequence, confirm, onConfirm, onClose }) {
  return html`
    <${Dialog} title=${title} onClose=${onClose}>
      <p class="consequence" data-testid="consequence">${consequence}</p>
      <div class="form-actions">
        <button class="danger" type="button" onClick=${() => { onClose(); onConfirm() }}>${confirm}</button>
        <button class="ghost" type="button" onClick=${onClose}>Cancel</button>
      </div>
    <//>
  `
}

/** A button that asks once more before acting: in place ("Remove?" → "Yes, remove"), or, given
 * a `consequence`, in a dialog that says what will be lost. */
export function ConfirmButton({ label, confirm, onConfirm, consequence = null, className = 'ghost danger', ariaLabel = null }) {
  const [asking, setAsking] = useState(false)
  useEffect(() => {
    if (!asking || consequence) return undefined
    const timer = setTimeout(() => setAsking(false), 5000)
    return () => clearTimeout(timer)
  }, [asking])
  const button = html`<button class=${className} aria-label=${ariaLabel} onClick=${() => setAsking(true)}>${label}</button>`
  if (consequence) {
    return html`${button}${asking && html`<${ConfirmDialog} title=${confirm} consequence=${consequence}
      confirm=${confirm} onConfirm=${onConfirm} onClose=${() => setAsking(false)} />`}`
  }
  if (!asking) return button
  return html`
    <span class="confirm">
      <button class="danger" onClick=${() => { setAsking(false); onConfirm() }}>${confirm}</button>
      <button class="ghost" onClick=${() => setAsking(false)}>Cancel</button>
    </span>
  `
}
