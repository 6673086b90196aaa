// Change events applied to the configuration tree, coalesced: events are collected and applied
// once per animation frame, and while that takes reads, the next events wait and are applied
// together after them. A burst of events (an import: thousands of keys, or one subtree event)
// costs a few reads of what is on screen, never one read per event, and never a read of a
// whole namespace for keys that are not loaded: those are only counted.

import { getState } from '../shared/store.js'
import { changedElsewhere } from './editing.js'
import { ancestorsOf, isBelowOrSame } from './keynames.js'
import { applyKeyChange, countRestored, countUnloaded, flash, reloadNode } from './tree.js'

let pending = nothingPending()
let scheduled = false
let applying = Promise.resolve()

function nothingPending() {
  return { target: null, keys: new Map(), subtrees: new Map(), resync: null }
}

function sameTarget(a, b) {
  return a !== null && b !== null && a.kind === b.kind && a.id === b.id
}

/** Collect for `target`: what was collected for another target is dropped. */
function collect(target) {
  if (!sameTarget(pending.target, target)) pending = { ...nothingPending(), resync: pending.resync }
  pending.target = target
  if (!scheduled) {
    scheduled = true
    requestAnimationFrame(() => {
      applying = applying.then(applyPending)
    })
  }
}

/** A key of `target` changed: `event` as `/zmq/events` sends it (`old`, `new`, `revision`?). */
export function keyChanged(target, key, event) {
  collect(target)
  const earlier = pending.keys.get(key)
  pending.keys.set(key, { first: earlier?.first ?? event, last: event })
}

/** Many keys of `target` at or below `subtree` changed at once: `event` counts them. */
export function subtreeChanged(target, subtree, event) {
  collect(target)
  const earlier = pending.subtrees.get(subtree) ?? 0
  pending.subtrees.set(subtree, earlier + (event.created ?? 0) - (event.removed ?? 0))
}

/** Events were lost: `reload` re-reads everything on screen, once, instead of applying them. */
export function resync(reload) {
  pending.resync = reload
  collect(getState().config?.target ?? { kind: 'none', id: null })
}

async function applyPending() {
  scheduled = false
  const { target, keys, subtrees, resync: reload } = pending
  pending = nothingPending()
  if (reload) return reload()
  const config = getState().config
  if (!config || !sameTarget(config.target, target)) return
  const reads = new Set()
  for (const [subtree, delta] of subtrees) {
    for (const [path, node] of Object.entries(config.nodes)) {
      if (isBelowOrSame(path, subtree) && (path === subtree || node.children)) reads.add(path)
    }
    if (!config.nodes[subtree]) reads.add(countUnloaded(subtree, delta))
  }
  for (const [key, { first, last }] of keys) {
    const node = getState().config.nodes[key]
    const exists = last.new !== null && last.new !== undefined
    if (node && exists && last.revision !== undefined) {
      // The event carries the key's new state: nothing to read.
      if (!node.exists) countRestored(key, 1)
      applyKeyChange(key, {
        exists: true,
        value: last.new.value ?? null,
        meta: last.new.meta ?? {},
        revision: last.revision ?? null,
      })
    } else if (node) {
      reads.add(key) // removed, or a cluster's event without a revision to compare with later
    } else {
      reads.add(countUnloaded(key, Number(exists) - Number(Boolean(first.old))))
    }
  }
  reads.delete(null)
  // Upper levels first: a lower level read afterwards finds its count already current.
  const ordered = [...reads].sort((a, b) => ancestorsOf(a).length - ancestorsOf(b).length)
  for (const path of ordered) await reloadNode(path)
  showChanges(keys, subtrees)
}

function showChanges(keys, subtrees) {
  const { config, editor } = getState()
  for (const subtree of subtrees.keys()) if (config?.nodes[subtree]) flash(subtree)
  for (const [key, { last }] of keys) {
    if (editor && editor.path === key && !editor.saving) {
      changedElsewhere(key, last.new ? last.new.value ?? null : null, last.origin ?? null)
    }
    flash(key)
  }
}
