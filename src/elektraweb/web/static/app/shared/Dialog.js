import { useEffect, useRef } from 'preact/hooks'
import { html } from './html.js'

const FIRST_FIELD = 'input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled])'

/** A modal dialog (the browser's own: focus stays inside, Escape closes it). */
export function Dialog({ title, onClose, children, wide = false }) {
  const ref = useRef(null)
  useEffect(() => {
    const dialog = ref.current
    if (!dialog.open) dialog.showModal()
    // The browser focuses the first focusable element, the Close button; the first field is
    // where the user starts.
    dialog.querySelector('.dialog-body').querySelector(FIRST_FIELD)?.focus()
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
      <div class="dialog-body">${children}</div>
    </dialog>
  `
}
