import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { runSearch, setSearch } from './tree.js'

function summary(search) {
  if (search.loading) return 'Searching…'
  if (search.problem) return `The search was refused: ${search.problem}`
  if (search.results === null) return ''
  const count = search.results.length
  return count === 0 ? 'No results' : `${count}${search.truncated ? '+' : ''} result${count === 1 ? '' : 's'}`
}

/** Searches the whole instance or cluster on the server (a regular expression on names). The
 * status region is there from the start, so screen readers announce the first result count. */
export function SearchBar() {
  const search = useStore((s) => s.config.search)
  return html`
    <form class="search" role="search" onSubmit=${(e) => { e.preventDefault(); runSearch() }}>
      <label for="search-input" class="visually-hidden">Search keys</label>
      <input id="search-input" type="search" placeholder="Search keys (regular expression)…"
        value=${search.query} aria-invalid=${search.problem ? 'true' : 'false'}
        aria-describedby=${search.problem ? 'search-problem' : null}
        onInput=${(e) => setSearch({ query: e.currentTarget.value, problem: null })}
        onKeyDown=${(e) => { if (e.key === 'Escape') setSearch({ query: '', results: null, problem: null }) }} />
      <label class="check small"><input type="checkbox" checked=${search.values}
        onChange=${(e) => setSearch({ values: e.currentTarget.checked })} /> values too</label>
      <button type="submit" disabled=${search.loading}>${search.loading ? 'Searching…' : 'Search'}</button>
      ${search.problem && html`<p class="field-error search-problem" id="search-problem">${search.problem}</p>`}
      <p class="visually-hidden" role="status" data-testid="search-status">${summary(search)}</p>
    </form>
  `
}
