import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { reportError } from '../shared/store.js'
import { enumMeta, enumOptions, TYPES, VISIBILITIES } from './metadata.js'
import { setMeta } from './keyops.js'

const ENUM_NAME = /^check\/enum(\/#_*\d+)?$/
const KNOWN = ['check/type', 'description', 'default', 'example', 'check/range', 'check/validation',
  'check/validation/message', 'visibility', 'restrict/write', 'restrict/remove']

/** The metadata entries a form state stands for: enum options become check/enum/#0... */
function toMeta(fields, options, others) {
  const meta = {}
  for (const [name, value] of Object.entries(fields)) if (value !== '') meta[name] = value
  Object.assign(meta, enumMeta(options.split('\n').map((o) => o.trim()).filter(Boolean)))
  for (const { name, value } of others) if (name.trim()) meta[name.trim()] = value
  return meta
}

function changesBetween(before, after) {
  const changes = {}
  for (const [name, value] of Object.entries(after)) if (before[name] !== value) changes[name] = value
  for (const name of Object.keys(before)) if (!(name in after)) changes[name] = null
  return changes
}

/** Every metakey: the well-known ones with fitting inputs, any other as name and value. */
export function MetadataEditor({ target, path, meta, readOnly, specKey = null, onEditSpec = null }) {
  const [open, setOpen] = useState(false)
  const [fields, setFields] = useState(Object.fromEntries(KNOWN.map((n) => [n, meta[n] ?? ''])))
  const [options, setOptions] = useState(enumOptions(meta).join('\n'))
  const [others, setOthers] = useState(
    Object.entries(meta)
      .filter(([name]) => !KNOWN.includes(name) && !ENUM_NAME.test(name))
      .map(([name, value]) => ({ name, value })),
  )
  const [problem, setProblem] = useState(null)
  const [saving, setSaving] = useState(false)
  const next = toMeta(fields, options, others)
  const changes = changesBetween(meta, next)
  const dirty = Object.keys(changes).length > 0
  const field = (name) => ({
    id: `meta-${name.replace(/\//g, '-')}`,
    value: fields[name],
    disabled: readOnly,
    onInput: (e) => setFields({ ...fields, [name]: e.currentTarget.value }),
  })
  const flag = (name) => html`
    <label class="check"><input type="checkbox" disabled=${readOnly} checked=${!['', '0', 'false', 'no', 'off'].includes(fields[name])}
      onChange=${(e) => setFields({ ...fields, [name]: e.currentTarget.checked ? '1' : '' })} />${name}</label>`

  async function save(event) {
    event.preventDefault()
    setSaving(true)
    setProblem(null)
    try {
      await setMeta(target, path, changes)
    } catch (error) {
      setProblem(error.message)
      if (error.status >= 500) reportError(error, `Could not change the metadata of ${path}`)
    }
    setSaving(false)
  }

  return html`
    <details class="metadata" open=${open} onToggle=${(e) => setOpen(e.currentTarget.open)}>
      <summary>Metadata <span class="count">${Object.keys(meta).length}</span></summary>
      ${specKey && html`<p class="spec-note" id="spec-note">This metadata comes from the specification
        <code>${specKey}</code>; a change here would only be a copy on this key.
        <button type="button" class="link" onClick=${onEditSpec}>Edit ${specKey}</button></p>`}
      <form class="form meta-form" onSubmit=${save}>
        <div class="meta-grid">
          <label for="meta-check-type">Type</label>
          <select ...${field('check/type')} onChange=${field('check/type').onInput}>
            <option value="">(none)</option>
            ${TYPES.map((t) => html`<option value=${t}>${t}</option>`)}
          </select>
          <label for="meta-description">Description</label>
          <textarea rows="2" ...${field('description')} />
          <label for="meta-default">Default</label><input ...${field('default')} />
          <label for="meta-example">Example</label><input ...${field('example')} />
          <label for="meta-check-range">Range</label>
          <input ...${field('check/range')} placeholder="e.g. 1-999 or -5-5,10" />
          <label for="meta-enum-options">Enum options</label>
          <textarea id="meta-enum-options" rows="3" value=${options} disabled=${readOnly}
            placeholder="one per line" onInput=${(e) => setOptions(e.currentTarget.value)} />
          <label for="meta-check-validation">Regex</label>
          <input ...${field('check/validation')} class="mono" placeholder="POSIX extended regex" />
          <label for="meta-check-validation-message">Regex message</label>
          <input ...${field('check/validation/message')} />
          <label for="meta-visibility">Visibility</label>
          <select ...${field('visibility')} onChange=${field('visibility').onInput}>
            <option value="">(default: user)</option>
            ${VISIBILITIES.map((v) => html`<option value=${v}>${v}</option>`)}
          </select>
          <span class="label">Restrict</span>
          <span class="flags">${flag('restrict/write')} ${flag('restrict/remove')}</span>
        </div>
        <table class="table meta-others">
          <thead><tr><th>Other metakey</th><th>Value</th><th><span class="visually-hidden">Remove</span></th></tr></thead>
          <tbody>
            ${others.map((entry, index) => html`
              <tr key=${index}>
                <td><input aria-label="Metakey name" value=${entry.name} disabled=${readOnly}
                  onInput=${(e) => setOthers(others.map((o, i) => (i === index ? { ...o, name: e.currentTarget.value } : o)))} /></td>
                <td><input aria-label=${`Value of ${entry.name}`} value=${entry.value} disabled=${readOnly}
                  onInput=${(e) => setOthers(others.map((o, i) => (i === index ? { ...o, value: e.currentTarget.value } : o)))} /></td>
                <td><button type="button" class="icon" aria-label=${`Remove ${entry.name}`} disabled=${readOnly}
                  onClick=${() => setOthers(others.filter((_, i) => i !== index))}>×</button></td>
              </tr>`)}
          </tbody>
        </table>
        ${!readOnly && html`<button type="button" class="link"
          onClick=${() => setOthers([...others, { name: '', value: '' }])}>+ Add metakey</button>`}
        ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
        ${!readOnly && html`<div class="form-actions">
          <button class="primary" type="submit" disabled=${!dirty || saving}>
            ${saving ? 'Saving…' : 'Save metadata'}</button></div>`}
      </form>
    </details>
  `
}
