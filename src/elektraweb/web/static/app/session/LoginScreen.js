import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { logIn } from './session.js'

export function LoginScreen() {
  const message = useStore((s) => s.loginMessage)
  const [user, setUser] = useState('')
  const [password, setPassword] = useState('')
  const [problem, setProblem] = useState(null)
  const [busy, setBusy] = useState(false)

  async function submit(event) {
    event.preventDefault()
    setBusy(true)
    setProblem(null)
    try {
      await logIn(user, password)
    } catch (error) {
      setProblem(error.status === 401 ? 'Wrong user name or password.' : error.message)
      setBusy(false)
    }
  }

  return html`
    <main class="login">
      <form class="login-card" onSubmit=${submit} aria-labelledby="login-title">
        <div class="brand brand-large"><span class="brand-mark">e</span> elektra-web</div>
        <h1 id="login-title">Log in</h1>
        <p class="muted">Configuration of your hosts and clusters, live.</p>
        ${message && html`<p class="notice-inline" role="status">${message}</p>`}
        <label>User
          <input name="user" autocomplete="username" value=${user} required autofocus
            onInput=${(e) => setUser(e.currentTarget.value)} />
        </label>
        <label>Password
          <input name="password" type="password" autocomplete="current-password" value=${password}
            required onInput=${(e) => setPassword(e.currentTarget.value)}
            aria-invalid=${problem ? 'true' : 'false'} aria-describedby="login-problem" />
        </label>
        <p id="login-problem" class="field-error" role="alert">${problem ?? ''}</p>
        <button class="primary wide" type="submit" disabled=${busy}>
          ${busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  `
}
