import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { isAdmin } from '../session/session.js'
import { InstanceTable } from './InstanceTable.js'
import { InstanceForm } from './InstanceForm.js'
import { ClusterList } from './ClusterList.js'
import { ClusterForm } from './ClusterForm.js'
import { EnrollmentForm } from './EnrollmentForm.js'

export function OverviewScreen() {
  const { session, loaded, instanceCount, clusterCount } = useStore((s) => ({
    session: s.session,
    loaded: s.registryLoaded,
    instanceCount: s.instances.length,
    clusterCount: s.clusters.length,
  }))
  const [dialog, setDialog] = useState(null)
  const admin = isAdmin(session)
  // Until the registry is read, one placeholder stands for the whole screen: showing the two
  // panels empty and filling them in made everything below jump (layout shift).
  if (!loaded) return html`<section class="panel" aria-busy="true"><p class="muted">Loading instances and clusters…</p></section>`
  return html`
    <section class="panel" aria-labelledby="instances-title">
      <div class="panel-head">
        <h1 id="instances-title" tabindex="-1">Instances <span class="count">${instanceCount}</span></h1>
        ${admin && html`<div class="panel-actions">
          <button class="ghost" onClick=${() => setDialog({ kind: 'enrollment' })}>+ Enrollment token</button>
          <button class="primary" onClick=${() => setDialog({ kind: 'instance' })}>+ Add instance</button>
        </div>`}
      </div>
      <${InstanceTable} onEdit=${(instance) => setDialog({ kind: 'instance', instance })} />
    </section>
    <section class="panel" aria-labelledby="clusters-title">
      <div class="panel-head">
        <h1 id="clusters-title">Clusters <span class="count">${clusterCount}</span></h1>
        ${admin && html`<button class="primary" onClick=${() => setDialog({ kind: 'cluster' })}>
          + New cluster</button>`}
      </div>
      <${ClusterList} onEdit=${(cluster) => setDialog({ kind: 'cluster', cluster })} />
    </section>
    ${dialog?.kind === 'instance' &&
    html`<${InstanceForm} instance=${dialog.instance} onClose=${() => setDialog(null)} />`}
    ${dialog?.kind === 'enrollment' && html`<${EnrollmentForm} onClose=${() => setDialog(null)} />`}
    ${dialog?.kind === 'cluster' &&
    html`<${ClusterForm} cluster=${dialog.cluster} onClose=${() => setDialog(null)} />`}
  `
}
