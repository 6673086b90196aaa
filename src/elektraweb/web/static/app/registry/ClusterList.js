import { html } from '../shared/html.js'
import { reportError, useStore } from '../shared/store.js'
import { isAdmin } from '../session/session.js'
import { removeCluster, removeMember } from './registry.js'
import { SyncBadge } from './SyncBadge.js'
import { StatusBadge } from './StatusBadge.js'
import { ConfirmButton } from '../shared/ConfirmButton.js'
import { MemberPicker } from './MemberPicker.js'

function Member({ cluster, instance, admin }) {
  return html`
    <li class="member" data-member=${instance.name}>
      <a href=${`#/instances/${instance.id}`}>${instance.name}</a>
      <${StatusBadge} status=${instance.status} />
      <${SyncBadge} kind="instance" item=${instance} />
      ${admin && html`<${ConfirmButton} className="icon" label="×"
        ariaLabel=${`Remove ${instance.name} from ${cluster.name}`}
        confirm=${`Remove ${instance.name} from ${cluster.name}`}
        consequence=${`${instance.name} leaves ${cluster.name}: the cluster's keys are unlocked on it and keep their values there, but later changes to ${cluster.name} no longer reach it.`}
        onConfirm=${() => removeMember(cluster.id, instance.id)
          .then(() => document.getElementById(`add-member-${cluster.id}`)?.focus())
          .catch((e) => reportError(e, `Could not remove ${instance.name}`))} />`}
    </li>
  `
}

export function ClusterList({ onEdit }) {
  const { clusters, instances, session } = useStore((s) => ({
    clusters: s.clusters,
    instances: s.instances,
    session: s.session,
  }))
  const admin = isAdmin(session)
  if (clusters.length === 0) {
    return html`<p class="empty">No clusters yet.${admin ? ' A cluster sets the same keys on all its members.' : ''}</p>`
  }
  return html`
    <ul class="clusters">
      ${clusters.map((cluster) => {
        const members = instances.filter((i) => cluster.members.includes(i.id))
        return html`
          <li class="cluster-card" key=${cluster.id} data-cluster=${cluster.name}>
            <div class="cluster-head">
              <a class="strong" href=${`#/clusters/${cluster.id}`}>${cluster.name}</a>
              <${SyncBadge} kind="cluster" item=${cluster} />
              <span class="muted small">${members.length} member${members.length === 1 ? '' : 's'}</span>
              ${admin && html`<span class="actions">
                <button class="ghost" onClick=${() => onEdit(cluster)}>Edit</button>
                <${ConfirmButton} label="Delete" confirm=${`Delete ${cluster.name}`}
                  onConfirm=${() => removeCluster(cluster.id).catch((e) => reportError(e, `Could not delete ${cluster.name}`))} />
              </span>`}
            </div>
            ${cluster.description && html`<p class="muted small">${cluster.description}</p>`}
            <ul class="members">
              ${members.map((m) => html`<${Member} key=${m.id} cluster=${cluster} instance=${m} admin=${admin} />`)}
              ${members.length === 0 && html`<li class="muted small">No members.</li>`}
            </ul>
            ${admin && html`<${MemberPicker} cluster=${cluster} />`}
          </li>
        `
      })}
    </ul>
  `
}
