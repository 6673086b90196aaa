// The one place the page's state lives. Modules change it with `update`; `StoreRoot` renders
// the page again after every change (coalesced into one render per tick), and components read
// the part they show with `useStore(selector)` while rendering.

import { Component, h } from 'preact'

const initial = {
  session: null, // {user, role} once logged in
  sessionChecked: false,
  connection: { requests: 'connecting', events: 'connecting' },
  route: { screen: 'overview' },
  instances: [],
  clusters: [],
  registryLoaded: false,
  sync: { clusters: {}, members: {} }, // sync states from `cluster/<id>/status` events
  loginMessage: null,
  config: null, // the configuration screen: see tree.js
  editor: null, // the key being edited: see editing.js
  memberResults: null, // the last cluster write: {action, key, reply | error, at}
  history: { undo: null, redo: null }, // what undo and redo revert, from clusterd: see history/undo.js
  confirm: null, // a write waiting for the user to confirm its previewed changes: see history/preview.js
  drafted: 0, // edits added to a cluster's draft from a confirm step, counted: releases/ReleasesDialog.js
  audit: { filters: {}, entries: [], loading: false },
  audited: null, // the newest finished audit entry published, {type, id, key, entry}: history/KeyHistory.js
  errors: [], // {id, message, cause, details, count}
  notices: [], // {id, message, action?, held, expired}: short-lived, e.g. "Deleted … — Undo"
  clock: Date.now(), // advanced every 30 s, so that "since 2 min ago" ages
}

let state = initial
const listeners = new Set()

export function getState() {
  return state
}

/** Change the state: `changes` is an object merged at the top, or a function of the state. */
export function update(changes) {
  const next = typeof changes === 'function' ? changes(state) : changes
  state = { ...state, ...next }
  for (const listener of [...listeners]) listener()
}

export function resetState() {
  update({ ...initial, sessionChecked: true })
}

export function subscribe(listener) {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** The part of the state `selector` picks, read while rendering. */
export function useStore(selector) {
  return selector(state)
}

/**
 * Renders `page` again after every change of the state (preact coalesces the changes of one
 * tick into one render). One subscription at the root is deliberately simple: per-component
 * subscriptions through hook state occasionally missed a render in the browser tests, which a
 * user would see as a screen that does not follow a click.
 */
export class StoreRoot extends Component {
  componentDidMount() {
    this.unsubscribe = subscribe(() => this.forceUpdate())
    this.forceUpdate() // the state may have changed before mounting
  }

  componentWillUnmount() {
    this.unsubscribe()
  }

  render({ page }) {
    return h(page, null)
  }
}

let nextMessageId = 1

/** What went wrong, in the words of someone using the page; the request stays in `details`. */
export function plainWording(error) {
  if (error.name === 'ConnectionLost') {
    return 'the connection to clusterd broke before the answer came; check whether the change was made'
  }
  const instance = state.instances.find((i) => i.id === error.error?.instance)
  const which = instance ? `instance ${instance.name}` : 'the instance'
  if (error.code === 'unreachable') return `${which} cannot be reached; it may be offline`
  if (error.code === 'timeout') return `${which} did not answer in time`
  if (error.status >= 500 && !error.error?.message) return `clusterd could not do it (status ${error.status})`
  if (error instanceof TypeError) return 'clusterd could not be reached'
  return String(error.message ?? error)
}

/**
 * Show an error until the user dismisses it; `details` are shown on demand. An error like one
 * already shown (same cause, e.g. four namespaces of an offline instance) joins it as a count
 * instead of piling up another card.
 */
export function reportError(error, context) {
  const cause = plainWording(error)
  const message = context ? `${context}: ${cause}` : cause
  const details = error.details ?? (error.stack ? String(error.stack) : null)
  const same = state.errors.find((shown) => shown.cause === cause)
  if (same) {
    update((s) => ({ errors: s.errors.map((e) => (e === same ? { ...e, count: e.count + 1 } : e)) }))
    return same.id
  }
  const id = nextMessageId++
  update((s) => ({ errors: [...s.errors, { id, message, cause, details, count: 1 }] }))
  return id
}

export function dismissError(id) {
  update((s) => ({ errors: s.errors.filter((error) => error.id !== id) }))
}

export function dismissAllErrors() {
  update({ errors: [] })
}

/** A short notice that goes away by itself, but not while it holds the focus or the pointer
 * (an Undo button that vanishes under the user's hand); `action` is an optional {label, run}. */
export function notify(message, action = null, seconds = 8) {
  const id = nextMessageId++
  update((s) => ({ notices: [...s.notices, { id, message, action, held: false, expired: false }] }))
  setTimeout(() => expireNotice(id), seconds * 1000)
  return id
}

function changeNotice(id, change) {
  update((s) => ({ notices: s.notices.map((n) => (n.id === id ? { ...n, ...change } : n)) }))
}

function expireNotice(id) {
  const notice = state.notices.find((n) => n.id === id)
  if (notice?.held) changeNotice(id, { expired: true })
  else dismissNotice(id)
}

/** The user's focus or pointer is on the notice (`held`) or has left it. */
export function holdNotice(id, held) {
  const notice = state.notices.find((n) => n.id === id)
  if (!notice) return
  if (!held && notice.expired) dismissNotice(id)
  else changeNotice(id, { held })
}

export function dismissNotice(id) {
  update((s) => ({ notices: s.notices.filter((notice) => notice.id !== id) }))
}

/** Render relative times ("offline since 3 min ago") again as they age. */
export function startClock(ms = 30_000) {
  setInterval(() => update({ clock: Date.now() }), ms)
}
