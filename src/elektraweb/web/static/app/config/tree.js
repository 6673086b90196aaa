// The configuration screen's tree: which keys are loaded, expanded, selected, searched.
// Children load lazily with one `GET .../kdb/{key}?preload=1&ls=0` per expanded key: one level,
// with each node's real count of keys and none of their names, so opening a large instance
// costs one small request per namespace, whatever its size.

import { getState, reportError, update } from '../shared/store.js'
import { kdbPath, request } from '../shared/api.js'
import { ancestorsOf, isBelowOrSame, NAMESPACES, parentOf } from './keynames.js'

/** A tree node from the API's key shape: the keys below it are only counted. */
function toNode(raw) {
  const below = raw.count - (raw.exists ? 1 : 0)
  return {
    path: raw.path,
    name: raw.name,
    exists: raw.exists,
    value: raw.exists ? raw.value ?? null : null,
    meta: raw.exists ? raw.meta ?? {} : {},
    revision: raw.revision ?? null,
    below,
    children: null, // paths, once loaded
  }
}

function updateConfig(change) {
  update((s) => {
    if (!s.config) return {}
    const next = typeof change === 'function' ? change(s.config) : change
    return { config: { ...s.config, ...next } }
  })
}

export function openConfig(target) {
  update({
    config: {
      target,
      nodes: {},
      expanded: {},
      loading: {},
      selected: null,
      flashes: {},
      locked: {},
      lockingCluster: null,
      visibility: 'user',
      showHidden: false,
      search: { query: '', values: false, results: null, truncated: false, loading: false, problem: null },
    },
    editor: null,
    memberResults: null,
  })
  const roots = NAMESPACES.map((ns) => `${ns}:/`)
  return Promise.all(roots.map((root) => loadNode(root))).then(() => {
    for (const root of ['user:/', 'system:/']) {
      if (getState().config?.nodes[root]?.below > 0) setExpanded(root, true)
    }
  })
}

function sameTarget(target) {
  const current = getState().config?.target
  return current && current.kind === target.kind && current.id === target.id
}

/** Read a key with its children (one level) and put both into the tree. */
export async function loadNode(path) {
  const target = getState().config?.target
  if (!target) return
  updateConfig((c) => ({ loading: { ...c.loading, [path]: true } }))
  try {
    const raw = await request('GET', kdbPath(target, 'kdb', path), { query: { preload: '1', ls: '0' } })
    if (!sameTarget(target)) return
    updateConfig((c) => {
      const nodes = { ...c.nodes }
      const node = toNode(raw)
      node.children = (raw.children ?? []).map((child) => child.path)
      for (const child of raw.children ?? []) {
        nodes[child.path] = { ...toNode(child), children: nodes[child.path]?.children ?? null }
      }
      nodes[path] = node
      return { nodes, loading: { ...c.loading, [path]: false } }
    })
  } catch (error) {
    updateConfig((c) => ({ loading: { ...c.loading, [path]: false } }))
    reportError(error, `Could not read ${path}`)
  }
}

export function setExpanded(path, expanded) {
  const node = getState().config?.nodes[path]
  updateConfig((c) => ({ expanded: { ...c.expanded, [path]: expanded } }))
  if (expanded && node && node.children === null) return loadNode(path)
  return Promise.resolve()
}

export function toggleExpanded(path) {
  return setExpanded(path, !getState().config?.expanded[path])
}

export function select(path) {
  updateConfig({ selected: path })
}

/** Load and expand every ancestor of `name`, then select it (search results, new keys). */
export async function reveal(name) {
  for (const ancestor of ancestorsOf(name)) {
    const node = getState().config?.nodes[ancestor]
    if (!node || node.children === null) await loadNode(ancestor)
    updateConfig((c) => ({ expanded: { ...c.expanded, [ancestor]: true } }))
  }
  if (!getState().config?.nodes[name]) await loadNode(name)
  select(name)
}

/** Read one key again after a change. When keys came or went (`structural`), the nearest
 * ancestor whose children are on screen is read again too, so new branches appear. */
export async function refreshKey(name, { structural = false } = {}) {
  const config = getState().config
  if (!config) return
  if (structural) {
    const shown = ancestorsOf(name).reverse().find((a) => config.nodes[a]?.children)
    if (shown) await loadNode(shown)
  }
  if (config.nodes[name]?.children || (config.nodes[name] && !structural)) await loadNode(name)
}

