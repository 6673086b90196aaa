import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { reveal, setSearch } from './tree.js'

export function SearchResults() {
  const { results, truncated, query } = useStore((s) => s.config.search)
  const count = results.length
  return html`
    <div class="search-results">
      <div class="search-summary">
        <strong data-testid="result-count">${count === 0 ? 'No results'
          : `${count}${truncated ? '+' : ''} result${count === 1 ? '' : 's'}`}</strong>
        <span class="muted small"> for <code>${query}</code></span>
        <button class="link" onClick=${() => setSearch({ results: null })}>Clear</button>
      </div>
      ${count === 0 && html`<p class="muted small">No key name${' '}matches. Try a shorter pattern, or tick “values too”.</p>`}
      <ul class="result-list">
        ${results.map((name) => html`<li key=${name}>
          <button class="result" onClick=${() => reveal(name)}><code>${name}</code></button></li>`)}
      </ul>
    </div>
  `
}
