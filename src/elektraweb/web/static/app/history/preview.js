// The confirm step of a write: clusterd previews it (`?preview=true`, nothing changes), the
// user sees what would change on each target and each cluster member, then applies or cancels.

import { getState, update } from '../shared/store.js'
import { ApiError, request } from '../shared/api.js'

/**
 * Preview the write `method path` (with `query` and `body`) and ask the user, once: a
 * destructive write's `consequence` is said in the same step. Resolves true to apply it, false
 * if they cancelled. A preview that finds nothing to change still asks. A write refused on
 * every target is shown without Apply, and once closed rejects with the refusal, as the write
 * itself would have.
 */
export async function confirmChange(title, method, path, { body, query, consequence = null } = {}) {
  const preview = await request(method, path, { body, query: { ...query, preview: 'true' } })
  // One question at a time: a new one answers the one before with "cancel".
  getState().confirm?.resolve(false)
  const apply = await new Promise((resolve) => {
    update({ confirm: { title, consequence, targets: preview.targets, resolve } })
  })
  const refusal = refusedEverywhere(preview.targets)
  if (refusal) throw new ApiError(400, { error: refusal }, method, path)
  return apply
}

/** The refusal a write meets on every target of its preview, or null if it changes something. */
export function refusedEverywhere(targets) {
  return targets.every((target) => target.refused) ? targets[0]?.refused ?? null : null
}

export function answerConfirm(apply) {
  const confirm = getState().confirm
  if (!confirm) return
  update({ confirm: null })
  confirm.resolve(apply)
}
