import { useEffect, useRef, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { request } from '../shared/api.js'
import { notify, useStore } from '../shared/store.js'
import { exactTime, relativeTime } from '../shared/format.js'
import { describeChange, describeEntry, revertEntry } from './undo.js'
import { ChangeList } from './ChangeList.js'
import { promote, readReleases, rollBack } from '../releases/releases.js'

const SHOWN = 20

/** The release a cluster's history entry published, by its id, or null. */
const releaseOf = (entry) => (entry.action === 'release' ? entry.args?.release ?? null : null)

/** The cluster's releases by id, read when the entries shown include one; and a reload. */
function useReleases(target, entries) {
  const [releases, setReleases] = useState({})
  const wanted = target.kind === 'cluster' && (entries ?? []).some((entry) => releaseOf(entry) !== null)
  async function loadReleases() {
    if (!wanted) return
    const found = await readReleases(target.id)
    setReleases(Object.fromEntries(found.map((release) => [release.id, release])))
  }
  useEffect(() => { loadReleases().catch(() => {}) }, [target.kind, target.id, wanted, entries])
  return [releases, loadReleases]
}

/** The key's history from the audit log: who changed it when, and from what to what. An
 * editor can revert a change; one that would overwrite a later change is refused and says
 * which keys changed, with "Revert anyway" to overwrite them on purpose. A cluster's release
 * is promoted (while a canary) or rolled back from its entry, as in the Draft dialog. */
export function KeyHistory({ target, path, revision, editable }) {
  const [entries, setEntries] = useState(null)
  const [problem, setProblem] = useState(null) // {entry?, keys?, message}
  const [busy, setBusy] = useState(false)
  const loads = useRef(0)
  // A change's event can come before its audit entry is finished (and listed): the entry's
  // own event reads the history again.
  const audited = useStore((s) => {
    const heard = s.audited
    return heard && heard.type === target.kind && heard.id === String(target.id) && heard.key === path
      ? heard.entry
      : null
  })

  async function load() {
    // Of reads that overlap, the last one started is shown: an earlier one may miss an entry.
    const started = ++loads.current
    try {
      const query = { [target.kind]: String(target.id), key: path, limit: String(SHOWN) }
      const found = await request('GET', '/api/history', { query })
      if (started === loads.current) setEntries(found)
    } catch (error) {
      if (started === loads.current) setProblem({ message: `Could not read the history: ${error.message}` })
    }
  }

  useEffect(() => {
    setProblem(null)
    load()
  }, [target.kind, target.id, path, revision])
  useEffect(() => {
    if (audited !== null) load()
  }, [audited])

  const [releases, loadReleases] = useReleases(target, entries)

  async function act(what, entry, release) {
    setBusy(true)
    setProblem(null)
    try {
      await (what === 'promote' ? promote : rollBack)(target.id, release.id)
      notify(`${what === 'promote' ? 'Promoted' : 'Rolled back'} "${release.message}"`)
      await Promise.all([load(), loadReleases()])
    } catch (error) {
      setProblem({ entry, keys: null, message: error.message })
    } finally {
      setBusy(false)
    }
  }

  async function revert(entry, force = false) {
    setBusy(true)
    setProblem(null)
    try {
      await revertEntry(entry, { force })
      notify(`Reverted: ${describeEntry(entry)}`)
      await load()
    } catch (error) {
      const keys = error.status === 409 ? error.error.keys ?? [] : null
      setProblem({ entry, keys, message: error.message })
    } finally {
      setBusy(false)
    }
  }

  return html`
    <details class="key-history" data-testid="key-history">
      <summary>History <span class="count">${entries ? entries.length : '…'}</span></summary>
      ${problem && !problem.entry && html`<p class="field-error" role="alert">${problem.message}</p>`}
      ${entries?.length === 0 && html`<p class="muted small">No change of this key was made through elektra-web.</p>`}
      <ol class="history-list">
        ${(entries ?? []).map((entry) => html`
          <li class="history-entry" data-entry=${entry.id}>
            <div class="history-head">
              <strong>${entry.user}</strong> ${describeChange(entry)}
              <time datetime=${entry.time} title=${exactTime(entry.time)}>${relativeTime(entry.time)}</time>
              ${editable && html`<button class="ghost" disabled=${busy} onClick=${() => revert(entry)}>Revert</button>`}
            </div>
            ${releases[releaseOf(entry)] && html`<${ReleaseActions} release=${releases[releaseOf(entry)]}
              editable=${editable} busy=${busy} onAct=${(what, release) => act(what, entry, release)} />`}
            <${ChangeList} changes=${entry.changes.filter((change) => change.key === path)} />
            ${problem?.entry?.id === entry.id && html`
              <div class="warning" role="alert" data-testid="revert-conflict">
                ${problem.keys
                  ? html`<strong>Not reverted:</strong> ${problem.keys.join(', ')} changed since, by someone else.`
                  : html`<strong>Not reverted:</strong> ${problem.message}`}
                ${problem.keys && html`<div class="warning-actions">
                  <button onClick=${() => revert(entry, true)}>Revert anyway</button>
                  <button onClick=${() => setProblem(null)}>Keep the newer change</button>
                </div>`}
              </div>`}
          </li>`)}
      </ol>
    </details>
  `
}

/** A release's state on its history entry, with promote (a canary) and roll back (not yet). */
function ReleaseActions({ release, editable, busy, onAct }) {
  return html`
    <div class="release-actions" data-release=${release.id} data-state=${release.state}>
      <span class="muted small">Release "${release.message}": ${release.state}</span>
      ${editable && release.state === 'canary' && html`<button disabled=${busy}
        onClick=${() => onAct('promote', release)}>Promote</button>`}
      ${editable && release.state !== 'rolled-back' && html`<button class="ghost" disabled=${busy}
        onClick=${() => onAct('rollback', release)}>Roll back</button>`}
    </div>
  `
}
