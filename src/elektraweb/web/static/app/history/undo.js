// Undo and redo, kept by clusterd (GET /api/history/undo): they survive a reload, and each is
// a revert of a history entry, which clusterd refuses (409) when a key it would put back was
// changed since by someone else. Nothing is overwritten without the user seeing that refusal.

import { getState, notify, reportError, update } from '../shared/store.js'
import { request } from '../shared/api.js'
import { showChanged } from '../config/keyops.js'

const VERBS = {
  set: 'set', rm: 'delete', mv: 'move', cp: 'copy', 'meta-set': 'metadata of',
  'meta-rm': 'metadata of', 'meta-bulk': 'metadata of', 'set-all': 'replace',
  import: 'import into', revert: 'the change of', rollback: 'roll back',
}

export function targetOf(entry) {
  return { kind: entry.target.type, id: Number(entry.target.id) }
}

function targetName(target) {
  const list = target.kind === 'cluster' ? getState().clusters : getState().instances
  return list.find((item) => item.id === target.id)?.name ?? `${target.kind} ${target.id}`
}

/** What an entry did to which key, in words: "set user:/app/port". */
export function describeChange(entry) {
  return `${VERBS[entry.action] ?? entry.action} ${entry.key ?? ''}`.trim()
}

/** What an entry did, and where: "set user:/app/port on web-1". */
export function describeEntry(entry) {
  return `${describeChange(entry)} on ${targetName(targetOf(entry))}`
}

/** Ask clusterd what undo and redo would revert now. */
export async function refreshUndo() {
  try {
    const state = await request('GET', '/api/history/undo')
    update({ history: state })
    return state
  } catch (error) {
    reportError(error, 'Could not read what can be undone')
    return getState().history
  }
}

let recorded = Promise.resolve()

/**
 * Run `send`, a write; undo and redo wait until clusterd's answer to what they would revert
 * includes it, so an Undo pressed while it is on its way takes back this change, not the one
 * before it. Resolves as `send` does.
 */
export function recording(send) {
  const done = (async () => {
    try {
      return await send()
    } finally {
      await refreshUndo()
    }
  })()
  recorded = done.catch(() => {})
  return done
}

/** The keys of `entry` are back as they were before it: show them so in the tree. */
async function showReverted(entry) {
  const target = targetOf(entry)
  for (const change of entry.changes) {
    const gone = change.meta_before === null // the entry created it: reverting removes it
    const back = change.meta_after === null // the entry removed it: reverting brings it back
    await showChanged(target, change.key, { structural: gone || back, removed: gone })
  }
}

/** Revert one history entry; a key changed since is reported, not overwritten (unless forced). */
export async function revertEntry(entry, { force = false } = {}) {
  const query = force ? { force: 'true' } : undefined
  const result = await recording(() => request('POST', `/api/history/${entry.id}/revert`, { query }))
  await showReverted(entry)
  return result
}

async function step(chosen, verb) {
  await recorded
  const entry = chosen()
  if (!entry) return
  const label = describeEntry(entry)
  try {
    await revertEntry(entry)
    notify(`${verb}: ${label}`)
  } catch (error) {
    if (error.status === 409) {
      const keys = (error.error.keys ?? []).join(', ')
      error.message = `${keys || 'A key'} was changed by someone else since; nothing was ${verb.toLowerCase()}`
    }
    reportError(error, `Could not ${verb === 'Undone' ? 'undo' : 'redo'} “${label}”`)
  }
}

export const undo = () => step(() => getState().history.undo, 'Undone')
export const redo = () => step(() => getState().history.redo, 'Redone')
/** Undo one particular change, e.g. from the notice shown right after it. */
export const undoEntry = (entry) => step(() => entry, 'Undone')
