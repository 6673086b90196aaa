// Comparing two targets: the `#/compare?a=instance:1&b=cluster:3&key=system:/app` screen's
// address, the comparison itself, and copying one side's value to the other (an ordinary set).

import { kdbPath, request } from '../shared/api.js'

/** `{kind, id}` from `instance:1`; null if it is not one. */
export function sideOf(text) {
  const found = /^(instance|cluster):(\d+)$/.exec(text ?? '')
  return found ? { kind: found[1], id: Number(found[2]) } : null
}

export const sideText = (target) => `${target.kind}:${target.id}`

export function compareHref(a, b, key) {
  const query = new URLSearchParams({ a: sideText(a), b: sideText(b), key })
  return `#/compare?${query}`
}

/** The comparison the hash asks for: `{a, b, key}`, or null when it names no two targets. */
export function parseCompare(hash) {
  const query = new URLSearchParams(hash.split('?')[1] ?? '')
  const a = sideOf(query.get('a'))
  const b = sideOf(query.get('b'))
  return a && b ? { a, b, key: query.get('key') || 'system:/' } : null
}

export function compare({ a, b, key }) {
  return request('GET', '/api/compare', { query: { a: sideText(a), b: sideText(b), key } })
}

/** Write `value` to `name` on `target`: audited, and it needs the editor role like any set. */
export function copyValue(target, name, value) {
  return request('PUT', kdbPath(target, 'kdb', name), { body: value })
}
