import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { Dialog } from '../shared/Dialog.js'
import { answerConfirm, refusedEverywhere } from './preview.js'
import { PreviewTargets } from './ChangeList.js'

/** The confirm step of a previewed write (see preview.js). */
export function ConfirmChanges() {
  const confirm = useStore((s) => s.confirm)
  if (!confirm) return null
  const refused = refusedEverywhere(confirm.targets) !== null
  return html`
    <${Dialog} title=${`Confirm: ${confirm.title}`} onClose=${() => answerConfirm(false)} wide>
      <div class="confirm-changes" data-testid="confirm-changes">
        ${confirm.consequence && html`<p class="consequence" data-testid="consequence">${confirm.consequence}</p>`}
        <${PreviewTargets} targets=${confirm.targets} />
        <div class="dialog-actions">
          ${!refused && html`<button class="primary" onClick=${() => answerConfirm(true)}>Apply</button>`}
          ${!refused && confirm.draftable && html`<button onClick=${() => answerConfirm('draft')}>Add to draft</button>`}
          <button class="ghost" onClick=${() => answerConfirm(false)}>Cancel</button>
        </div>
      </div>
    <//>
  `
}
