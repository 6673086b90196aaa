// Changes to keys: set, metadata, create, delete, move, copy. Each one is sent to clusterd and
// shown in the tree right away; subtree operations and every cluster write are previewed and
// confirmed first; undo is clusterd's (history/undo.js), and for a cluster the per-member
// results are kept for the screen to show.

import { getState, notify, update } from '../shared/store.js'
import { kdbPath, request } from '../shared/api.js'
import { recording, undoEntry } from '../history/undo.js'
import { confirmChange } from '../history/preview.js'
import { flash, forgetKey, markLocked, refreshKey, reveal } from './tree.js'

/** Send one write; a 423 marks the key locked, a cluster reply shows every member's result. */
async function write(target, method, operation, key, options, action) {
  try {
    const reply = await request(method, kdbPath(target, operation, key), options)
    if (target.kind === 'cluster') {
      update({ memberResults: { action, key, reply, at: Date.now() } })
    }
    return reply
  } catch (error) {
    if (error.status === 423) {
      markLocked(error.error.key ?? key, error.error.cluster_name ?? error.error.cluster ?? '?')
    }
    if (target.kind === 'cluster' && error.error) {
      update({ memberResults: { action, key, error: error.error, at: Date.now() } })
    }
    throw error
  }
}

/** Preview the write and let the user confirm it: false if they cancelled. */
function confirmed(target, method, operation, key, options, action) {
  return confirmChange(action, method, kdbPath(target, operation, key), options)
}

/** Whether a write on `target` is confirmed with its preview first: every cluster write. */
const confirmsEvery = (target) => target.kind === 'cluster'

/** The confirm step's "Add to draft" of a cluster's subtree write (`edit`, as the draft takes
 * it); null on an instance, which has no draft. */
export function draftOf(target, edit, onDrafted) {
  return target.kind === 'cluster' ? { cluster: target.id, edit, onDrafted } : null
}

async function readKey(target, key) {
  const found = await request('GET', kdbPath(target, 'kdb', key))
  return found.exists ? { value: found.value ?? null, meta: found.meta ?? {} } : null
}

/** Show a change in the tree, if the tree on screen is the target's, and highlight it. */
export async function showChanged(target, key, { structural = false, removed = false } = {}) {
  const shown = getState().config?.target
  if (shown?.kind !== target.kind || shown.id !== target.id) return
  if (removed) await forgetKey(key)
  await refreshKey(key, { structural })
  flash(key)
}

async function putValue(target, key, value, expect) {
  const query = expect === undefined ? undefined : { expect: expect ?? 'none' }
  return write(target, 'PUT', 'kdb', key, { body: value, query }, `set ${key}`)
}

async function putMeta(target, key, meta) {
  const entries = Object.entries(meta).map(([name, value]) => ({ key: name, value }))
  return write(target, 'POST', 'kdbMetaBulk', key, { body: { meta: entries } }, `metadata of ${key}`)
}

/** Set a key's value; `expect` (a revision) makes it fail with 409 if it changed meanwhile.
 * Resolves false if the user cancelled at the confirm step. */
export async function setValue(target, key, value, { expect } = {}) {
  const action = `set ${key}`
  const query = expect === undefined ? undefined : { expect: expect ?? 'none' }
  if (confirmsEvery(target) && !(await confirmed(target, 'PUT', 'kdb', key, { body: value, query }, action))) {
    return false
  }
  await recording(() => putValue(target, key, value, expect))
  await showChanged(target, key, { structural: expect === null })
  return true
}

/** Set metadata entries (`null` removes one). */
export async function setMeta(target, key, changes) {
  const entries = Object.entries(changes).map(([name, value]) => ({ key: name, value }))
  const options = { body: { meta: entries } }
  if (confirmsEvery(target) && !(await confirmed(target, 'POST', 'kdbMetaBulk', key, options, `metadata of ${key}`))) {
    return false
  }
  await recording(() => putMeta(target, key, changes))
  await showChanged(target, key, { structural: true })
  return true
}

/** Create a key with metadata (checks first, so the value is checked against them). */
export async function createKey(target, key, value, meta) {
  const exists = await readKey(target, key)
  if (exists) throw Object.assign(new Error(`${key} already exists`), { field: 'name' })
  const query = { expect: 'none' }
  if (confirmsEvery(target) && !(await confirmed(target, 'PUT', 'kdb', key, { body: value, query }, `create ${key}`))) {
    return false
  }
  await recording(async () => {
    if (Object.keys(meta).length > 0) await putMeta(target, key, meta)
    try {
      await putValue(target, key, value)
    } catch (error) {
      if (Object.keys(meta).length > 0) {
        await write(target, 'DELETE', 'kdb', key, {}, `remove ${key}`).catch(() => {})
      }
      throw error
    }
  })
  // Showing it may take a few reads; the caller (a dialog) need not wait for them.
  reveal(key)
    .then(() => showChanged(target, key, { structural: true }))
    .catch(() => {})
  return true
}

/** Delete a key and everything below it, after confirming what goes (the confirm step says
 * `consequence`, if given); a notice offers undo. */
export async function deleteKey(target, key, { consequence = null } = {}) {
  const draft = draftOf(target, { op: 'rm', key, recursive: true })
  if (!(await confirmed(target, 'DELETE', 'kdb', key, { consequence, draft }, `delete ${key}`))) return false
  await recording(() => write(target, 'DELETE', 'kdb', key, {}, `remove ${key}`))
  await showChanged(target, key, { structural: true, removed: true })
  const undo = getState().history.undo
  if (undo?.action === 'rm' && undo.key === key) {
    notify(`Deleted ${key}`, { label: 'Undo', run: () => undoEntry(undo) }, 10)
  } else {
    notify(`Deleted ${key}`)
  }
  return true
}

/** Move (rename) or copy a key with everything below it, after confirming what changes (on a
 * cluster, the confirm step may put it into the draft instead, then calls `onDrafted`). */
export async function relocate(target, operation, key, destination, { onDrafted } = {}) {
  const verb = operation === 'kdbMv' ? 'move' : 'copy'
  const action = `${verb} ${key} to ${destination}`
  const draft = draftOf(target, { op: verb === 'move' ? 'mv' : 'cp', key, target: destination }, onDrafted)
  if (!(await confirmed(target, 'POST', operation, key, { body: destination, draft }, action))) return false
  await recording(() => write(target, 'POST', operation, key, { body: destination }, action))
  await showChanged(target, key, { structural: true })
  await showChanged(target, destination, { structural: true })
  await reveal(destination)
  notify(`${verb === 'move' ? 'Moved' : 'Copied'} ${key} to ${destination}`)
  return true
}
