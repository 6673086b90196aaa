// The confirm step of a write: clusterd previews it (`?preview=true`, nothing changes), the
// user sees what would change on each target and each cluster member, then applies or cancels,
// or (a cluster's subtree write) adds it to the cluster's draft instead.

import { getState, notify, update } from '../shared/store.js'
import { ApiError, askReason, giveReason, request } from '../shared/api.js'
import { addEdit } from '../releases/releases.js'

/**
 * Preview the write `method path` (with `query` and `body`) and ask the user, once: a
 * destructive write's `consequence` is said in the same step. Resolves true to apply it, false
 * if they cancelled. A preview that finds nothing to change still asks. A write refused on
 * every target is shown without Apply, and once closed rejects with the refusal, as the write
 * itself would have. A write refused everywhere for want of a reason (a critical key below a
 * subtree) asks for the reason first and is previewed again with it; the write that follows
 * takes that reason. With `draft` (`{cluster, edit, onDrafted}`), the step also offers "Add to
 * draft": the edit goes into that cluster's draft, nothing is written, and it resolves false
 * after calling `onDrafted(entry)`.
 */
export async function confirmChange(title, method, path, { body, query, consequence = null, draft = null } = {}) {
  let preview = await request(method, path, { body, query: { ...query, preview: 'true' } })
  const wanting = refusedEverywhere(preview.targets)
  let reason = null
  if (wanting?.code === 'reason-required' && !query?.reason) {
    reason = askReason(wanting)
    if (!reason) throw new ApiError(400, { error: wanting }, method, path)
    preview = await request(method, path, { body, query: { ...query, reason, preview: 'true' } })
  }
  // One question at a time: a new one answers the one before with "cancel".
  getState().confirm?.resolve(false)
  const answer = await new Promise((resolve) => {
    update({ confirm: { title, consequence, targets: preview.targets, draftable: draft !== null, resolve } })
  })
  const refusal = refusedEverywhere(preview.targets)
  if (refusal) throw new ApiError(400, { error: refusal }, method, path)
  if (answer === true && reason) giveReason(method, path, reason)
  if (answer !== 'draft') return answer
  const entry = await addEdit(draft.cluster, draft.edit)
  update((s) => ({ drafted: s.drafted + 1 }))
  notify(`Added to the draft: ${title}${entry.count ? ` (${entry.count} keys)` : ''}`)
  draft.onDrafted?.(entry)
  return false
}

/** The refusal a write meets on every target of its preview, or null if it changes something. */
export function refusedEverywhere(targets) {
  return targets.every((target) => target.refused) ? targets[0]?.refused ?? null : null
}

/** Answer the confirm step: true (apply), false (cancel) or 'draft' (add to the draft). */
export function answerConfirm(answer) {
  const confirm = getState().confirm
  if (!confirm) return
  update({ confirm: null })
  confirm.resolve(answer)
}
