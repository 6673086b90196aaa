import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { LockIcon } from '../shared/LockIcon.js'
import { useStore } from '../shared/store.js'
import { screenTitle } from '../shell/navigation.js'
import { canEdit, isAdmin } from '../session/session.js'
import { KeyTree } from './KeyTree.js'
import { KeyPanel } from './KeyPanel.js'
import { SearchBar } from './SearchBar.js'
import { SearchResults } from './SearchResults.js'
import { VisibilityFilter } from './VisibilityFilter.js'
import { MemberResults } from './MemberResults.js'
import { StatusBadge } from '../registry/StatusBadge.js'
import { SyncBadge } from '../registry/SyncBadge.js'
import { NewKeyForm } from './NewKeyForm.js'
import { TransferForm } from './TransferForm.js'
import { MountsDialog } from './MountsDialog.js'
import { CompareDialog } from '../compare/CompareDialog.js'
import { DraftButton } from '../releases/ReleasesDialog.js'

function TargetHeader({ target }) {
  const { instances, clusters } = useStore((s) => ({ instances: s.instances, clusters: s.clusters }))
  if (target.kind === 'cluster') {
    const cluster = clusters.find((c) => c.id === target.id)
    const members = instances.filter((i) => i.cluster === target.id)
    return html`
      <div class="target-head">
        <span class="kind">Cluster</span>
        <h1 tabindex="-1">${cluster?.name ?? `#${target.id}`}</h1>
        <${SyncBadge} kind="cluster" item=${cluster} />
        <ul class="member-strip" aria-label="Members">
          ${members.map((m) => html`<li key=${m.id} data-member=${m.name}>
            <a href=${`#/instances/${m.id}`}>${m.name}</a>
            <${StatusBadge} status=${m.status} /><${SyncBadge} kind="instance" item=${m} /></li>`)}
          ${members.length === 0 && html`<li class="muted small">No members yet.</li>`}
        </ul>
      </div>`
  }
  const instance = instances.find((i) => i.id === target.id)
  const cluster = clusters.find((c) => c.id === instance?.cluster)
  return html`
    <div class="target-head">
      <span class="kind">Instance</span>
      <h1 tabindex="-1">${instance?.name ?? `#${target.id}`}</h1>
      ${instance && html`<${StatusBadge} status=${instance.status} />`}
      ${instance && html`<code class="muted small">${instance.endpoint}</code>`}
      ${cluster && html`<span class="lock-note"><${LockIcon} /> Member of <a href=${`#/clusters/${cluster.id}`}>${cluster.name}</a>:
        keys it sets are locked here</span>`}
    </div>`
}

export function ConfigScreen() {
  const { target, session, selected, hasResults, title } = useStore((s) => ({
    target: s.config?.target,
    title: screenTitle(s),
    session: s.session,
    selected: s.config?.selected,
    hasResults: s.config?.search.results != null,
  }))
  const [dialog, setDialog] = useState(null)
  const cluster = useStore((s) => s.clusters.find((c) => target?.kind === 'cluster' && c.id === target.id))
  if (!target) return html`<p class="muted">Loading…</p>`
  const editor = canEdit(session)
  return html`
    <nav class="breadcrumbs" aria-label="Breadcrumb"><a href="#/">Overview</a> <span aria-hidden="true">/</span>${' '}
      <span aria-current="page">${title}</span></nav>
    <${TargetHeader} target=${target} />
    <div class="toolbar">
      <${SearchBar} />
      <${VisibilityFilter} />
      <span class="toolbar-actions">
        ${editor && html`<button class="primary" onClick=${() => setDialog('new')}>+ New key</button>`}
        <button onClick=${() => setDialog('transfer')}>Import / Export</button>
        ${target.kind === 'instance' && html`<button onClick=${() => setDialog('mounts')}>Mounts</button>`}
        <button onClick=${() => setDialog('compare')}>Compare with…</button>
        ${cluster && html`<${DraftButton} cluster=${cluster} editable=${editor} />`}
      </span>
    </div>
    <div class="config-body">
      <aside class="tree-pane" aria-label="Keys">
        ${hasResults && html`<${SearchResults} />`}
        <${KeyTree} />
      </aside>
      <section class="key-pane" aria-label="Selected key">
        ${target.kind === 'cluster' && html`<${MemberResults} />`}
        <${KeyPanel} onNewBelow=${() => setDialog('new')} />
      </section>
    </div>
    ${dialog === 'new' && html`<${NewKeyForm} target=${target} parent=${selected}
      onClose=${() => setDialog(null)} />`}
    ${dialog === 'transfer' && html`<${TransferForm} target=${target} base=${selected ?? 'user:/'}
      canImport=${editor} onClose=${() => setDialog(null)} />`}
    ${dialog === 'compare' && html`<${CompareDialog} target=${target} base=${selected}
      onClose=${() => setDialog(null)} />`}
    ${dialog === 'mounts' && html`<${MountsDialog} target=${target} admin=${isAdmin(session)}
      onClose=${() => setDialog(null)} />`}
  `
}
