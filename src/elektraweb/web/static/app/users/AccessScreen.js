import { useEffect, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { reportError, useStore } from '../shared/store.js'
import { isAdmin } from '../session/session.js'
import { ConfirmButton } from '../shared/ConfirmButton.js'
import { Field } from '../shared/Field.js'
import {
  ROLES, addToken, addUser, changePassword, changeRole, listTokens, listUsers, removeUser,
  revokeToken,
} from './access.js'

/** `[items, reload]`: what `load` answers, read on mount and again on `reload()`. */
function useLoaded(load, what) {
  const [items, setItems] = useState(null)
  const reload = () => load().then(setItems).catch((error) => reportError(error, `Could not read ${what}`))
  useEffect(() => { reload() }, [])
  return [items, reload]
}

/** `[problem, submit, field]`: a form's submit handler that runs `action` and shows its
 * refusal; `field` is the request field the refusal names, if any, so it shows there. */
function useSubmit(action) {
  const [refusal, setRefusal] = useState(null)
  async function submit(event) {
    event.preventDefault()
    try {
      await action()
      setRefusal(null)
    } catch (error) {
      setRefusal({ message: error.message, field: error.error?.field ?? null })
    }
  }
  return [refusal?.message ?? null, submit, refusal?.field ?? null]
}

/** One's own password: the current one is asked for too, so an open session alone cannot
 * take the account over; clusterd ends one's other sessions, this one stays. */
function PasswordForm({ user }) {
  const [current, setCurrent] = useState('')
  const [password, setPassword] = useState('')
  const [repeated, setRepeated] = useState('')
  const [done, setDone] = useState(false)
  const [problem, submit, field] = useSubmit(async () => {
    setDone(false)
    if (password !== repeated) throw new Error('The two passwords differ.')
    await changePassword(user, password, current)
    setCurrent('')
    setPassword('')
    setRepeated('')
    setDone(true)
  })
  const currentProblem = field === 'current_password' ? problem : null

  return html`
    <section class="panel" aria-labelledby="password-title">
      <h2 id="password-title">Your password</h2>
      <form class="form form-inline" onSubmit=${submit}>
        <${Field} label="Current password" error=${currentProblem}>${(id, described) => html`
          <input id=${id} name="current-password" type="password" autocomplete="current-password"
            required value=${current} onInput=${(e) => setCurrent(e.currentTarget.value)}
            aria-describedby=${described} />`}<//>
        <${Field} label="New password" error=${currentProblem ? null : problem}>${(id, described) => html`
          <input id=${id} name="new-password" type="password" autocomplete="new-password" required
            value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} aria-describedby=${described} />`}<//>
        <${Field} label="Repeat it">${(id) => html`
          <input id=${id} name="repeat-password" type="password" autocomplete="new-password" required
            value=${repeated} onInput=${(e) => setRepeated(e.currentTarget.value)} />`}<//>
        <div class="form-actions"><button class="primary" type="submit">Change password</button></div>
        ${done && html`<p class="notice-inline" role="status">Your password was changed; your other sessions have ended.</p>`}
      </form>
    </section>
  `
}

function NewToken({ created, onDone }) {
  return html`
    <div class="warning" role="alert" data-testid="new-token">
      <p><strong>Copy the token ${created.name} now:</strong> it is shown only this once.</p>
      <p><code class="secret" data-testid="token-secret">${created.token}</code></p>
      <button onClick=${onDone}>I have copied it</button>
    </div>
  `
}

