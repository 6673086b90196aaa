// Undo and redo of the user's own changes. Each change is recorded with the two operations
// that take it back and do it again; both go through clusterd like any other write.

import { getState, notify, reportError, update } from './store.js'

const LIMIT = 100

/** Remember a change just made: `undo` and `redo` are async functions. */
export function record(label, undo, redo) {
  const entry = { label, undo, redo }
  update((s) => ({ history: { undo: [...s.history.undo, entry].slice(-LIMIT), redo: [] } }))
  return entry
}

async function step(from, to, verb, chosen = null) {
  const stack = getState().history[from]
  const entry = chosen ?? stack[stack.length - 1]
  if (!entry || !stack.includes(entry)) return
  update((s) => ({ history: { ...s.history, [from]: s.history[from].filter((e) => e !== entry) } }))
  try {
    await (from === 'undo' ? entry.undo() : entry.redo())
    update((s) => ({ history: { ...s.history, [to]: [...s.history[to], entry] } }))
    notify(`${verb}: ${entry.label}`)
  } catch (error) {
    reportError(error, `Could not ${verb.toLowerCase()} “${entry.label}”`)
  }
}

export const undo = () => step('undo', 'redo', 'Undone')
export const redo = () => step('redo', 'undo', 'Redone')
/** Undo one particular change, e.g. from the notice shown right after it. */
export const undoEntry = (entry) => step('undo', 'redo', 'Undone', entry)

export function clearHistory() {
  update({ history: { undo: [], redo: [] } })
}
