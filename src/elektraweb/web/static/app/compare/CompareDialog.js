import { useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { Dialog } from '../shared/Dialog.js'
import { Field } from '../shared/Field.js'
import { compareHref, sideOf, sideText } from './compare.js'

/** "Compare with…": choose the other instance or cluster and the key to compare below. */
export function CompareDialog({ target, base, onClose }) {
  const { instances, clusters } = useStore((s) => ({ instances: s.instances, clusters: s.clusters }))
  const others = [
    ...instances.map((i) => ({ kind: 'instance', id: i.id, name: i.name })),
    ...clusters.map((c) => ({ kind: 'cluster', id: c.id, name: c.name })),
  ].filter((o) => !(o.kind === target.kind && o.id === target.id))
  const [other, setOther] = useState(others[0] ? sideText(others[0]) : '')
  const [key, setKey] = useState(base && !base.startsWith('/') ? base : 'system:/')

  function submit(event) {
    event.preventDefault()
    const b = sideOf(other)
    if (!b) return
    onClose()
    location.hash = compareHref(target, b, key)
  }

  return html`
    <${Dialog} title="Compare with…" onClose=${onClose}>
      <form class="form" onSubmit=${submit}>
        <${Field} label="Other instance or cluster">${(id) => html`
          <select id=${id} name="other" value=${other} onChange=${(e) => setOther(e.currentTarget.value)}>
            ${others.map((o) => html`<option value=${sideText(o)}>${o.name} (${o.kind})</option>`)}
          </select>`}<//>
        <${Field} label="Below key" hint="A key in a namespace, e.g. system:/app">${(id, described) => html`
          <input id=${id} name="key" required value=${key} aria-describedby=${described}
            onInput=${(e) => setKey(e.currentTarget.value)} />`}<//>
        <div class="form-actions">
          <button type="button" class="ghost" onClick=${onClose}>Cancel</button>
          <button class="primary" type="submit" disabled=${!other}>Compare</button>
        </div>
      </form>
    <//>
  `
}
