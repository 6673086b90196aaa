// Live changes from `/zmq/events`: keys changed anywhere (another browser, `kdb` on a host, a
// cluster apply), registry changes and audit entries. What is on screen is updated in place
// and highlighted (coalesced per frame, see config/changes.js); a key being edited keeps the
// user's draft and shows a warning instead. `resync` (this page fell behind and missed events)
// re-reads what is on screen, once.

import { getState, notify, update } from '../shared/store.js'
import { subscribeEvents } from '../shared/api.js'
import { loadRegistry, rememberStatus, rememberSync } from '../registry/registry.js'
import { loadAudit } from '../audit/audit.js'
import { loadLocks } from '../config/tree.js'
import { keyChanged, resync, subtreeChanged } from '../config/changes.js'
import { followMemberStates } from '../config/members.js'
import { reloadScreen } from './navigation.js'

const KEY_TOPIC = /^(instance|cluster)\/(\d+)\/(.+)$/s // after status and drift
const CLUSTER_STATUS = /^cluster\/(\d+)\/status$/
const CLUSTER_DRIFT = /^cluster\/(\d+)\/drift\/(.*)$/s
const INSTANCE_STATUS = /^registry\/instance\/(\d+)\/status$/

function debounced(run, ms = 150) {
  let timer = null
  return () => {
    clearTimeout(timer)
    timer = setTimeout(run, ms)
  }
}

const reloadRegistry = debounced(() => loadRegistry().catch(() => {}))
const reloadAudit = debounced(() => loadAudit())
const reloadLocks = debounced(() => {
  const { config, instances, clusters } = getState()
  if (config?.target.kind !== 'instance') return
  loadLocks(instances.find((i) => i.id === config.target.id), clusters)
})

/** Hand one key event (or subtree event) to the open configuration screen, if it shows that
 * target. */
function targetChanged(kind, id, key, event) {
  const config = getState().config
  if (!config) return
  const member = getState().instances.find((i) => i.id === config.target.id)
  if (kind === 'cluster' && config.target.kind === 'instance' && member?.cluster === id) {
    reloadLocks()
  }
  if (config.target.kind !== kind || config.target.id !== id) return
  if (event.subtree !== undefined) subtreeChanged(config.target, key)
  else keyChanged(config.target, key, event)
}

/** Re-read the registry and what is on screen: events were missed. */
export function reloadEverything() {
  loadRegistry().catch(() => {})
  return reloadScreen()
}

function driftReported(clusterId, key, report) {
  const cluster = getState().clusters.find((c) => c.id === clusterId)
  const restored = report.restored !== false && !report.error
  notify(`Drift in ${cluster?.name ?? `cluster ${clusterId}`}: ${key} was changed on a member` +
    (restored ? ' and restored' : ' and could not be restored yet'))
}

/** An audit entry is published once finished, so only then does a key's history hold it. */
function auditEntryFinished(entry) {
  update({ audited: { type: entry.target?.type, id: entry.target?.id, key: entry.key, entry: entry.id } })
  if (getState().route.screen === 'audit') reloadAudit()
}

/** One event from `/zmq/events`, by topic (docs/websocket.md, docs/clusters.md). */
export function handleEvent(topic, event) {
  let match
  if (topic === 'resync') {
    resync(reloadEverything)
  } else if ((match = CLUSTER_STATUS.exec(topic))) {
    rememberSync(Number(match[1]), event)
    followMemberStates(Number(match[1]), event.members ?? {})
  } else if ((match = CLUSTER_DRIFT.exec(topic))) {
    driftReported(Number(match[1]), match[2], event)
  } else if ((match = KEY_TOPIC.exec(topic))) {
    targetChanged(match[1], Number(match[2]), match[3], event)
  } else if ((match = INSTANCE_STATUS.exec(topic))) {
    rememberStatus(Number(match[1]), event)
  } else if (topic.startsWith('registry/')) {
    reloadRegistry()
  } else if (topic.startsWith('audit/')) {
    auditEntryFinished(event)
  }
}

/** Everything the page always follows: the registry, clusters' state and the audit log. */
export function followEverywhere() {
  const stops = ['registry/', 'cluster/', 'audit/'].map(subscribeEvents)
  return () => stops.forEach((stop) => stop())
}

/** Follow one instance's keys while its configuration is on screen. */
export function followTarget(target) {
  return target.kind === 'instance' ? subscribeEvents(`instance/${target.id}/`) : () => {}
}
