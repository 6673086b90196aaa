// The audit log screen: entries newest first, filtered by instance, cluster, user and key.

import { getState, reportError, update } from '../shared/store.js'
import { request } from '../shared/api.js'

const PAGE = 100

function query(filters, before) {
  const query = { limit: String(PAGE) }
  for (const [name, value] of Object.entries(filters)) if (value) query[name] = String(value)
  if (before) query.before = String(before)
  return query
}

export async function loadAudit(filters = getState().audit.filters) {
  update((s) => ({ audit: { ...s.audit, filters, loading: true } }))
  try {
    const entries = await request('GET', '/api/audit', { query: query(filters) })
    update((s) => ({ audit: { ...s.audit, entries, loading: false, more: entries.length === PAGE } }))
  } catch (error) {
    update((s) => ({ audit: { ...s.audit, loading: false } }))
    reportError(error, 'Could not read the audit log')
  }
}

export async function loadOlder() {
  const { filters, entries } = getState().audit
  const last = entries[entries.length - 1]
  if (!last) return
  try {
    const older = await request('GET', '/api/audit', { query: query(filters, last.id) })
    update((s) => ({
      audit: { ...s.audit, entries: [...s.audit.entries, ...older], more: older.length === PAGE },
    }))
  } catch (error) {
    reportError(error, 'Could not read the audit log')
  }
}
