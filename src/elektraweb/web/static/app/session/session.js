// Logging in and out, and the two WebSockets that live as long as the session.

import { getState, reportError, resetState, update } from '../shared/store.js'
import * as api from '../shared/api.js'
import { loadRegistry } from '../registry/registry.js'
import { followEverywhere, handleEvent, reloadEverything } from '../shell/live.js'
import { showRoute } from '../shell/navigation.js'
import { refreshUndo } from '../history/undo.js'

const POLICY_VIOLATION = 1008 // clusterd ends the sockets of a session that ended

let stopFollowing = () => {}
let checkingSession = false

async function sessionMayHaveEnded() {
  if (checkingSession || !getState().session) return
  checkingSession = true
  try {
    if ((await api.whoAmI()) === null) endSession('Your session has ended. Please log in again.')
  } catch {
    // clusterd unreachable: the sockets keep retrying and the banner says so
  } finally {
    checkingSession = false
  }
}

function endSession(message) {
  stopFollowing()
  api.disconnect()
  resetState()
  if (message) update({ loginMessage: message })
}

async function startSession(me) {
  update({ session: me, sessionChecked: true, loginMessage: null })
  api.connect({
    onState: (socket, state) =>
      update((s) => ({ connection: { ...s.connection, [socket]: state } })),
    onEvent: handleEvent,
    onResubscribed: () => {
      reloadEverything()
      refreshUndo()
    },
    onClose: (event, everOpened) => {
      if (event.code === POLICY_VIOLATION || !everOpened) sessionMayHaveEnded()
    },
  })
  stopFollowing = followEverywhere()
  try {
    await loadRegistry()
  } catch (error) {
    reportError(error, 'Could not read instances and clusters')
  }
  refreshUndo() // undo is kept by clusterd: it survives a reload
  await showRoute()
}

/** When the page opens: continue the session the cookie holds, or show the login. */
export async function resumeSession() {
  try {
    const me = await api.whoAmI()
    if (me) return startSession({ user: me.user, role: me.role })
  } catch (error) {
    reportError(error, 'clusterd did not answer')
  }
  update({ sessionChecked: true })
}

export async function logIn(user, password) {
  const me = await api.login(user, password)
  await startSession({ user: me.name, role: me.role })
}

export async function logOut() {
  try {
    await api.logout()
  } catch (error) {
    if (error.status !== 401) reportError(error, 'Logging out failed')
  }
  endSession(null)
}

export function canEdit(session) {
  return session?.role === 'editor' || session?.role === 'admin'
}

export function isAdmin(session) {
  return session?.role === 'admin'
}
