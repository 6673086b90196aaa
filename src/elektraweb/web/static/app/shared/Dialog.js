import { useEffect, useRef } from 'preact/hooks'
import { html } from './html.js'

/** A modal dialog (the browser's own: focus stays inside, Escape closes it). */
export function Dialog({ title, onClose, children, wide = false }) {
  const ref = useRef(null)
  useEffect(() => {
    const dialog = ref.current
    if (!dialog.open) dialog.showModal()
    return () => dialog.open && dialog.close()
  }, [])
  return html`
    <dialog ref=${ref} class=${`dialog ${wide ? 'dialog-wide' : ''}`} aria-label=${title}
      onCancel=${(event) => {
        event.preventDefault()
        onClose()
      }}>
      <div class="dialog-head">
        <h2>${title}</h2>
        <button class="icon" type="button" aria-label="Close" onClick=${onClose}>×</button>
      </div>
      ${children}
    </dialog>
  `
}
