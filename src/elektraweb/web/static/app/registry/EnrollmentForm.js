import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { createEnrollmentToken } from './registry.js'
import { exactTime } from '../shared/format.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'

const LIFETIMES = [
  ['3600', '1 hour'],
  ['86400', '1 day'],
  ['604800', '7 days'],
]

/** Create a one-time enrollment token, then show it once with the command the host runs. */
export function EnrollmentForm({ onClose }) {
  const clusters = useStore((s) => s.clusters)
  const [expiresIn, setExpiresIn] = useState('3600')
  const [cluster, setCluster] = useState('')
  const [created, setCreated] = useState(null)
  const [refusal, setRefusal] = useState(null)

  async function submit(event) {
    event.preventDefault()
    setRefusal(null)
    const body = { expires_in: Number(expiresIn) }
    if (cluster) body.cluster = Number(cluster)
    try {
      setCreated(await createEnrollmentToken(body))
    } catch (error) {
      setRefusal(error.message)
    }
  }

  if (created) {
    const command = `elektrad --enroll ${location.origin} --token ${created.token} --state /var/lib/elektrad`
    return html`
      <${Dialog} title="Enrollment token" onClose=${onClose}>
        <div class="form">
          <p>Shown only now. Valid once, until ${exactTime(created.expires)}.
            ${created.cluster == null ? ' The host waits here, pending, until you accept it.'
              : ` The host joins ${clusters.find((c) => c.id === created.cluster)?.name ?? 'its cluster'} at once.`}</p>
          <${Field} label="Token">${(id, described) => html`
            <input id=${id} class="mono" readonly value=${created.token} aria-describedby=${described}
              onFocus=${(e) => e.currentTarget.select()} />`}<//>
          <${Field} label="Command on the host" hint="Add --listen tcp://HOST:PORT where clusterd can reach it">${(id, described) => html`
            <textarea id=${id} class="mono" readonly rows="3" aria-describedby=${described}
              value=${command} onFocus=${(e) => e.currentTarget.select()}></textarea>`}<//>
          <div class="form-actions">
            <button class="primary" type="button" onClick=${onClose}>Done</button>
          </div>
        </div>
      <//>
    `
  }
  return html`
    <${Dialog} title="New enrollment token" onClose=${onClose}>
      <form class="form" onSubmit=${submit}>
        <${Field} label="Valid for">${(id, described) => html`
          <select id=${id} name="expires_in" aria-describedby=${described} value=${expiresIn}
            onChange=${(e) => setExpiresIn(e.currentTarget.value)}>
            ${LIFETIMES.map(([seconds, label]) => html`<option value=${seconds}>${label}</option>`)}
          </select>`}<//>
        <${Field} label="Accept into cluster" hint="Without one, the host waits for an admin to accept it">${(id, described) => html`
          <select id=${id} name="cluster" aria-describedby=${described} value=${cluster}
            onChange=${(e) => setCluster(e.currentTarget.value)}>
            <option value="">No: wait for an admin</option>
            ${clusters.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select>`}<//>
        ${refusal && html`<p class="field-error" role="alert">${refusal}</p>`}
        <div class="form-actions">
          <button type="button" class="ghost" onClick=${onClose}>Cancel</button>
          <button class="primary" type="submit">Create token</button>
        </div>
      </form>
    <//>
  `
}
