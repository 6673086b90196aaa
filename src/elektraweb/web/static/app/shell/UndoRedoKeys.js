import { useEffect } from 'preact/hooks'
import { redo, undo } from '../history/undo.js'

/** Ctrl+Z / Ctrl+Shift+Z (Cmd on a Mac) outside of text fields, which keep their own undo. */
export function UndoRedoKeys() {
  useEffect(() => {
    function onKey(event) {
      if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== 'z') return
      if (event.target.closest('input, textarea, select, [contenteditable]')) return
      event.preventDefault()
      if (event.shiftKey) redo()
      else undo()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  return null
}
