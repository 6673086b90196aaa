import { useEffect, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { Dialog } from '../shared/Dialog.js'
import { notify, useStore } from '../shared/store.js'
import { exactTime, relativeTime } from '../shared/format.js'
import { PreviewTargets } from '../history/ChangeList.js'
import {
  addEdit, draftDiff, promote, publish, readDraft, readReleases, removeEdit, rollBack,
} from './releases.js'

/** The cluster screen's toolbar button: the draft, with the number of edits in it. */
export function DraftButton({ cluster, editable }) {
  const [open, setOpen] = useState(false)
  const [count, setCount] = useState(null)
  const drafted = useStore((s) => s.drafted) // an edit added from a confirm step
  const refresh = () => readDraft(cluster.id).then((draft) => setCount(draft.count), () => setCount(null))
  useEffect(() => { refresh() }, [cluster.id, drafted])
  return html`
    <button onClick=${() => setOpen(true)} data-testid="draft-button">
      Draft <span class="count" aria-label=${`${count ?? 0} edits`}>${count ?? '…'}</span>
    </button>
    ${open && html`<${ReleasesDialog} cluster=${cluster} editable=${editable} onChanged=${refresh}
      onClose=${() => { setOpen(false); refresh() }} />`}`
}

const keys = (count) => `${count} ${count === 1 ? 'key' : 'keys'}`

/** A drafted subtree write: one entry for all the keys it changes. */
function describeGroup(edit) {
  if (edit.op === 'rm') return `delete ${edit.key} and everything below it (${keys(edit.count)})`
  if (edit.op === 'import') return `import ${edit.format} into ${edit.key} (${keys(edit.count)})`
  return `${edit.op === 'mv' ? 'move' : 'copy'} ${edit.key} to ${edit.target} (${keys(edit.count)})`
}

function describeEdit(edit) {
  if (edit.group) return describeGroup(edit)
  if (edit.op === 'rm') return `delete ${edit.key}`
  const meta = Object.keys(edit.meta).length ? ` (metadata ${Object.keys(edit.meta).join(', ')})` : ''
  return `set ${edit.key}${edit.value == null ? '' : ` = ${edit.value}`}${meta}`
}

function EditForm({ cluster, onAdded }) {
  const [op, setOp] = useState('set')
  const [key, setKey] = useState('')
  const [value, setValue] = useState('')
  const [problem, setProblem] = useState(null)
  async function submit(event) {
    event.preventDefault()
    setProblem(null)
    try {
      await addEdit(cluster.id, op === 'set' ? { op, key, value } : { op, key })
      setKey('')
      setValue('')
      onAdded()
    } catch (error) {
      setProblem(error.message)
    }
  }
  return html`
    <form class="draft-edit-form" onSubmit=${submit} aria-label="Add to the draft">
      <label for="draft-op">Change</label>
      <select id="draft-op" value=${op} onChange=${(e) => setOp(e.currentTarget.value)}>
        <option value="set">Set a key</option>
        <option value="rm">Delete a key</option>
      </select>
      <label for="draft-key">Key</label>
      <input id="draft-key" value=${key} required placeholder="system:/app/port"
        aria-invalid=${problem ? 'true' : 'false'} aria-describedby=${problem ? 'draft-error' : null}
        onInput=${(e) => setKey(e.currentTarget.value)} />
      ${op === 'set' && html`<label for="draft-value">Value</label>
        <input id="draft-value" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />`}
      <button type="submit">Add to draft</button>
      ${problem && html`<p id="draft-error" class="field-error" role="alert">${problem}</p>`}
    </form>`
}

function PublishForm({ cluster, members, onPublished }) {
  const [message, setMessage] = useState('')
  const [canary, setCanary] = useState([])
  const [problem, setProblem] = useState(null)
  const toggle = (id) => setCanary(canary.includes(id) ? canary.filter((c) => c !== id) : [...canary, id])
  async function submit(event) {
    event.preventDefault()
    setProblem(null)
    try {
      const release = await publish(cluster.id, message, canary)
      notify(release.state === 'canary'
        ? `Published "${release.message}" to ${canary.length} canary member(s)`
        : `Published "${release.message}" to every member`)
      setMessage('')
      setCanary([])
      onPublished()
    } catch (error) {
      setProblem(error.message)
    }
  }
  return html`
    <form class="publish-form" onSubmit=${submit} aria-label="Publish the draft">
      <label for="release-message">Release message</label>
      <textarea id="release-message" required value=${message} rows="2"
        onInput=${(e) => setMessage(e.currentTarget.value)}></textarea>
      <fieldset>
        <legend>Canary members (optional: the others get the release when it is promoted)</legend>
        ${members.map((m) => html`<label key=${m.id}>
          <input type="checkbox" checked=${canary.includes(m.id)} onChange=${() => toggle(m.id)} /> ${m.name}</label>`)}
      </fieldset>
      <button class="primary" type="submit">Publish</button>
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    </form>`
}

function ReleaseHistory({ cluster, releases, editable, onChanged }) {
  const [problem, setProblem] = useState(null)
  async function act(what, release) {
    setProblem(null)
    try {
      await (what === 'promote' ? promote : rollBack)(cluster.id, release.id)
      notify(`${what === 'promote' ? 'Promoted' : 'Rolled back'} "${release.message}"`)
      onChanged()
    } catch (error) {
      setProblem({ release: release.id, message: error.message })
    }
  }
  if (releases.length === 0) return html`<p class="muted small">No release yet.</p>`
  return html`
    <ol class="history-list">
      ${releases.map((release) => html`
        <li class="history-entry" key=${release.id} data-release=${release.id} data-state=${release.state}>
          <div class="history-head">
            <strong>${release.user}</strong> ${release.message}
            <span class="muted small">${release.state}${release.canary.length ? `, canary: ${release.canary.map((id) => cluster.memberName(id)).join(', ')}` : ''}</span>
            <time datetime=${release.time} title=${exactTime(release.time)}>${relativeTime(release.time)}</time>
            ${editable && release.state === 'canary' && html`<button onClick=${() => act('promote', release)}>Promote</button>`}
            ${editable && release.state !== 'rolled-back' && html`<button class="ghost" onClick=${() => act('rollback', release)}>Roll back</button>`}
          </div>
          <p class="muted small">${release.keys.join(', ')}</p>
          ${problem?.release === release.id && html`<p class="field-error" role="alert">${problem.message}</p>`}
        </li>`)}
    </ol>`
}

/** The cluster's draft (edits collected, reaching no member), its diff, publishing it as one
 * release, and the releases so far with promote and roll back. */
export function ReleasesDialog({ cluster, editable, onChanged, onClose }) {
  const instances = useStore((s) => s.instances)
  const members = instances.filter((i) => i.cluster === cluster.id)
  const [draft, setDraft] = useState(null)
  const [releases, setReleases] = useState([])
  const [diff, setDiff] = useState(null)
  const [problem, setProblem] = useState(null)
  const named = { ...cluster, memberName: (id) => instances.find((i) => i.id === id)?.name ?? `#${id}` }

  async function load() {
    try {
      const [found, published] = await Promise.all([readDraft(cluster.id), readReleases(cluster.id)])
      setDraft(found)
      setReleases(published)
      setDiff(null)
      onChanged()
    } catch (error) {
      setProblem(error.message)
    }
  }
  useEffect(() => { load() }, [cluster.id])

  async function showDiff() {
    setProblem(null)
    try {
      setDiff(await draftDiff(cluster.id))
    } catch (error) {
      setProblem(error.message)
    }
  }

  async function remove(edit) {
    await removeEdit(cluster.id, edit.id).catch((error) => setProblem(error.message))
    await load()
  }

  const edits = draft?.edits ?? []
  return html`
    <${Dialog} title=${`Draft and releases of ${cluster.name}`} onClose=${onClose} wide>
      <div class="releases" data-testid="releases">
        <h3>Draft <span class="count">${edits.length}</span></h3>
        ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
        ${edits.length === 0 && html`<p class="muted small">The draft is empty: edits added here reach no member until they are published.</p>`}
        <ol class="draft-edits">
          ${edits.map((edit) => html`<li key=${edit.id} data-edit=${edit.id}>${describeEdit(edit)}
            <span class="muted small">by ${edit.user}</span>
            ${editable && html`<button class="ghost" aria-label=${`Remove ${describeEdit(edit)}`} onClick=${() => remove(edit)}>Remove</button>`}</li>`)}
        </ol>
        ${editable && html`<${EditForm} cluster=${cluster} onAdded=${load} />`}
        ${edits.length > 0 && html`<button onClick=${showDiff}>Review diff</button>`}
        ${diff && html`<div class="draft-diff" data-testid="draft-diff"><${PreviewTargets} targets=${diff} /></div>`}
        ${editable && edits.length > 0 && html`<${PublishForm} cluster=${cluster} members=${members} onPublished=${load} />`}
        <h3>Releases</h3>
        <${ReleaseHistory} cluster=${named} releases=${releases} editable=${editable} onChanged=${load} />
      </div>
    <//>`
}
