// The configuration screen's tree: which keys are loaded, expanded, selected, searched.
// Children load lazily with one `GET .../kdb/{key}?preload=1&ls=0` per expanded key: one level,
// with each node's real count of keys and none of their names, so opening a large instance
// costs one small request per namespace, whatever its size.

import { getState, reportError, update } from '../shared/store.js'
import { kdbPath, request } from '../shared/api.js'
import { ancestorsOf, escapedParts, isArrayPart, isBelowOrSame, NAMESPACES, parentOf } from './keynames.js'

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
  return Promise.all(roots.map((root) => loadNode(root, { open: OPENED_AT_FIRST.includes(root) })))
}

// Opened by the screen if they hold keys, in the same update that first shows them: never seen
// closed, so a click on the twisty of one that looks closed cannot race the opening and close it.
const OPENED_AT_FIRST = ['user:/', 'system:/']

function sameTarget(target) {
  const current = getState().config?.target
  return current && current.kind === target.kind && current.id === target.id
}

/** Read a key with its children (one level) and put both into the tree; false if it failed
 * (the error is shown). `open`: expand it too if it has children, unless the user has opened
 * or closed it already. */
export async function loadNode(path, { open = false } = {}) {
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
      const opened = open && c.expanded[path] === undefined && node.below > 0
      const expanded = opened ? { ...c.expanded, [path]: true } : c.expanded
      return { nodes, expanded, loading: { ...c.loading, [path]: false } }
    })
    return true
  } catch (error) {
    updateConfig((c) => ({ loading: { ...c.loading, [path]: false } }))
    reportError(error, `Could not read ${path}`)
    return false
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

/** Read one key again after a change. When keys came or went (`structural`) and the key is
 * not in the tree, its branch below the deepest level on screen is read instead, so that it
 * appears: never that level itself, which may be a whole namespace. */
export async function refreshKey(name, { structural = false } = {}) {
  const config = getState().config
  if (!config) return
  if (config.nodes[name]) {
    await reloadNode(name)
  } else if (structural) {
    const branch = branchOnScreen(name)
    if (branch) await reloadNode(branch)
  }
}

let counting = Promise.resolve()

/** Run `change`, which adds to or takes from the ancestors' counts, after those queued before
 * it. A read counts what its key gained between a count taken before it and one after; a
 * change in between (another read of the key, or the page's own delete forgetting it) would be
 * counted twice. */
function inTurn(change) {
  const done = counting.then(change)
  counting = done.catch(() => {}) // a failed read must not stop the ones queued after it
  return done
}

/** Read a key in the tree (or a new branch of a level on screen) again: its loaded ancestors'
 * counts follow, a new branch joins its parent's children, and one left empty goes. */
export function reloadNode(path) {
  return inTurn(() => reloadNow(path))
}

async function reloadNow(path) {
  const before = keysIn(path)
  if (!(await loadNode(path))) return
  const after = keysIn(path)
  const parent = parentOf(path)
  updateConfig((c) => {
    const nodes = countedOff(c.nodes, path, after - before)
    const siblings = nodes[parent]?.children
    if (after > 0 && siblings && !siblings.includes(path)) {
      nodes[parent] = { ...nodes[parent], children: withChild(siblings, path) }
    }
    return { nodes }
  })
  if (after === 0 && parent !== null) forgetNow(path)
}

/** What to read when keys at or below `name`, which is not in the tree, changed: the one of its
 * ancestors (or itself) just below the deepest level whose children are loaded, never that
 * level, which may be a whole namespace. Reading it, rather than counting what events say came
 * or went, keeps the counts right when the page's own write already counted them. */
export function branchOnScreen(name) {
  const nodes = getState().config?.nodes ?? {}
  const line = [...ancestorsOf(name), name]
  for (let index = line.length - 2; index >= 0; index--) {
    if (nodes[line[index]]?.children) return line[index + 1]
  }
  return null
}

/** `children` with `path` added in order: array elements by number, other parts by text. */
function withChild(children, path) {
  const part = (name) => escapedParts(name).at(-1) ?? ''
  const before = (a, b) => (isArrayPart(a) && isArrayPart(b)
    ? Number(a.replace(/\D/g, '')) < Number(b.replace(/\D/g, ''))
    : a < b)
  const at = children.findIndex((child) => before(part(path), part(child)))
  return at < 0 ? [...children, path] : [...children.slice(0, at), path, ...children.slice(at)]
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
function keysIn(name) {
  const node = getState().config?.nodes[name]
  return node ? (node.exists ? 1 : 0) + node.below : 0
}

/** A key and everything below it are gone: drop them from the tree, count them off every
 * ancestor, and if the key panel showed one of them, show the parent instead; in turn with
 * the reads, which count too. */
export function forgetKey(name) {
  return inTurn(() => forgetNow(name))
}

function forgetNow(name) {
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
