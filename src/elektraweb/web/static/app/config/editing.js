// The value being typed into the key editor. The draft survives changes made elsewhere: when
// the key changes under it, the user is told and chooses; nothing typed is overwritten.

import { getState, reportError, update } from '../shared/store.js'
import { checkValue } from './metadata.js'
import { setValue } from './keyops.js'

function node(path) {
  return getState().config?.nodes[path]
}

function updateEditor(change) {
  update((s) => (s.editor ? { editor: { ...s.editor, ...change } } : {}))
}

export function startEditing(path) {
  const current = node(path)
  if (!current) return
  const draft = current.value ?? ''
  update({
    editor: {
      path,
      draft,
      baseValue: current.value ?? null,
      baseRevision: current.revision,
      problem: checkValue(current.meta, draft),
      serverError: null,
      saving: false,
      elsewhere: null,
    },
  })
}

export function changeDraft(draft) {
  const editor = getState().editor
  if (!editor) return
  updateEditor({ draft, problem: checkValue(node(editor.path)?.meta, draft), serverError: null })
}

export function stopEditing() {
  update({ editor: null })
}

/** Send the draft; a value the checks refuse is not sent, a server refusal is shown. */
export async function saveDraft(target) {
  const editor = getState().editor
  if (!editor || editor.saving) return
  const problem = checkValue(node(editor.path)?.meta, editor.draft)
  if (problem) {
    updateEditor({ problem })
    return
  }
  updateEditor({ saving: true, serverError: null })
  try {
    const applied = await setValue(target, editor.path, editor.draft, { expect: editor.baseRevision ?? null })
    if (!applied) updateEditor({ saving: false }) // cancelled at the confirm step: keep the draft
    else if (getState().editor?.path === editor.path) stopEditing()
  } catch (error) {
    const conflict = error.status === 409
    updateEditor({
      saving: false,
      serverError: conflict
        ? 'This key was changed elsewhere since you started editing. Load the new value or keep yours.'
        : error.message,
      elsewhere: conflict ? { value: node(editor.path)?.value ?? null, origin: null } : null,
    })
    if (!conflict && error.status !== 400 && error.status !== 423) reportError(error, 'Save failed')
  }
}

/** A change of the edited key arrived from elsewhere while the user was typing. */
export function changedElsewhere(path, value, origin) {
  const editor = getState().editor
  if (!editor || editor.path !== path) return false
  // An event that puts the value back as the edit found it leaves nothing to decide: e.g. a
  // cluster write every member refused is taken back, and its two events (the change, then
  // the undo) may arrive after the refusal itself.
  if (value === editor.baseValue) {
    if (editor.elsewhere) updateEditor({ elsewhere: null })
    return false
  }
  updateEditor({ elsewhere: { value, origin } })
  return true
}

/** Take the other value into the draft. */
export function takeTheirs() {
  const editor = getState().editor
  if (editor) startEditing(editor.path)
}

/** Keep the draft and save over the other change. */
export function keepMine() {
  const editor = getState().editor
  if (!editor) return
  const current = node(editor.path)
  updateEditor({
    baseValue: current?.value ?? null,
    baseRevision: current?.revision ?? null,
    elsewhere: null,
    serverError: null,
  })
}
