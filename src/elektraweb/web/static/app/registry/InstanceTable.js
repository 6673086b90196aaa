import { html } from '../shared/html.js'
import { reportError, useStore } from '../shared/store.js'
import { isAdmin } from '../session/session.js'
import { acceptInstance, fingerprint, isPending, rejectInstance, removeInstance } from './registry.js'
import { StatusBadge } from './StatusBadge.js'
import { SyncBadge } from './SyncBadge.js'
import { ConfirmButton } from '../shared/ConfirmButton.js'

export function InstanceTable({ onEdit }) {
  const { instances, clusters, session } = useStore((s) => ({
    instances: s.instances,
    clusters: s.clusters,
    session: s.session,
  }))
  const admin = isAdmin(session)
  if (instances.length === 0) {
    return html`<p class="empty">No instances yet.${admin ? ' Add one with its endpoint and public key.' : ''}</p>`
  }
  const clusterName = (id) => clusters.find((c) => c.id === id)?.name ?? `#${id}`
  return html`
    <table class="table instances">
      <thead>
        <tr><th>Name</th><th>Endpoint</th><th>Status</th><th>Cluster</th><th>Sync</th>
          <th>Key</th>${admin && html`<th><span class="visually-hidden">Actions</span></th>`}</tr>
      </thead>
      <tbody>
        ${instances.map(
          (instance) => html`
            <tr key=${instance.id} data-instance=${instance.name}>
              <td data-label="Name">${isPending(instance) ? html`<span class="strong">${instance.name}</span>`
                : html`<a class="strong" href=${`#/instances/${instance.id}`}>${instance.name}</a>`}
                ${instance.description && html`<div class="muted small">${instance.description}</div>`}</td>
              <td data-label="Endpoint"><code>${instance.endpoint}</code></td>
              <td data-label="Status">${isPending(instance)
                ? html`<span class="status status-pending" title="Enrolled itself; waits for an admin to accept it">
                    <span class="dot"></span>Pending</span>`
                : html`<${StatusBadge} status=${instance.status} />`}</td>
              <td data-label="Cluster">${instance.cluster == null ? html`<span class="muted">—</span>`
                : html`<a href=${`#/clusters/${instance.cluster}`}>${clusterName(instance.cluster)}</a>`}</td>
              <td data-label="Sync"><${SyncBadge} kind="instance" item=${instance} /></td>
              <td data-label="Key"><code class="fingerprint" title=${fingerprint(instance.public_key)}>
                ${instance.public_key.slice(0, 10)}…</code></td>
              ${admin && isPending(instance) && html`<td class="actions">
                <${PendingActions} instance=${instance} />
              </td>`}
              ${admin && !isPending(instance) && html`<td class="actions">
                <button class="ghost" onClick=${() => onEdit(instance)}>Edit</button>
                <${ConfirmButton} label="Remove" confirm=${`Remove ${instance.name}`}
                  consequence=${`${instance.name} is unregistered: clusterd stops reaching it${instance.cluster == null ? '' : ' and it leaves its cluster, whose keys it keeps but no longer receives'}. Its own configuration stays on the host; the audit log keeps its history.`}
                  onConfirm=${() => removeInstance(instance.id)
                    .then(() => document.getElementById('instances-title')?.focus())
                    .catch((e) => reportError(e, `Could not remove ${instance.name}`))} />
              </td>`}
            </tr>
          `,
        )}
      </tbody>
    </table>
  `
}

/** Accept or reject a host that enrolled itself; the key to compare is in the row. */
function PendingActions({ instance }) {
  const focusTitle = () => document.getElementById('instances-title')?.focus()
  return html`
    <button class="primary" aria-label=${`Accept ${instance.name}`}
      onClick=${() => acceptInstance(instance.id)
        .catch((e) => reportError(e, `Could not accept ${instance.name}`))}>Accept</button>
    <${ConfirmButton} label="Reject" confirm=${`Reject ${instance.name}`}
      onConfirm=${() => rejectInstance(instance.id)
        .then(focusTitle)
        .catch((e) => reportError(e, `Could not reject ${instance.name}`))} />
  `
}