/** Apply a change event to a loaded key without asking the server again. */
export function applyKeyChange(name, change) {
  updateConfig((c) => {
    const node = c.nodes[name]
    if (!node) return {}
    return { nodes: { ...c.nodes, [name]: { ...node, ...change } } }
  })
}

/** Add `delta` to the count of keys below every loaded ancestor of `name`. */
function countedOff(nodes, name, delta) {
  const counted = { ...nodes }
  for (const ancestor of ancestorsOf(name)) {
    const node = counted[ancestor]
    if (node) counted[ancestor] = { ...node, below: Math.max(0, node.below + delta) }
  }
  return counted
}

/** How many keys a subtree on screen holds: the key itself, if it exists, and those below. */
export function keysIn(name) {
  const node = getState().config?.nodes[name]
  return node ? (node.exists ? 1 : 0) + node.below : 0
}

/** A key and everything below it are gone: drop them from the tree, count them off every
 * ancestor, and if the key panel showed one of them, show the parent instead. */
export function forgetKey(name) {
  const removed = keysIn(name)
  updateConfig((c) => {
    if (!c.nodes[name]) return {}
    const kept = {}
    for (const [path, node] of Object.entries(c.nodes)) {
      if (!isBelowOrSame(path, name)) kept[path] = node
    }
    const nodes = countedOff(kept, name, -removed)
    const parent = parentOf(name)
    if (nodes[parent]?.children) {
      nodes[parent] = { ...nodes[parent], children: nodes[parent].children.filter((c) => c !== name) }
    }
    const selectedGone = c.selected !== null && isBelowOrSame(c.selected, name)
    return { nodes, selected: selectedGone ? parent : c.selected }
  })
}

/** Keys came back (an undone delete): count them on every ancestor. */
export function countRestored(name, added) {
  updateConfig((c) => ({ nodes: countedOff(c.nodes, name, added) }))
}

export function flash(name) {
  const stamp = Date.now()
  updateConfig((c) => ({ flashes: { ...c.flashes, [name]: stamp } }))
  setTimeout(() => {
    updateConfig((c) => {
      if (c.flashes[name] !== stamp) return {}
      const flashes = { ...c.flashes }
      delete flashes[name]
      return { flashes }
    })
  }, 2500)
}

export function setVisibility(visibility) {
  updateConfig({ visibility })
}

export function setShowHidden(showHidden) {
  updateConfig({ showHidden })
}

/** Keys that the member's cluster owns: they are shown locked and cannot be edited here. */
export async function loadLocks(instance, clusters) {
  if (!instance || instance.cluster === null || instance.cluster === undefined) {
    updateConfig({ locked: {}, lockingCluster: null })
    return
  }
  const cluster = clusters.find((c) => c.id === instance.cluster)
  const owner = cluster?.name ?? `#${instance.cluster}`
  try {
    // `ls` of a get names the keys that exist (the cluster's keys), not the levels between.
    const state = await request('GET', kdbPath({ kind: 'cluster', id: instance.cluster }, 'kdb', '/'))
    if (!sameTarget({ kind: 'instance', id: instance.id })) return
    const locked = Object.fromEntries(state.ls.map((key) => [key, owner]))
    updateConfig({ locked, lockingCluster: { id: instance.cluster, name: owner } })
  } catch (error) {
    updateConfig({ lockingCluster: { id: instance.cluster, name: owner } })
    if (error.status !== 501) reportError(error, `Could not read the keys cluster ${owner} owns`)
  }
}

export function markLocked(name, owner) {
  updateConfig((c) => ({ locked: { ...c.locked, [name]: owner } }))
}

export function setSearch(change) {
  updateConfig((c) => ({ search: { ...c.search, ...change } }))
}

/** Search the whole target on the server: names, and values when asked. */
export async function runSearch() {
  const config = getState().config
  if (!config) return
  const { query, values } = config.search
  if (!query.trim()) {
    setSearch({ results: null, truncated: false, problem: null })
    return
  }
  setSearch({ loading: true, problem: null })
  try {
    const found = await request('GET', kdbPath(config.target, 'kdbFind', query), {
      query: { values: values ? 'true' : 'false', limit: '500' },
    })
    setSearch({ results: found.keys, truncated: found.truncated, loading: false })
  } catch (error) {
    // The old results answered another pattern: they go, and the refusal shows by the field.
    setSearch({ results: null, truncated: false, loading: false })
    if (error.status === 400) setSearch({ problem: error.message })
    else reportError(error, 'Search failed')
  }
}
