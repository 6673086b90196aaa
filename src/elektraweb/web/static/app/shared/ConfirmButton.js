import { useEffect, useState } from 'preact/hooks'
import { html } from './html.js'

/** A button that asks once more in place ("Remove?" → "Yes, remove") instead of a popup. */
export function ConfirmButton({ label, confirm, onConfirm, className = 'ghost danger' }) {
  const [asking, setAsking] = useState(false)
  useEffect(() => {
    if (!asking) return undefined
    const timer = setTimeout(() => setAsking(false), 5000)
    return () => clearTimeout(timer)
  }, [asking])
  if (!asking) return html`<button class=${className} onClick=${() => setAsking(true)}>${label}</button>`
  return html`
    <span class="confirm">
      <button class="danger" onClick=${() => { setAsking(false); onConfirm() }}>${confirm}</button>
      <button class="ghost" onClick=${() => setAsking(false)}>Cancel</button>
    </span>
  `
}
