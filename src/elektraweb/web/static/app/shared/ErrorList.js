import { html } from './html.js'
import { dismissAllErrors, dismissError, useStore } from './store.js'

/** Errors stay until dismissed; the details (request, status, body) are one click away. The
 * live region is on the page from the start, so that screen readers announce the first error. */
export function ErrorList() {
  const errors = useStore((s) => s.errors)
  return html`
    <section class="errors" aria-label="Errors" aria-live="assertive" aria-relevant="additions">
      ${errors.length > 1 && html`
        <button class="dismiss-all" onClick=${dismissAllErrors}>Dismiss all ${errors.length} errors</button>`}
      ${errors.map(
        (error) => html`
          <div class="error-card" key=${error.id}>
            <div class="error-head">
              <span class="error-icon" aria-hidden="true">!</span>
              <p class="error-message">${error.message}${error.count > 1 &&
                html` <span class="error-count">(${error.count} times)</span>`}</p>
              <button class="icon" aria-label="Dismiss error" title="Dismiss"
                onClick=${() => dismissError(error.id)}>×</button>
            </div>
            ${error.details &&
            html`<details><summary>Details</summary><pre>${error.details}</pre></details>`}
          </div>
        `,
      )}
    </section>
  `
}
