import { html } from '../shared/html.js'
import { getState, useStore } from '../shared/store.js'
import { editorFor, isBooleanTrue } from './metadata.js'
import { changeDraft, saveDraft, startEditing, stopEditing } from './editing.js'

/** Choose a value and save it at once (toggle, select): same checks and errors as typing. */
function saveNow(target, path, value) {
  startEditing(path)
  changeDraft(value)
  return saveDraft(target)
}

function Problem({ editor }) {
  const message = editor?.problem ?? editor?.serverError
  if (!message) return null
  return html`<p class="field-error" id="value-error" role="alert" data-testid="value-error">${message}</p>`
}

function RangeHint({ spec }) {
  if (spec.range) return html`<p class="hint">Range ${spec.range}</p>`
  if (spec.min !== null && spec.max !== null) {
    return html`<p class="hint">${spec.integer ? 'Whole number' : 'Number'} from ${spec.min} to ${spec.max}</p>`
  }
  return null
}

/** The value, edited the way its metadata says: toggle, select, number in range, or text. */
export function ValueEditor({ target, node, readOnly }) {
  const editor = useStore((s) => (s.editor?.path === node.path ? s.editor : null))
  const spec = editorFor(node.meta)
  const path = node.path
  if (readOnly) {
    return html`
      <div class="value-block">
        <div class="value-readonly" id="value-editor" tabindex="0"><code>${node.value ?? '—'}</code></div>
        <p class="hint readonly-reason">Read-only: ${readOnly}</p>
      </div>`
  }
  if (spec.kind === 'boolean') {
    const on = isBooleanTrue(node.value)
    return html`
      <div class="value-block">
        <button id="value-editor" role="switch" aria-checked=${on ? 'true' : 'false'} class="switch"
          aria-label=${`${path} is ${on ? 'on' : 'off'}`} disabled=${editor?.saving}
          onClick=${() => saveNow(target, path, on ? '0' : '1')}>
          <span class="switch-track"><span class="switch-thumb"></span></span>
          <span>${on ? 'On' : 'Off'}</span>
        </button>
        <${Problem} editor=${editor} />
      </div>`
  }
  if (spec.kind === 'enum') {
    return html`
      <div class="value-block">
        <label for="value-editor" class="visually-hidden">Value of ${path}</label>
        <select id="value-editor" value=${node.value ?? ''} disabled=${editor?.saving}
          onChange=${(e) => saveNow(target, path, e.currentTarget.value)}>
          ${!spec.options.includes(node.value) && html`<option value=${node.value ?? ''}>${node.value ?? '(none)'}</option>`}
          ${spec.options.map((option) => html`<option value=${option}>${option}</option>`)}
        </select>
        <${Problem} editor=${editor} />
      </div>`
  }
  const draft = editor ? editor.draft : node.value ?? ''
  const dirty = editor !== null && editor.draft !== (node.value ?? '')
  const invalid = Boolean(editor?.problem || editor?.serverError)
  const onInput = (event) => {
    if (getState().editor?.path !== path) startEditing(path)
    changeDraft(event.currentTarget.value)
  }
  const onKeyDown = (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault()
      saveDraft(target)
    } else if (event.key === 'Escape') {
      stopEditing()
    }
  }
  const multiline = spec.kind === 'text' && (node.value ?? '').includes('\n')
  const common = {
    id: 'value-editor',
    value: draft,
    onInput,
    onKeyDown,
    'aria-invalid': invalid ? 'true' : 'false',
    'aria-describedby': invalid ? 'value-error' : null,
    'aria-label': `Value of ${path}`,
    placeholder: node.meta.default !== undefined ? `default: ${node.meta.default}` : '',
    spellcheck: false,
  }
  return html`
    <form class="value-block" onSubmit=${(e) => { e.preventDefault(); saveDraft(target) }}>
      <div class="value-row">
        ${multiline ? html`<textarea rows="4" ...${common} />`
          : html`<input type="text" inputmode=${spec.kind === 'number' ? 'decimal' : 'text'}
              maxlength=${spec.maxLength ?? null} ...${common} />`}
        ${dirty && html`
          <button class="primary" type="submit" disabled=${editor.saving || Boolean(editor.problem)}>
            ${editor.saving ? 'Saving…' : 'Save'}</button>
          <button type="button" class="ghost" onClick=${stopEditing}>Revert</button>`}
      </div>
      <${Problem} editor=${editor} />
      ${spec.kind === 'number' && html`<${RangeHint} spec=${spec} />`}
      ${spec.pattern && !invalid && html`<p class="hint">Must match <code>${spec.pattern}</code>${
        node.meta['check/validation/message'] ? ` — ${node.meta['check/validation/message']}` : ''}</p>`}
    </form>
  `
}
