import { useEffect, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { LockIcon } from '../shared/LockIcon.js'
import { getState, reportError, useStore } from '../shared/store.js'
import { canEdit } from '../session/session.js'
import { readOnlyReason, typeOf } from './metadata.js'
import { deleteKey } from './keyops.js'
import { reveal } from './tree.js'
import { kdbPath, request } from '../shared/api.js'
import { rootOf } from './keynames.js'
import { keepMine, takeTheirs } from './editing.js'
import { ValueEditor } from './ValueEditor.js'
import { focusKey } from './KeyTree.js'
import { MetadataEditor } from './MetadataEditor.js'
import { RelocateForm } from './RelocateForm.js'
import { KeyHistory } from '../history/KeyHistory.js'
import { EffectiveValue, useExplanation } from './EffectiveValue.js'

function ElsewhereWarning({ elsewhere }) {
  const who = elsewhere.origin === 'external' ? 'on the host'
    : elsewhere.origin?.startsWith('cluster:') ? 'by its cluster' : 'elsewhere'
  return html`
    <div class="warning" role="alert" data-testid="edited-elsewhere">
      <strong>Changed ${who} while you were editing.</strong>
      ${elsewhere.value !== null && html` New value: <code>${elsewhere.value}</code>.`}
      ${' '}Your text is kept.
      <div class="warning-actions">
        <button onClick=${takeTheirs}>Use the new value</button>
        <button onClick=${keepMine}>Keep mine</button>
      </div>
    </div>
  `
}

/** The spec key whose metadata an instance's key shows (libelektra copies spec metadata onto
 * the keys of every namespace when reading), or null: such metadata is edited in spec. */
function useSpecKey(target, path, meta) {
  const [specKey, setSpecKey] = useState(null)
  const root = path ? rootOf(path) : null
  const candidate = root && root !== 'spec:/' && root !== '/' ? `spec:/${path.slice(root.length)}` : null
  const hasMeta = Object.keys(meta ?? {}).length > 0
  useEffect(() => {
    setSpecKey(null)
    if (!candidate || !hasMeta || target.kind !== 'instance') return undefined
    let current = true
    request('GET', kdbPath(target, 'kdb', candidate))
      .then((found) => { if (current && found.exists && Object.keys(found.meta ?? {}).length > 0) setSpecKey(candidate) })
      .catch(() => {}) // no spec key to offer: the metadata is the key's own
    return () => { current = false }
  }, [target.kind, target.id, candidate, hasMeta])
  return specKey
}

export function KeyPanel() {
  const { config, session, editor } = useStore((s) => ({
    config: s.config,
    session: s.session,
    editor: s.editor,
  }))
  const [relocating, setRelocating] = useState(null)
  const path = config.selected
  const specKey = useSpecKey(config.target, path, config.nodes[path]?.meta)
  const explanation = useExplanation(config.target, path, config.nodes[path]?.revision)
  if (!path) {
    return html`<div class="key-panel empty-panel"><p class="muted">Select a key to see and change it.
      Use ↑ ↓ to move, → to open, Enter to edit.</p></div>`
  }
  const node = config.nodes[path]
  if (!node) return html`<div class="key-panel"><p class="muted">Loading ${path}…</p></div>`
  const lockedBy = config.locked[path]
  const editable = canEdit(session)
  const reason = readOnlyReason(node, { lockedBy, canEdit: editable })
  // A cluster has no specification of its own: its members' types and checks its keys.
  const meta = config.target.kind === 'cluster'
    ? { ...(explanation.explained?.spec.meta ?? {}), ...node.meta }
    : node.meta
  const isRoot = path.endsWith(':/')
  // A subtree's delete says what goes besides the key in its confirm step: asked once.
  const consequence = node.below > 0
    ? `This removes ${path}${node.exists ? '' : ' (it has no value itself)'} and the ${node.below} key${node.below === 1 ? '' : 's'} below it${config.target.kind === 'cluster' ? ', on every member of the cluster' : ''}. Undo brings them back while this page is open.`
    : null
  const remove = () => deleteKey(config.target, path, { consequence })
    .then(() => focusKey(getState().config?.selected))
    .catch((e) => reportError(e, `Could not delete ${path}`))

  return html`
    <article class="key-panel" aria-labelledby="key-title">
      <header class="key-head">
        <h2 id="key-title"><code>${path}</code></h2>
        <div class="badges">
          ${node.exists && html`<span class="badge badge-type">${typeOf(meta)}</span>`}
          ${!node.exists && html`<span class="badge badge-none">no value here</span>`}
          ${lockedBy && html`<span class="badge badge-lock" data-testid="lock"><${LockIcon} /> cluster ${lockedBy}</span>`}
          ${meta.visibility && html`<span class="badge">${meta.visibility}</span>`}
        </div>
      </header>
      ${meta.description && html`<p class="description">${meta.description}</p>`}
      ${editor?.path === path && editor.elsewhere && html`<${ElsewhereWarning} elsewhere=${editor.elsewhere} />`}
      <${ValueEditor} key=${path} target=${config.target} node=${{ ...node, meta }} readOnly=${reason} />
      ${(node.value === null || !node.exists) && meta.default !== undefined &&
      html`<p class="default">Default: <code>${meta.default}</code> (used while no value is set)</p>`}
      ${meta.example && html`<p class="muted small">Example: <code>${meta.example}</code></p>`}
      ${!isRoot && html`<${EffectiveValue} ...${explanation} />`}
      ${editable && !isRoot && html`
        <div class="key-actions" role="group" aria-label="Key actions">
          <button disabled=${Boolean(lockedBy)} onClick=${() => setRelocating('move')}>Rename / move</button>
          <button onClick=${() => setRelocating('copy')}>Duplicate / copy</button>
          <button class="danger" disabled=${Boolean(lockedBy)} onClick=${remove}>Delete</button>
        </div>`}
      ${node.exists && html`<${MetadataEditor} key=${`meta:${path}:${node.revision}`} target=${config.target}
        path=${path} meta=${meta} readOnly=${!editable || Boolean(lockedBy) || Boolean(specKey)}
        specKey=${specKey} onEditSpec=${() => reveal(specKey)} />`}
      ${!isRoot && html`<${KeyHistory} target=${config.target} path=${path} revision=${node.revision}
        editable=${editable} />`}
      ${relocating && html`<${RelocateForm} target=${config.target} path=${path} mode=${relocating}
        onClose=${() => setRelocating(null)} />`}
    </article>
  `
}

