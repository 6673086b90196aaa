// Changes to keys: set, metadata, create, delete, move, copy. Each one is sent to clusterd,
// shown in the tree right away, recorded for undo, and for a cluster its per-member results
// are kept for the screen to show.

import { getState, notify, reportError, update } from '../shared/store.js'
import { kdbPath, request } from '../shared/api.js'
import { record, undoEntry } from '../shared/history.js'
import { flash, forgetKey, markLocked, refreshKey, reveal } from './tree.js'

function describeTarget(target) {
  const list = target.kind === 'cluster' ? getState().clusters : getState().instances
  const found = list.find((item) => item.id === target.id)
  return found ? found.name : `${target.kind} ${target.id}`
}

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

async function readKey(target, key) {
  const found = await request('GET', kdbPath(target, 'kdb', key))
  return found.exists ? { value: found.value ?? null, meta: found.meta ?? {} } : null
}

/** Show a change in the tree, if the tree on screen is the target's, and highlight it. */
async function showChanged(target, key, { structural = false, removed = false } = {}) {
  const shown = getState().config?.target
  if (shown?.kind !== target.kind || shown.id !== target.id) return
  if (removed) forgetKey(key)
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

/** Put a key back as it was: value and metadata, or gone if it did not exist. */
async function restore(target, key, before) {
  if (before === null) {
    await write(target, 'DELETE', 'kdb', key, {}, `remove ${key}`)
    await showChanged(target, key, { structural: true })
    return
  }
  const now = (await readKey(target, key)) ?? { value: null, meta: {} }
  const metaChanges = { ...before.meta }
  for (const name of Object.keys(now.meta)) if (!(name in before.meta)) metaChanges[name] = null
  if (Object.keys(metaChanges).length > 0) await putMeta(target, key, metaChanges)
  if (before.value !== null) await putValue(target, key, before.value)
  await showChanged(target, key, { structural: now === null })
}

/** Set a key's value; `expect` (a revision) makes it fail with 409 if it changed meanwhile. */
export async function setValue(target, key, value, { expect } = {}) {
  const before = await readKey(target, key)
  await putValue(target, key, value, expect)
  await showChanged(target, key, { structural: before === null })
  const label = `set ${key} on ${describeTarget(target)}`
  record(
    label,
    () => restore(target, key, before),
    async () => {
      await putValue(target, key, value)
      await showChanged(target, key, { structural: before === null })
    },
  )
}

/** Set metadata entries (`null` removes one). */
export async function setMeta(target, key, changes) {
  const before = await readKey(target, key)
  await putMeta(target, key, changes)
  await showChanged(target, key, { structural: before === null })
  record(
    `metadata of ${key}`,
    () => restore(target, key, before),
    async () => {
      await putMeta(target, key, changes)
      await showChanged(target, key)
    },
  )
}

/** Create a key with metadata (checks first, so the value is checked against them). */
export async function createKey(target, key, value, meta) {
  const exists = await readKey(target, key)
  if (exists) throw Object.assign(new Error(`${key} already exists`), { field: 'name' })
  const create = async () => {
    if (Object.keys(meta).length > 0) await putMeta(target, key, meta)
    try {
      await putValue(target, key, value)
    } catch (error) {
      if (Object.keys(meta).length > 0) {
        await write(target, 'DELETE', 'kdb', key, {}, `remove ${key}`).catch(() => {})
      }
      throw error
    }
  }
  await create()
  // Showing it may take a few reads; the caller (a dialog) need not wait for them.
  reveal(key)
    .then(() => showChanged(target, key, { structural: true }))
    .catch((error) => reportError(error, `Could not show ${key}`))
  record(`create ${key}`, () => restore(target, key, null), async () => {
    await create()
    await showChanged(target, key, { structural: true })
  })
}

/** Delete a key and everything below it; a notice offers undo instead of asking first. */
export async function deleteKey(target, key) {
  const saved = await request('GET', kdbPath(target, 'kdbExport', key), {
    query: { format: 'dump' },
  })
  await write(target, 'DELETE', 'kdb', key, {}, `remove ${key}`)
  await showChanged(target, key, { structural: true, removed: true })
  const bringBack = async () => {
    await write(target, 'POST', 'kdbImport', key, {
      body: saved.data,
      query: { format: saved.format, strategy: 'overwrite' },
    }, `restore ${key}`)
    // Read back (`refreshKey`): its count goes onto every ancestor as it is now.
    await showChanged(target, key, { structural: true })
  }
  const remove = async () => {
    await write(target, 'DELETE', 'kdb', key, {}, `remove ${key}`)
    await showChanged(target, key, { structural: true, removed: true })
  }
  const entry = record(`delete ${key}`, bringBack, remove)
  notify(`Deleted ${key}`, { label: 'Undo', run: () => undoEntry(entry) }, 10)
}

/** Move (rename) or copy a key with everything below it. */
export async function relocate(target, operation, key, destination) {
  const verb = operation === 'kdbMv' ? 'move' : 'copy'
  const run = async (from, to, op) => {
    await write(target, 'POST', op, from, { body: to }, `${verb} ${from} to ${to}`)
    await showChanged(target, from, { structural: true })
    await showChanged(target, to, { structural: true })
  }
  await run(key, destination, operation)
  await reveal(destination)
  const undo =
    operation === 'kdbMv'
      ? () => run(destination, key, 'kdbMv')
      : async () => {
          await write(target, 'DELETE', 'kdb', destination, {}, `remove ${destination}`)
          await showChanged(target, destination, { structural: true })
        }
  record(`${verb} ${key} to ${destination}`, undo, () => run(key, destination, operation))
  notify(`${verb === 'move' ? 'Moved' : 'Copied'} ${key} to ${destination}`)
}
