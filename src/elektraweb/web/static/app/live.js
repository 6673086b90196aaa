// Live changes from `/zmq/events`: keys changed anywhere (another browser, `kdb` on a host, a
// cluster apply), registry changes and audit entries. What is on screen is updated in place
// and highlighted; a key being edited keeps the user's draft and shows a warning instead.

import { getState } from './store.js'
import { subscribeEvents } from './api.js'
import { loadRegistry } from './registry.js'
import { loadAudit } from './audit.js'
import { applyKeyChange, flash, loadLocks, refreshKey } from './tree.js'
import { changedElsewhere } from './editing.js'

const TOPIC = /^(instance|cluster)\/(\d+)\/(.*)$/s

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

/** Apply one key event to the open configuration screen, if it shows that target. */
function keyChanged(kind, id, key, event) {
  const config = getState().config
  if (!config) return
  const member = getState().instances.find((i) => i.id === config.target.id)
  if (kind === 'cluster' && config.target.kind === 'instance' && member?.cluster === id) {
    reloadLocks()
  }
  if (config.target.kind !== kind || config.target.id !== id || !key.includes(':/')) return
  const node = config.nodes[key]
  const change = event.new
  if (change === undefined || change === null || !node) {
    refreshKey(key, { structural: !node || change === null })
  } else {
    applyKeyChange(key, {
      exists: true,
      value: change.value ?? null,
      meta: change.meta ?? {},
      revision: event.revision ?? null,
    })
  }
  const editor = getState().editor
  if (editor && editor.path === key && !editor.saving) {
    changedElsewhere(key, change ? change.value ?? null : null, event.origin ?? null)
  }
  flash(key)
}

export function handleEvent(topic, event) {
  const match = TOPIC.exec(topic)
  if (match) {
    const [, kind, id, key] = match
    keyChanged(kind, Number(id), key, event)
    if (kind === 'cluster' && !key.includes(':/')) reloadRegistry() // members' sync state
    return
  }
  if (topic.startsWith('registry/')) reloadRegistry()
  else if (topic.startsWith('audit/') && getState().route.screen === 'audit') reloadAudit()
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
