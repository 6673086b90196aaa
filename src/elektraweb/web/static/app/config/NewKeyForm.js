import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { checkValue, enumMeta, TYPES } from './metadata.js'
import { createKey } from './keyops.js'
import { childName, rootOf } from './keynames.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'

const NUMERIC = new Set(['short', 'unsigned_short', 'long', 'unsigned_long', 'long_long',
  'unsigned_long_long', 'float', 'double'])

/** The full name for what was typed: a full name as is, else relative to the parent. */
function fullName(parent, typed) {
  const name = typed.trim()
  if (name.startsWith('/') || /^[a-z]+:\//.test(name)) return name
  return childName(parent, name)
}

/** Create a key: name, type, value and its checks, described. */
export function NewKeyForm({ target, parent, onClose }) {
  const base = parent ?? 'user:/'
  const [values, setValues] = useState({ name: '', type: 'string', value: '', range: '', options: '',
    regex: '', message: '', description: '' })
  const [problem, setProblem] = useState(null)
  const set = (name) => (e) => setValues({ ...values, [name]: e.currentTarget.value })
  const meta = {}
  if (values.type !== 'string') meta['check/type'] = values.type
  if (values.description) meta.description = values.description
  if (NUMERIC.has(values.type) && values.range) meta['check/range'] = values.range
  if (values.regex) meta['check/validation'] = values.regex
  if (values.regex && values.message) meta['check/validation/message'] = values.message
  const options = values.options.split('\n').map((o) => o.trim()).filter(Boolean)
  if (values.type === 'enum') Object.assign(meta, enumMeta(options))
  const valueProblem = values.value === '' ? null : checkValue(meta, values.value)

  async function submit(event) {
    event.preventDefault()
    if (valueProblem) return
    setProblem(null)
    try {
      if (await createKey(target, fullName(base, values.name), values.value, meta)) onClose()
    } catch (error) {
      setProblem({ field: error.field ?? (error.code === 'invalid-name' ? 'name' : 'value'), message: error.message })
    }
  }

  const errorOf = (field) => (problem?.field === field ? problem.message : null)
  return html`
    <${Dialog} title="New key" onClose=${onClose} wide>
      <form class="form" onSubmit=${submit}>
        <${Field} label="Name" hint=${`Below ${base} — or a full name such as ${rootOf(base)}app/port`}
          error=${errorOf('name')}>${(id, described) => html`
          <input id=${id} name="name" class="mono" required value=${values.name}
            aria-describedby=${described} onInput=${set('name')} />`}<//>
        <${Field} label="Type">${(id) => html`
          <select id=${id} name="type" value=${values.type} onChange=${set('type')}>
            ${TYPES.filter((t) => t !== 'any').map((t) => html`<option value=${t}>${t}</option>`)}
          </select>`}<//>
        ${values.type === 'enum' && html`<${Field} label="Options" hint="One per line">${(id, described) => html`
          <textarea id=${id} name="options" aria-describedby=${described} rows="3" value=${values.options} onInput=${set('options')} />`}<//>`}
        ${NUMERIC.has(values.type) && html`<${Field} label="Range" hint="e.g. 1-999 or -5-5,10">${(id, described) => html`
          <input id=${id} name="range" aria-describedby=${described} value=${values.range} onInput=${set('range')} />`}<//>`}
        <${Field} label="Value" error=${valueProblem ?? errorOf('value')}>${(id, described) =>
          values.type === 'boolean'
            ? html`<select id=${id} name="value" value=${values.value} onChange=${set('value')}>
                <option value="">(none)</option><option value="1">on (1)</option><option value="0">off (0)</option></select>`
            : values.type === 'enum'
              ? html`<select id=${id} name="value" value=${values.value} onChange=${set('value')}>
                  <option value="">(none)</option>${options.map((o) => html`<option value=${o}>${o}</option>`)}</select>`
              : html`<input id=${id} name="value" value=${values.value} onInput=${set('value')}
                  aria-describedby=${described} aria-invalid=${valueProblem ? 'true' : 'false'} />`}<//>
        <${Field} label="Validation regex" hint="Optional POSIX extended regex the value must match">${(id, described) => html`
          <input id=${id} name="regex" aria-describedby=${described} class="mono" value=${values.regex} onInput=${set('regex')} />`}<//>
        ${values.regex && html`<${Field} label="Message when it does not match">${(id) => html`
          <input id=${id} name="message" value=${values.message} onInput=${set('message')} />`}<//>`}
        <${Field} label="Description">${(id) => html`
          <textarea id=${id} name="description" rows="2" value=${values.description} onInput=${set('description')} />`}<//>
        <div class="form-actions">
          <button type="button" class="ghost" onClick=${onClose}>Cancel</button>
          <button class="primary" type="submit" disabled=${Boolean(valueProblem)}>Create key</button>
        </div>
      </form>
    <//>
  `
}
