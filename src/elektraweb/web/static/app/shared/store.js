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
  history: { undo: [], redo: [] },
  audit: { filters: {}, entries: [], loading: false },
  errors: [], // {id, message, details}
  notices: [], // {id, message, action?}: short-lived, e.g. "Deleted … — Undo"
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

/** Show an error until the user dismisses it; `details` are shown on demand. */
export function reportError(error, context) {
  const message = context ? `${context}: ${error.message ?? error}` : String(error.message ?? error)
  const details = error.details ?? (error.stack ? String(error.stack) : null)
  const id = nextMessageId++
  update((s) => ({ errors: [...s.errors, { id, message, details }] }))
  return id
}

export function dismissError(id) {
  update((s) => ({ errors: s.errors.filter((error) => error.id !== id) }))
}

/** A short notice that goes away by itself; `action` is an optional {label, run} button. */
export function notify(message, action = null, seconds = 8) {
  const id = nextMessageId++
  update((s) => ({ notices: [...s.notices, { id, message, action }] }))
  setTimeout(() => dismissNotice(id), seconds * 1000)
  return id
}

export function dismissNotice(id) {
  update((s) => ({ notices: s.notices.filter((notice) => notice.id !== id) }))
}
