import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { kdbPath, request } from '../shared/api.js'
import { flash, refreshKey } from './tree.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'
import { confirmChange } from '../history/preview.js'
import { recording } from '../history/undo.js'
import { draftOf } from './keyops.js'

const FORMATS = ['dump', 'ini', 'json', 'yaml', 'toml']
const STRATEGIES = {
  preserve: 'Add only keys that do not exist yet',
  overwrite: 'Keys in the file win, others stay',
  replace: 'The subtree becomes exactly the file',
}

function download(name, text) {
  const link = document.createElement('a')
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }))
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 1000)
}

function fileBase(key) {
  return key.replace(/^([a-z]+):\//, '$1-').replace(/[\\/:%#]+/g, '-').replace(/-+$/, '') || 'root'
}

/** Export a subtree as a file in any storage format, or import one (upload) into it. */
export function TransferForm({ target, base, canImport, onClose }) {
  const [key, setKey] = useState(base)
  const [format, setFormat] = useState('dump')
  const [strategy, setStrategy] = useState('preserve')
  const [file, setFile] = useState(null)
  const [status, setStatus] = useState(null)
  const [problem, setProblem] = useState(null)
  const [importing, setImporting] = useState(false)

  async function exportNow() {
    setProblem(null)
    try {
      const exported = await request('GET', kdbPath(target, 'kdbExport', key), { query: { format } })
      download(`${fileBase(key)}.${format === 'dump' ? 'ecf' : format}`, exported.data)
      setStatus(`Exported ${key} as ${format}.`)
    } catch (error) {
      setProblem(error.message)
    }
  }

  async function importNow(event) {
    event.preventDefault()
    if (!file || importing) return
    setProblem(null)
    setStatus(null)
    setImporting(true)
    try {
      const text = await file.text()
      const path = kdbPath(target, 'kdbImport', key)
      const drafted = () => setStatus(`Added the import of ${file.name} to the draft.`)
      const draft = draftOf(target, { op: 'import', key, format, strategy, data: text }, drafted)
      const options = { body: text, query: { format, strategy }, draft }
      if (!(await confirmChange(`import ${file.name} into ${key}`, 'POST', path, options))) return
      const result = await recording(() => request('POST', path, options))
      setStatus(`Imported ${file.name}: ${result.written ?? 0} written, ${result.removed ?? 0} removed.`)
      await refreshKey(key, { structural: true })
      flash(key)
    } catch (error) {
      setProblem(error.message)
    } finally {
      setImporting(false)
    }
  }

  function chooseFile(event) {
    const chosen = event.currentTarget.files[0] ?? null
    setFile(chosen)
    const extension = chosen?.name.split('.').pop()?.toLowerCase()
    if (FORMATS.includes(extension)) setFormat(extension)
    if (extension === 'yml') setFormat('yaml')
    if (extension === 'ecf') setFormat('dump')
  }

  return html`
    <${Dialog} title="Import and export" onClose=${onClose} wide>
      <form class="form" onSubmit=${importNow}>
        <${Field} label="Subtree" hint="The key whose subtree is exported or imported into">${(id, described) => html`
          <input id=${id} name="subtree" aria-describedby=${described} class="mono" value=${key} onInput=${(e) => setKey(e.currentTarget.value)} />`}<//>
        <${Field} label="Format">${(id) => html`
          <select id=${id} name="format" value=${format} onChange=${(e) => setFormat(e.currentTarget.value)}>
            ${FORMATS.map((f) => html`<option value=${f}>${f}</option>`)}
          </select>`}<//>
        <div class="transfer-actions">
          <button type="button" class="primary" onClick=${exportNow}>Download export</button>
        </div>
        ${canImport && html`
          <fieldset class="import">
            <legend>Import a file</legend>
            <${Field} label="File">${(id) => html`
              <input id=${id} name="file" type="file" onChange=${chooseFile} />`}<//>
            <${Field} label="Strategy" hint=${STRATEGIES[strategy]}>${(id, described) => html`
              <select id=${id} name="strategy" aria-describedby=${described} value=${strategy} onChange=${(e) => setStrategy(e.currentTarget.value)}>
                ${Object.keys(STRATEGIES).map((s) => html`<option value=${s}>${s}</option>`)}
              </select>`}<//>
            <button type="submit" disabled=${!file || importing} aria-busy=${importing ? 'true' : 'false'}>
              ${importing ? `Importing ${file.name}…` : 'Import'}</button>
          </fieldset>`}
        ${status && html`<p class="success" role="status">${status}</p>`}
        ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
      </form>
    <//>
  `
}
