import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { addMember, isPending } from './registry.js'

/** Add an instance to a cluster; a refusal (already in another cluster) shows right here.
 * The choice is marked on its option, not as the select's value: the added instance leaves
 * the list, and a value naming no option would leave the select blank. */
export function MemberPicker({ cluster }) {
  const { instances, clusters } = useStore((s) => ({ instances: s.instances, clusters: s.clusters }))
  const [choice, setChoice] = useState('')
  const [refusal, setRefusal] = useState(null)
  const candidates = instances.filter((i) => i.cluster !== cluster.id && !isPending(i))
  const fieldId = `add-member-${cluster.id}`
  if (candidates.length === 0) return null

  async function submit(event) {
    event.preventDefault()
    if (!choice) return
    setRefusal(null)
    try {
      await addMember(cluster.id, Number(choice))
      setChoice('')
    } catch (error) {
      setRefusal(error.message)
    }
  }

  return html`
    <form class="member-picker" onSubmit=${submit}>
      <label for=${fieldId} class="visually-hidden">Add member to ${cluster.name}</label>
      <select id=${fieldId} name="member" aria-invalid=${refusal ? 'true' : 'false'}
        aria-describedby=${refusal ? `${fieldId}-error` : null}
        onChange=${(e) => { setChoice(e.currentTarget.value); setRefusal(null) }}>
        <option value="" selected=${choice === ''}>Add a member…</option>
        ${candidates.map((i) => {
          const other = clusters.find((c) => c.id === i.cluster)
          return html`<option value=${i.id} selected=${String(i.id) === choice}>${i.name}${other ? ` (in ${other.name})` : ''}</option>`
        })}
      </select>
      <button type="submit" disabled=${!choice}>Add</button>
      ${refusal && html`<p class="field-error" id=${`${fieldId}-error`} role="alert">${refusal}</p>`}
    </form>
  `
}
