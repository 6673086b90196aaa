import { useRef } from 'preact/hooks'
import { html } from '../shared/html.js'
import { getState, useStore } from '../shared/store.js'
import { editorFor, isBooleanTrue, toggledBoolean } from './metadata.js'
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
  if (spec.range) return html`<p class="hint" id="value-hint">Range ${spec.range}</p>`
  if (spec.min !== null && spec.max !== null) {
    return html`<p class="hint" id="value-hint">${spec.integer ? 'Whole number' : 'Number'} from ${spec.min} to ${spec.max}</p>`
  }
  return null
}

/** An enum's options. Picking one with the pointer saves it at once; arrow keys only move the
 * choice (the select changes as they pass each option), and Enter or Save sends it. */
function EnumEditor({ target, node, spec, editor }) {
  const path = node.path
  const value = editor ? editor.draft : node.value ?? ''
  const dirty = editor !== null && editor.draft !== (node.value ?? '')
  const byKeyboard = useRef(false)
  const onKeyDown = (event) => {
    if (event.key === 'Enter' && dirty) {
      event.preventDefault()
      saveDraft(target)
    } else if (event.key === 'Escape') {
      stopEditing()
    } else {
      byKeyboard.current = true
    }
  }
  const onChange = (event) => {
    const chosen = event.currentTarget.value
    if (getState().editor?.saving) return
    if (byKeyboard.current) {
      if (getState().editor?.path !== path) startEditing(path)
      changeDraft(chosen)
    } else {
      saveNow(target, path, chosen)
    }
    byKeyboard.current = false
  }
  return html`
    <form class="value-block" onSubmit=${(e) => { e.preventDefault(); saveDraft(target) }}>
      <label for="value-editor" class="visually-hidden">Value of ${path}</label>
      <div class="value-row">
        <select id="value-editor" value=${value} aria-busy=${editor?.saving ? 'true' : 'false'}
          aria-describedby=${dirty ? 'value-unsaved' : null}
          onKeyDown=${onKeyDown} onPointerDown=${() => { byKeyboard.current = false }} onChange=${onChange}>
          ${!spec.options.includes(node.value) && html`<option value=${node.value ?? ''}>${node.value ?? '(none)'}</option>`}
          ${spec.options.map((option) => html`<option value=${option}>${option}</option>`)}
        </select>
        ${dirty && html`
          <button class="primary" type="submit" disabled=${editor.saving}>${editor.saving ? 'Saving…' : 'Save'}</button>
          <button type="button" class="ghost" onClick=${stopEditing}>Revert</button>`}
      </div>
      ${dirty && html`<p class="hint" id="value-unsaved">Not saved yet: Enter saves, Escape reverts.</p>`}
      <${Problem} editor=${editor} />
    </form>`
}

/** The value, edited the way its metadata says: toggle, select, number in range, or text. */
export function ValueEditor({ target, node, readOnly }) {
  const editor = useStore((s) => (s.editor?.path === node.path ? s.editor : null))
  const spec = editorFor(node.meta)
  const path = node.path
  if (readOnly) {
    return html`
      <div class="value-block">
        <div class="value-readonly" id="value-editor" tabindex="0" role="textbox" aria-readonly="true"
          aria-label=${`Value of ${path}`} aria-describedby="value-readonly-reason"><code>${node.value ?? '—'}</code></div>
        <p class="hint readonly-reason" id="value-readonly-reason">Read-only: ${readOnly}</p>
      </div>`
  }
  // While saving, the control stays enabled (a disabled control drops the focus to <body>);
  // it is marked busy and further changes wait for the answer.
  const busy = Boolean(editor?.saving)
  if (spec.kind === 'boolean') {
    const on = isBooleanTrue(node.value)
    return html`
      <div class="value-block">
        <button id="value-editor" role="switch" aria-checked=${on ? 'true' : 'false'} class="switch"
          aria-label=${`${path} is ${on ? 'on' : 'off'}`} aria-busy=${busy ? 'true' : 'false'}
          onClick=${() => { if (!busy) saveNow(target, path, toggledBoolean(node.value)) }}>
          <span class="switch-track"><span class="switch-thumb"></span></span>
          <span>${on ? 'On' : 'Off'}</span>
        </button>
        <${Problem} editor=${editor} />
      </div>`
  }
  if (spec.kind === 'enum') return html`<${EnumEditor} target=${target} node=${node} spec=${spec} editor=${editor} />`
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
  const hinted = (spec.kind === 'number' && (spec.range || (spec.min !== null && spec.max !== null))) ||
    Boolean(spec.pattern)
  const multiline = spec.kind === 'text' && (node.value ?? '').includes('\n')
  const common = {
    id: 'value-editor',
    value: draft,
    onInput,
    onKeyDown,
    'aria-invalid': invalid ? 'true' : 'false',
    'aria-describedby': invalid ? 'value-error' : hinted ? 'value-hint' : null,
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
      ${spec.pattern && !invalid && html`<p class="hint" id="value-hint">Must match <code>${spec.pattern}</code>${
        node.meta['check/validation/message'] ? ` — ${node.meta['check/validation/message']}` : ''}</p>`}
    </form>
  `
}
