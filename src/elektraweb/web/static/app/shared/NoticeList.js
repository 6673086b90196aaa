import { html } from './html.js'
import { dismissNotice, reportError, useStore } from './store.js'

/** Short messages that go away by themselves, some with an action such as Undo. */
export function NoticeList() {
  const notices = useStore((s) => s.notices)
  if (notices.length === 0) return null
  return html`
    <section class="notices" aria-live="polite" aria-label="Notices">
      ${notices.map(
        (notice) => html`
          <div class="notice" key=${notice.id}>
            <span>${notice.message}</span>
            ${notice.action &&
            html`<button class="link" onClick=${() => {
              dismissNotice(notice.id)
              notice.action.run().catch((error) => reportError(error, notice.action.label))
            }}>${notice.action.label}</button>`}
            <button class="icon" aria-label="Dismiss" onClick=${() => dismissNotice(notice.id)}>×</button>
          </div>
        `,
      )}
    </section>
  `
}
