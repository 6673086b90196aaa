import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { addInstance, changeInstance, fingerprint, refusedField } from './registry.js'
import { VISIBILITIES } from '../config/metadata.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'

const FIELDS = ['name', 'endpoint', 'public_key', 'description', 'visibility']

/** Add or edit an instance; the key's fingerprint is shown to compare with `elektrad --show-key`. */
export function InstanceForm({ instance, onClose }) {
  const [values, setValues] = useState({
    name: instance?.name ?? '',
    endpoint: instance?.endpoint ?? 'tcp://',
    public_key: instance?.public_key ?? '',
    description: instance?.description ?? '',
    visibility: instance?.visibility ?? 'user',
  })
  const [offline, setOffline] = useState(false)
  const [refusal, setRefusal] = useState(null)
  const [busy, setBusy] = useState(false)
  const set = (name) => (event) => setValues({ ...values, [name]: event.currentTarget.value })
  const errorOf = (name) => (refusal?.field === name ? refusal.message : null)

  async function submit(event) {
    event.preventDefault()
    setBusy(true)
    setRefusal(null)
    const body = { ...values, public_key: values.public_key.trim() }
    if (offline) body.offline = true
    try {
      if (instance) await changeInstance(instance.id, body)
      else await addInstance(body)
      onClose()
    } catch (error) {
      setRefusal({ field: refusedField(error, FIELDS), message: error.message })
      setBusy(false)
    }
  }

  return html`
    <${Dialog} title=${instance ? `Edit ${instance.name}` : 'Add instance'} onClose=${onClose}>
      <form class="form" onSubmit=${submit}>
        <${Field} label="Name" error=${errorOf('name')}>${(id, described) => html`
          <input id=${id} name="name" required value=${values.name} onInput=${set('name')}
            aria-describedby=${described} />`}<//>
        <${Field} label="Endpoint" hint="Where elektrad takes requests, e.g. tcp://host:33333"
          error=${errorOf('endpoint')}>${(id, described) => html`
          <input id=${id} name="endpoint" required value=${values.endpoint} onInput=${set('endpoint')}
            aria-describedby=${described} />`}<//>
        <${Field} label="Public key" hint="What elektrad --show-key prints on that host"
          error=${errorOf('public_key')}>${(id, described) => html`
          <input id=${id} name="public_key" required class="mono" value=${values.public_key}
            onInput=${set('public_key')} aria-describedby=${described} spellcheck="false" />`}<//>
        ${values.public_key.trim() && html`
          <div class="fingerprint-box" aria-label="Key fingerprint">
            <span class="muted small">Fingerprint — compare before you add:</span>
            <code class="fingerprint">${fingerprint(values.public_key.trim())}</code>
          </div>`}
        <${Field} label="Description" error=${errorOf('description')}>${(id, described) => html`
          <input id=${id} name="description" aria-describedby=${described} value=${values.description} onInput=${set('description')} />`}<//>
        <${Field} label="Visibility" hint="Keys below this level are hidden at first"
          error=${errorOf('visibility')}>${(id, described) => html`
          <select id=${id} name="visibility" aria-describedby=${described} value=${values.visibility} onChange=${set('visibility')}>
            ${VISIBILITIES.map((v) => html`<option value=${v}>${v}</option>`)}
          </select>`}<//>
        <label class="check">
          <input type="checkbox" name="offline" checked=${offline}
            onChange=${(e) => setOffline(e.currentTarget.checked)} />
          Register even if the daemon does not answer now
        </label>
        ${refusal && !FIELDS.includes(refusal.field) && html`<p class="field-error">${refusal.message}</p>`}
        <div class="form-actions">
          <button type="button" class="ghost" onClick=${onClose}>Cancel</button>
          <button class="primary" type="submit" disabled=${busy}>
            ${busy ? 'Checking…' : instance ? 'Save' : 'Add instance'}</button>
        </div>
      </form>
    <//>
  `
}
