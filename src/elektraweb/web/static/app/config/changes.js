// Change events applied to the configuration tree, coalesced: events are collected and applied
// once per animation frame, and while that takes reads, the next events wait and are applied
// together after them. A burst of events (an import: thousands of keys, or one subtree event)
// costs a few reads of what is on screen, never one read per event, and never a read of a
// whole namespace for keys that are not loaded: for those, only their branch below the
// deepest level on screen is read.

import { getState } from '../shared/store.js'
import { changedElsewhere } from './editing.js'
import { ancestorsOf, isBelowOrSame } from './keynames.js'
import { applyKeyChange, branchOnScreen, flash, reloadNode } from './tree.js'

let pending = nothingPending()
let scheduled = false
let applying = Promise.resolve()

function nothingPending() {
  return { target: null, keys: new Map(), subtrees: new Set(), resync: null }
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

/** A key of `target` changed: `event` as `/zmq/events` sends it (`new`, `revision`?, `origin`);
 * of several events for one key, the last one counts. */
export function keyChanged(target, key, event) {
  collect(target)
  pending.keys.set(key, event)
}

/** Many keys of `target` at or below `subtree` changed at once. */
export function subtreeChanged(target, subtree) {
  collect(target)
  pending.subtrees.add(subtree)
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
  for (const subtree of subtrees) {
    for (const [path, node] of Object.entries(config.nodes)) {
      if (isBelowOrSame(path, subtree) && (path === subtree || node.children)) reads.add(path)
    }
    if (!config.nodes[subtree]) reads.add(branchOnScreen(subtree))
  }
  for (const [key, event] of keys) {
    const node = config.nodes[key]
    if (node?.exists && event.new && event.revision !== undefined) {
      // The event carries the key's new state: nothing to read.
      applyKeyChange(key, {
        value: event.new.value ?? null,
        meta: event.new.meta ?? {},
        revision: event.revision ?? null,
      })
    } else {
      // Created, removed, or a cluster's event without a revision to compare with later.
      reads.add(node ? key : branchOnScreen(key))
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
  for (const subtree of subtrees) if (config?.nodes[subtree]) flash(subtree)
  for (const [key, event] of keys) {
    if (editor && editor.path === key && !editor.saving) {
      changedElsewhere(key, event.new ? event.new.value ?? null : null, event.origin ?? null)
    }
    flash(key)
  }
}
