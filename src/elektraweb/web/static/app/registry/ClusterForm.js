import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { addCluster, changeCluster, refusedField } from './registry.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'

export function ClusterForm({ cluster, onClose }) {
  const [name, setName] = useState(cluster?.name ?? '')
  const [description, setDescription] = useState(cluster?.description ?? '')
  const [refusal, setRefusal] = useState(null)

  async function submit(event) {
    event.preventDefault()
    setRefusal(null)
    try {
      if (cluster) await changeCluster(cluster.id, { name, description })
      else await addCluster({ name, description })
      onClose()
    } catch (error) {
      setRefusal({ field: refusedField(error, ['name', 'description']), message: error.message })
    }
  }

  const errorOf = (field) => (refusal?.field === field ? refusal.message : null)
  return html`
    <${Dialog} title=${cluster ? `Edit ${cluster.name}` : 'New cluster'} onClose=${onClose}>
      <form class="form" onSubmit=${submit}>
        <${Field} label="Name" error=${errorOf('name')}>${(id, described) => html`
          <input id=${id} name="name" required value=${name} aria-describedby=${described}
            onInput=${(e) => setName(e.currentTarget.value)} />`}<//>
        <${Field} label="Description" error=${errorOf('description')}>${(id, described) => html`
          <input id=${id} name="description" aria-describedby=${described} value=${description}
            onInput=${(e) => setDescription(e.currentTarget.value)} />`}<//>
        <div class="form-actions">
          <button type="button" class="ghost" onClick=${onClose}>Cancel</button>
          <button class="primary" type="submit">${cluster ? 'Save' : 'Create cluster'}</button>
        </div>
      </form>
    <//>
  `
}
