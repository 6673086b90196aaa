import { html } from './html.js'
import { dismissNotice, holdNotice, reportError, useStore } from './store.js'

/** Short messages that go away by themselves, some with an action such as Undo; one that has
 * the focus or the pointer stays until they leave. The live region exists from the start. */
export function NoticeList() {
  const notices = useStore((s) => s.notices)
  return html`
    <section class="notices" aria-live="polite" aria-label="Notices">
      ${notices.map(
        (notice) => html`
          <div class="notice" key=${notice.id} data-notice=${notice.id}
            onFocusIn=${() => holdNotice(notice.id, true)}
            onFocusOut=${(e) => { if (!e.currentTarget.contains(e.relatedTarget)) holdNotice(notice.id, false) }}
            onPointerEnter=${() => holdNotice(notice.id, true)}
            onPointerLeave=${() => holdNotice(notice.id, document.activeElement?.closest(`[data-notice="${notice.id}"]`) != null)}>
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
