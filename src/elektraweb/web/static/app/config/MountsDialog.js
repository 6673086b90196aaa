import { useEffect, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { request, targetPath } from '../shared/api.js'
import { loadNode } from './tree.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'

const FORMATS = ['ini', 'json', 'yaml', 'toml', 'dump']
const NAMESPACE_ROOTS = ['spec:/', 'dir:/', 'user:/', 'system:/']

/** Read again the namespaces a mountpoint's keys appear in (all for a cascading one). */
function reloadTree(mountpoint) {
  const namespace = /^([a-z]+):\//.exec(mountpoint)
  return Promise.all((namespace ? [`${namespace[1]}:/`] : NAMESPACE_ROOTS).map((root) => loadNode(root)))
}

/** An instance's mounts. Admins also mount a file inside the instance's --mount-dir and
 * unmount what was mounted there; the instance itself refuses anything else. */
export function MountsDialog({ target, admin, onClose }) {
  const [listing, setListing] = useState(null)
  const [mountpoint, setMountpoint] = useState('system:/')
  const [path, setPath] = useState('')
  const [format, setFormat] = useState('ini')
  const [status, setStatus] = useState(null)
  const [problem, setProblem] = useState(null)
  const base = `${targetPath(target)}/mounts`

  async function reload() {
    try {
      const found = await request('GET', base)
      setListing(found)
      if (!path && found.mount_dirs.length) setPath(`${found.mount_dirs[0]}/`)
    } catch (error) {
      setProblem(error.message)
    }
  }
  useEffect(() => { reload() }, [target.id])

  async function run(action, name, done) {
    setProblem(null)
    setStatus(null)
    try {
      await action()
      setStatus(done)
      await Promise.all([reload(), reloadTree(name)])
    } catch (error) {
      setProblem(error.message)
    }
  }

  function mountNow(event) {
    event.preventDefault()
    run(() => request('POST', base, { body: { mountpoint, path, format } }), mountpoint,
      `Mounted ${path} at ${mountpoint}.`)
  }

  function unmount(name) {
    run(() => request('DELETE', `${base}/${encodeURIComponent(name)}`), name, `Unmounted ${name}.`)
  }

  const dirs = listing?.mount_dirs ?? []
  return html`
    <${Dialog} title="Mounts" onClose=${onClose} wide>
      ${listing === null && !problem && html`<p class="muted">Loading…</p>`}
      ${listing && html`
        <table class="table mounts" aria-label="Mounts">
          <thead><tr><th>Mountpoint</th><th>File</th><th>Format</th>${admin && html`<th></th>`}</tr></thead>
          <tbody>
            ${listing.mounts.map((m) => html`<tr key=${m.mountpoint} data-mountpoint=${m.mountpoint}>
              <td class="mono">${m.mountpoint}</td><td class="mono file">${m.files.join(', ')}</td><td>${m.format}</td>
              ${admin && html`<td class="actions">${m.managed
                ? html`<button type="button" onClick=${() => unmount(m.mountpoint)}>Unmount</button>`
                : html`<span class="muted small">mounted on the host</span>`}</td>`}
            </tr>`)}
            ${listing.mounts.length === 0 && html`<tr><td colspan="4" class="muted">No mounts.</td></tr>`}
          </tbody>
        </table>`}
      ${admin && listing && (dirs.length
        ? html`
          <form class="form" onSubmit=${mountNow}>
            <fieldset>
              <legend>Mount a file</legend>
              <p class="muted small">Files inside ${dirs.join(', ')} only.</p>
              <${Field} label="Mountpoint">${(id) => html`
                <input id=${id} name="mountpoint" class="mono" value=${mountpoint}
                  onInput=${(e) => setMountpoint(e.currentTarget.value)} />`}<//>
              <${Field} label="Path">${(id) => html`
                <input id=${id} name="path" class="mono" value=${path}
                  onInput=${(e) => setPath(e.currentTarget.value)} />`}<//>
              <${Field} label="Format">${(id) => html`
                <select id=${id} name="format" value=${format} onChange=${(e) => setFormat(e.currentTarget.value)}>
                  ${FORMATS.map((f) => html`<option value=${f}>${f}</option>`)}
                </select>`}<//>
              <button type="submit" class="primary">Mount</button>
            </fieldset>
          </form>`
        : html`<p class="muted small">This instance allows no remote mounts (elektrad --mount-dir).</p>`)}
      ${status && html`<p class="success" role="status">${status}</p>`}
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    <//>
  `
}
