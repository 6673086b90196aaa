// A cluster's staged changes (docs/api.md §Releases): its draft, the draft's diff (the
// publish's preview), publishing it as one release (to canary members first, if chosen), and
// promoting or rolling back a release.

import { request } from '../shared/api.js'

const base = (clusterId) => `/api/clusters/${clusterId}`

export const readDraft = (clusterId) => request('GET', `${base(clusterId)}/draft`)

export const readReleases = (clusterId) => request('GET', `${base(clusterId)}/releases`)

export function addEdit(clusterId, edit) {
  return request('POST', `${base(clusterId)}/draft`, { body: edit })
}

export function removeEdit(clusterId, editId) {
  return request('DELETE', `${base(clusterId)}/draft/${editId}`)
}

/** What publishing the draft would change: the desired state's, then each member's. */
export async function draftDiff(clusterId) {
  const answer = await request('POST', `${base(clusterId)}/draft/publish`, {
    body: { message: 'diff' },
    query: { preview: 'true' },
  })
  return answer.targets
}

export function publish(clusterId, message, canary) {
  return request('POST', `${base(clusterId)}/draft/publish`, { body: { message, canary } })
}

export function promote(clusterId, releaseId) {
  return request('POST', `${base(clusterId)}/releases/${releaseId}/promote`)
}

export function rollBack(clusterId, releaseId) {
  return request('POST', `${base(clusterId)}/releases/${releaseId}/rollback`)
}
