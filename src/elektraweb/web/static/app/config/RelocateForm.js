import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { relocate } from './keyops.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'

/** Rename or move a key (with its subtree), or duplicate it under a new name. */
export function RelocateForm({ target, path, mode, onClose }) {
  const [destination, setDestination] = useState(mode === 'copy' ? `${path}_copy` : path)
  const [problem, setProblem] = useState(null)
  const move = mode === 'move'

  async function submit(event) {
    event.preventDefault()
    setProblem(null)
    try {
      const operation = move ? 'kdbMv' : 'kdbCp'
      if (await relocate(target, operation, path, destination.trim(), { onDrafted: onClose })) onClose()
    } catch (error) {
      setProblem(error.message)
    }
  }

  return html`
    <${Dialog} title=${move ? `Rename or move ${path}` : `Duplicate ${path}`} onClose=${onClose}>
      <form class="form" onSubmit=${submit}>
        <p class="muted small">Everything below the key goes along.</p>
        <${Field} label="New name" error=${problem}>${(id, described) => html`
          <input id=${id} name="destination" class="mono" required value=${destination}
            aria-describedby=${described} onInput=${(e) => setDestination(e.currentTarget.value)} />`}<//>
        <div class="form-actions">
          <button type="button" class="ghost" onClick=${onClose}>Cancel</button>
          <button class="primary" type="submit">${move ? 'Move' : 'Copy'}</button>
        </div>
      </form>
    <//>
  `
}
