// Instances, clusters and memberships: read from clusterd, changed by admins. Refusals (a
// duplicate instance, an instance already in a cluster) are thrown to the form that asked, so
// it can show them next to the field.

import { update } from '../shared/store.js'
import { request } from '../shared/api.js'

export async function loadRegistry() {
  const [instances, clusters] = await Promise.all([
    request('GET', '/api/instances'),
    request('GET', '/api/clusters'),
  ])
  update({ instances, clusters, registryLoaded: true })
}

async function changed(reply) {
  await loadRegistry()
  return reply
}

export const addInstance = (fields) =>
  request('POST', '/api/instances', { body: fields }).then(changed)
export const changeInstance = (id, fields) =>
  request('PUT', `/api/instances/${id}`, { body: fields }).then(changed)
export const removeInstance = (id) => request('DELETE', `/api/instances/${id}`).then(changed)

// Enrollment (docs/api.md, Enrollment): a pending instance waits for an admin to decide.
export const isPending = (instance) => instance.state === 'pending'
export const acceptInstance = (id) =>
  request('POST', `/api/instances/${id}/accept`).then(changed)
export const rejectInstance = (id) =>
  request('POST', `/api/instances/${id}/reject`).then(changed)
export const createEnrollmentToken = (fields) =>
  request('POST', '/api/enrollment-tokens', { body: fields })

export const addCluster = (fields) =>
  request('POST', '/api/clusters', { body: fields }).then(changed)
export const changeCluster = (id, fields) =>
  request('PUT', `/api/clusters/${id}`, { body: fields }).then(changed)
export const removeCluster = (id) => request('DELETE', `/api/clusters/${id}`).then(changed)

export const addMember = (clusterId, instanceId) =>
  request('POST', `/api/clusters/${clusterId}/instances`, { body: { instance: instanceId } }).then(
    changed,
  )
export const removeMember = (clusterId, instanceId) =>
  request('DELETE', `/api/clusters/${clusterId}/instances/${instanceId}`).then(changed)

/** Which form field a refusal is about, from its details or its wording. */
export function refusedField(error, fields) {
  const named = error.error?.field
  if (named && fields.includes(named)) return named
  const message = (error.message ?? '').toLowerCase()
  return fields.find((field) => message.includes(field.replace('_', ' '))) ?? fields[0]
}

/** The public key in groups of five, as people compare keys by eye. */
export function fingerprint(publicKey) {
  return (publicKey ?? '').match(/.{1,5}/g)?.join(' ') ?? ''
}

/** In sync, pending, rejected or drift: from the registry's answer if it says, else from the
 * last `cluster/<id>/status` event; null while nobody has said. */
export function syncState(sync, kind, item) {
  const said = item?.sync ?? item?.status?.sync
  if (said) return typeof said === 'string' ? said : said.state ?? null
  if (kind === 'cluster') return sync.clusters[item.id] ?? null
  return item.cluster == null ? null : sync.members[item.id] ?? null
}

/** Remember the sync states a `cluster/<id>/status` event reports. */
export function rememberSync(clusterId, status) {
  update((s) => {
    const members = { ...s.sync.members }
    for (const [id, member] of Object.entries(status.members ?? {})) members[id] = member.state
    return { sync: { clusters: { ...s.sync.clusters, [clusterId]: status.state }, members } }
  })
}

/** A link status event: the instance went online or offline. */
export function rememberStatus(instanceId, status) {
  update((s) => ({
    instances: s.instances.map((i) =>
      i.id === instanceId ? { ...i, status: { ...i.status, ...status } } : i,
    ),
  }))
}
