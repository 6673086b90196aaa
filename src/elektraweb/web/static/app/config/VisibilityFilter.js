import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { VISIBILITIES } from './metadata.js'
import { setShowHidden, setVisibility } from './tree.js'

/** Hide keys below a visibility level (metadata `visibility`), with a switch to show them. */
export function VisibilityFilter() {
  const { visibility, showHidden } = useStore((s) => ({
    visibility: s.config.visibility,
    showHidden: s.config.showHidden,
  }))
  return html`
    <div class="visibility">
      <label for="visibility-level" class="small">Show up to</label>
      <select id="visibility-level" value=${visibility} disabled=${showHidden}
        onChange=${(e) => setVisibility(e.currentTarget.value)}>
        ${VISIBILITIES.map((v) => html`<option value=${v}>${v}</option>`)}
      </select>
      <label class="check small"><input type="checkbox" checked=${showHidden}
        onChange=${(e) => setShowHidden(e.currentTarget.checked)} /> show all</label>
    </div>
  `
}
