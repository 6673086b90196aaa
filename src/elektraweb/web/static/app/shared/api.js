// clusterd's API as the page uses it: every request over `/zmq`, except logging in and out,
// which are plain HTTP because only an HTTP response can set or clear the session cookie.

import { Dealer, Subscriber } from './zws.js'

export class ApiError extends Error {
  constructor(status, body, method, path) {
    const error = body?.error ?? {}
    super(error.message ?? `${method} ${path} answered ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.code = error.code ?? `http-${status}`
    this.error = error
    this.details = JSON.stringify({ request: `${method} ${path}`, status, ...body }, null, 2)
  }
}

let dealer = null
let subscriber = null

/** Open the two WebSockets; `handlers` receive connection states, closes and events. */
export function connect({ onState, onEvent, onResubscribed, onClose }) {
  disconnect()
  const base = location.origin.replace(/^http/, 'ws')
  dealer = new Dealer(`${base}/zmq`, {
    onState: (state) => onState('requests', state),
    onClose,
  })
  subscriber = new Subscriber(`${base}/zmq/events`, {
    onState: (state) => onState('events', state),
    onEvent,
    onResubscribed,
    onClose,
  })
}

export function disconnect() {
  dealer?.close()
  subscriber?.close()
  dealer = subscriber = null
}

export function reconnectNow() {
  dealer?.retryNow()
  subscriber?.retryNow()
}

export function subscribeEvents(prefix) {
  subscriber?.subscribe(prefix)
  return () => subscriber?.unsubscribe(prefix)
}

/** The reason the user gives for a write to a critical key that was refused for want of one
 * (`refusal`: its error, which names the key), asked in the browser's own prompt; null if
 * they cancelled. */
export function askReason(refusal) {
  const reason = window.prompt(`${refusal.message}.\nReason for this change (kept in the audit log):`, '')
  return reason?.trim() || null
}

// Reasons given at a write's confirm step (history/preview.js), by `method path`: the next
// request of that write is sent with it, once, whatever its outcome.
const givenReasons = new Map()

/** Send the next `method path` request with `reason`. */
export function giveReason(method, path, reason) {
  givenReasons.set(`${method} ${path}`, reason)
}

/** One API request over `/zmq`; resolves with the body, throws ApiError for status ≥ 400.
 * A write to a critical key without a reason (400 reason-required) asks the user for one,
 * in the browser's own prompt, and is sent again with it; cancelled, the refusal stands. */
export async function request(method, path, { body, query } = {}) {
  if (!dealer) throw new Error('not connected to clusterd')
  const given = givenReasons.get(`${method} ${path}`)
  if (given !== undefined) {
    givenReasons.delete(`${method} ${path}`)
    if (!query?.reason) query = { ...query, reason: given }
  }
  const reply = await dealer.request(method, path, { body, query })
  if (reply.status >= 400) {
    const error = new ApiError(reply.status, reply.body, method, path)
    if (error.code !== 'reason-required' || query?.reason) throw error
    const reason = askReason(error)
    if (!reason) throw error
    return request(method, path, { body, query: { ...query, reason } })
  }
  return reply.body
}

async function http(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'elektra-web' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  const parsed = text ? JSON.parse(text) : null
  if (!response.ok) throw new ApiError(response.status, parsed, method, path)
  return parsed
}

export const login = (user, password) => http('POST', '/api/login', { user, password })
export const logout = () => http('POST', '/api/logout')
/** Who the session cookie belongs to, or null: asked once when the page opens. */
export async function whoAmI() {
  try {
    return await http('GET', '/api/me')
  } catch (error) {
    if (error.status === 401) return null
    throw error
  }
}

// Paths. A target is {kind: 'instance' | 'cluster', id}; key names are encoded whole, so `/`,
// `%`, `#` and `?` inside them survive (clusterd decodes the path once).

export function targetPath(target) {
  return `/api/${target.kind === 'cluster' ? 'clusters' : 'instances'}/${target.id}`
}

export function kdbPath(target, operation, key) {
  return `${targetPath(target)}/${operation}/${encodeURIComponent(key)}`
}
