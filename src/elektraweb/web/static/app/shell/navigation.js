// Screens by URL hash: `#/`, `#/instances/3`, `#/clusters/2`, `#/audit`, `#/access`,
// `#/compare`; the back button works.

import { getState, reportError, update } from '../shared/store.js'
import { loadLocks, loadNode, openConfig } from '../config/tree.js'
import { followTarget } from './live.js'
import { loadAudit } from '../audit/audit.js'

let stopFollowing = () => {}
// `startSession` and `hashchange` both call showRoute, and their awaits can interleave: each
// call takes a number, and only the latest may still change the state after an await.
let routeGeneration = 0

function parse(hash) {
  const config = /^#\/(instances|clusters)\/(\d+)/.exec(hash)
  if (config) {
    return { screen: 'config', kind: config[1] === 'clusters' ? 'cluster' : 'instance', id: Number(config[2]) }
  }
  if (hash.startsWith('#/audit')) return { screen: 'audit' }
  if (hash.startsWith('#/access')) return { screen: 'access' }
  if (hash.startsWith('#/compare')) return { screen: 'compare', query: hash.split('?')[1] ?? '' }
  return { screen: 'overview' }
}

export function hrefFor(route) {
  if (route.screen === 'config') return `#/${route.kind === 'cluster' ? 'clusters' : 'instances'}/${route.id}`
  if (route.screen === 'audit') return '#/audit'
  if (route.screen === 'access') return '#/access'
  return '#/'
}

/** What a screen is called: in the page title and the breadcrumb. */
export function targetName(state, target) {
  const list = target.kind === 'cluster' ? state.clusters : state.instances
  return list.find((item) => item.id === target.id)?.name ?? `#${target.id}`
}

export function screenTitle(state) {
  const { route } = state
  if (route.screen === 'audit') return 'Audit log'
  if (route.screen === 'access') return 'Users and tokens'
  if (route.screen === 'compare') return 'Compare'
  if (route.screen === 'config') {
    return `${targetName(state, { kind: route.kind, id: route.id })} (${route.kind}) configuration`
  }
  return 'Overview'
}

/** Show the screen the hash names: open its data and follow its live changes. */
export async function showRoute() {
  const generation = ++routeGeneration
  const current = () => generation === routeGeneration
  const route = parse(location.hash)
  const previous = getState().route
  update({ route })
  const sameConfig =
    previous.screen === 'config' && route.screen === 'config' &&
    previous.kind === route.kind && previous.id === route.id && getState().config
  if (sameConfig) return
  stopFollowing()
  stopFollowing = () => {}
  if (route.screen === 'config') {
    const target = { kind: route.kind, id: route.id }
    stopFollowing = followTarget(target)
    try {
      await openConfig(target)
      if (!current()) return
      if (target.kind === 'instance') {
        const { instances, clusters } = getState()
        await loadLocks(instances.find((i) => i.id === target.id), clusters)
      }
    } catch (error) {
      if (current()) reportError(error, 'Could not open the configuration')
    }
  } else {
    update({ config: null, editor: null })
    if (route.screen === 'audit') await loadAudit()
  }
}

/** Re-read what is on screen: after a reconnect, events sent meanwhile are lost. */
export async function reloadScreen() {
  const { config, route } = getState()
  if (config) {
    const loaded = Object.values(config.nodes).filter((node) => node.children !== null)
    await Promise.all(loaded.map((node) => loadNode(node.path)))
  } else if (route.screen === 'audit') {
    await loadAudit()
  }
}

/** Follow hash changes; the session shows the first screen once it knows who is there. */
export function startRouting() {
  window.addEventListener('hashchange', () => {
    if (getState().session) showRoute()
  })
}
