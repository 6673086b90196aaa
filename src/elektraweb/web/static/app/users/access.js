// Users, API tokens and passwords: the screen keeps what it shows itself, read again after
// each change; refusals are thrown to the form that asked, to be shown by its field.

import { request } from '../shared/api.js'

export const listUsers = () => request('GET', '/api/users')
export const addUser = (fields) => request('POST', '/api/users', { body: fields })
export const changeRole = (name, role) =>
  request('PUT', `/api/users/${encodeURIComponent(name)}`, { body: { role } })
/** One's own password: clusterd asks for the current one. */
export const changePassword = (name, password, currentPassword) =>
  request('PUT', `/api/users/${encodeURIComponent(name)}`, {
    body: { password, current_password: currentPassword },
  })
export const removeUser = (name) => request('DELETE', `/api/users/${encodeURIComponent(name)}`)

export const listTokens = () => request('GET', '/api/tokens')
/** A new token: its `token` (the secret) is in this answer only. */
export const addToken = (fields) => request('POST', '/api/tokens', { body: fields })
export const revokeToken = (id) => request('DELETE', `/api/tokens/${id}`)

export const ROLES = ['viewer', 'editor', 'admin']
