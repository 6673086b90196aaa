// The one place the page's state lives. Modules change it with `update`; components read the
// part they show with `useStore(selector)` and render again only when that part changed.

import { useLayoutEffect, useReducer, useRef } from 'preact/hooks'

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
  memberResults: null, // the last cluster write: {action, key, members}
  history: { undo: [], redo: [] },
  audit: { filters: {}, entries: [], loading: false },
  errors: [], // {id, message, details}
  notices: [], // {id, message, undo?}: short-lived, e.g. "key deleted — Undo"
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

function shallowEqual(a, b) {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((key) => Object.is(a[key], b[key]))
}

/** The part of the state `selector` picks; the component renders again when it changes. */
export function useStore(selector) {
  const [, rerender] = useReducer((count) => count + 1, 0)
  const selectorRef = useRef(selector)
  selectorRef.current = selector
  const selected = selector(state)
  const selectedRef = useRef(selected)
  selectedRef.current = selected
  useLayoutEffect(() => {
    const check = () => {
      let next
      try {
        next = selectorRef.current(state)
      } catch {
        rerender() // what it selected is gone; the parent will unmount it
        return
      }
      if (!shallowEqual(next, selectedRef.current)) rerender()
    }
    const unsubscribe = subscribe(check)
    check() // the state may have changed between rendering and subscribing
    return unsubscribe
  }, [])
  return selected
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
