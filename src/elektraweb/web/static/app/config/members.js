// What a cluster write did on each member, read from clusterd's reply or error, and kept up to
// date by cluster events (a pending member that comes back is applied without anyone clicking).

import { getState, update } from '../shared/store.js'

function outcome(id, result) {
  if (typeof result === 'string') return { id, status: result, reason: null }
  const status = result.status ?? result.state ??
    (result.ok === true ? 'applied' : result.error ? 'rejected' : 'unknown')
  const reason = result.error?.message ?? result.reason ?? result.message ?? null
  return { id, status, reason }
}

/** [{id, status, reason}] for each member, whatever shape (object or list) the reply has. */
export function memberOutcomes(results) {
  const source = results.reply ?? results.error ?? {}
  const members = source.members ?? source.results ?? null
  if (!members) return []
  if (Array.isArray(members)) {
    return members.map((m) => outcome(Number(m.instance ?? m.id ?? m.member), m))
  }
  return Object.entries(members).map(([id, result]) => outcome(Number(id), result))
}

/** A cluster's sync state changed: members that were pending for the key shown have caught up
 * (in sync) or refused it; the results on screen follow without anyone clicking. */
export function followMemberStates(clusterId, memberStates) {
  const results = getState().memberResults
  const target = getState().config?.target
  if (!results?.reply?.members || target?.kind !== 'cluster' || target.id !== clusterId) return
  const members = { ...results.reply.members }
  let changed = false
  for (const [id, result] of Object.entries(members)) {
    const now = memberStates[id]
    if (!now || result.status !== 'pending') continue
    const refusal = now.rejected?.[results.key]
    if (now.state === 'in-sync') members[id] = { ...result, status: 'applied', error: undefined }
    else if (refusal) members[id] = { ...result, status: 'rejected', error: refusal }
    else continue
    changed = true
  }
  if (changed) update({ memberResults: { ...results, reply: { ...results.reply, members } } })
}

export function dismissMemberResults() {
  update({ memberResults: null })
}
