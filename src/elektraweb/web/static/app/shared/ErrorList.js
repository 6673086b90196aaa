import { html } from './html.js'
import { dismissError, useStore } from './store.js'

/** Errors stay until dismissed; the details (request, status, body) are one click away. */
export function ErrorList() {
  const errors = useStore((s) => s.errors)
  if (errors.length === 0) return null
  return html`
    <section class="errors" aria-label="Errors" role="alert">
      ${errors.map(
        (error) => html`
          <div class="error-card" key=${error.id}>
            <div class="error-head">
              <span class="error-icon" aria-hidden="true">!</span>
              <p class="error-message">${error.message}</p>
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