function TokensPanel({ session }) {
  const [tokens, reload] = useLoaded(listTokens, 'the API tokens')
  const [name, setName] = useState('')
  const [role, setRole] = useState(session.role)
  const [created, setCreated] = useState(null)
  const roles = ROLES.slice(0, ROLES.indexOf(session.role) + 1)
  const [problem, submit] = useSubmit(async () => {
    setCreated(await addToken({ name, role }))
    setName('')
    reload()
  })

  return html`
    <section class="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p class="muted small">For scripts: send one as <code>Authorization: Bearer …</code>.
        ${isAdmin(session) ? ' As an admin you see everyone’s.' : ''}</p>
      ${created && html`<${NewToken} created=${created} onDone=${() => setCreated(null)} />`}
      <form class="form form-inline" onSubmit=${submit}>
        <${Field} label="Token name" error=${problem}>${(id, described) => html`
          <input id=${id} name="token-name" required value=${name}
            onInput=${(e) => setName(e.currentTarget.value)} aria-describedby=${described} />`}<//>
        <${Field} label="Token role">${(id) => html`
          <select id=${id} name="token-role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
            ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
          </select>`}<//>
        <div class="form-actions"><button class="primary" type="submit">Create token</button></div>
      </form>
      ${tokens === null ? html`<p class="muted">Loading…</p>`
        : tokens.length === 0 ? html`<p class="empty">No API tokens.</p>`
        : html`
        <table class="table tokens">
          <thead><tr><th scope="col">Name</th><th scope="col">User</th><th scope="col">Role</th>
            <th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${tokens.map((token) => html`
              <tr key=${token.id} data-token=${token.name}>
                <td>${token.name}</td><td>${token.user}</td><td>${token.role}</td>
                <td>${token.created}</td>
                <td class="actions"><${ConfirmButton} label="Revoke" confirm=${`Revoke ${token.name}`}
                  ariaLabel=${`Revoke ${token.name}`}
                  consequence=${`Scripts that use the token ${token.name} of ${token.user} are refused from now on, also on open connections.`}
                  onConfirm=${() => revokeToken(token.id).then(reload)
                    .catch((e) => reportError(e, `Could not revoke ${token.name}`))} /></td>
              </tr>`)}
          </tbody>
        </table>`}
    </section>
  `
}

function UserRow({ user, self, reload }) {
  const roleId = `role-of-${user.name}`
  return html`
    <tr data-user=${user.name}>
      <td>${user.name}${self ? html` <span class="muted small">(you)</span>` : ''}</td>
      <td>
        <label class="visually-hidden" for=${roleId}>Role of ${user.name}</label>
        <select id=${roleId} value=${user.role} disabled=${self}
          onChange=${(e) => changeRole(user.name, e.currentTarget.value).then(reload)
            .catch((error) => { reportError(error, `Could not change the role of ${user.name}`); reload() })}>
          ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
      </td>
      <td class="actions">${!self && html`<${ConfirmButton} label="Delete" confirm=${`Delete ${user.name}`}
        ariaLabel=${`Delete ${user.name}`}
        consequence=${`${user.name} can no longer log in; their sessions end and their API tokens are revoked. The audit log keeps what they did.`}
        onConfirm=${() => removeUser(user.name).then(reload)
          .catch((e) => reportError(e, `Could not delete ${user.name}`))} />`}</td>
    </tr>
  `
}

function UsersPanel({ session }) {
  const [users, reload] = useLoaded(listUsers, 'the users')
  const [fields, setFields] = useState({ name: '', password: '', role: 'viewer' })
  const set = (name) => (event) => setFields({ ...fields, [name]: event.currentTarget.value })
  const [problem, submit] = useSubmit(async () => {
    await addUser(fields)
    setFields({ name: '', password: '', role: 'viewer' })
    reload()
  })

  return html`
    <section class="panel" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      ${users === null ? html`<p class="muted">Loading…</p>` : html`
        <table class="table users">
          <thead><tr><th scope="col">Name</th><th scope="col">Role</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${users.map((user) => html`<${UserRow} key=${user.name} user=${user}
            self=${user.name === session.user} reload=${reload} />`)}</tbody>
        </table>`}
      <h3>New user</h3>
      <form class="form form-inline" onSubmit=${submit}>
        <${Field} label="User name" error=${problem}>${(id, described) => html`
          <input id=${id} name="user-name" required value=${fields.name} onInput=${set('name')}
            aria-describedby=${described} autocomplete="off" />`}<//>
        <${Field} label="Initial password">${(id) => html`
          <input id=${id} name="user-password" type="password" autocomplete="new-password" required
            value=${fields.password} onInput=${set('password')} />`}<//>
        <${Field} label="Role">${(id) => html`
          <select id=${id} name="user-role" value=${fields.role} onChange=${set('role')}>
            ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
          </select>`}<//>
        <div class="form-actions"><button class="primary" type="submit">Create user</button></div>
      </form>
    </section>
  `
}

/** Who may do what: everyone's own password and API tokens; users and their roles for admins. */
export function AccessScreen() {
  const session = useStore((s) => s.session)
  return html`
    <h1 id="access-title" tabindex="-1">Users and tokens</h1>
    <${PasswordForm} user=${session.user} />
    <${TokensPanel} session=${session} />
    ${isAdmin(session) && html`<${UsersPanel} session=${session} />`}
  `
}
