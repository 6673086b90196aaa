// How times and sync states read on screen.

/** A time from clusterd (ISO text or seconds since the epoch) as a Date, or null. */
export function toDate(value) {
  if (value === null || value === undefined || value === '') return null
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

export function relativeTime(value) {
  const date = toDate(value)
  if (!date) return ''
  const seconds = Math.round((Date.now() - date.getTime()) / 1000)
  if (seconds < 60) return 'just now'
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`
  return date.toLocaleDateString()
}

export function exactTime(value) {
  const date = toDate(value)
  return date ? date.toLocaleString() : ''
}

export const SYNC_LABELS = {
  'in-sync': 'In sync',
  pending: 'Pending changes',
  rejected: 'Rejected',
  drift: 'Drift',
}
