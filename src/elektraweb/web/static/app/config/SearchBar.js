import { html } from '../shared/html.js'
import { useStore } from '../shared/store.js'
import { runSearch, setSearch } from './tree.js'

/** Searches the whole instance or cluster on the server (a regular expression on names). */
export function SearchBar() {
  const search = useStore((s) => s.config.search)
  return html`
    <form class="search" role="search" onSubmit=${(e) => { e.preventDefault(); runSearch() }}>
      <label for="search-input" class="visually-hidden">Search keys</label>
      <input id="search-input" type="search" placeholder="Search keys (regular expression)…"
        value=${search.query} onInput=${(e) => setSearch({ query: e.currentTarget.value })}
        onKeyDown=${(e) => { if (e.key === 'Escape') setSearch({ query: '', results: null }) }} />
      <label class="check small"><input type="checkbox" checked=${search.values}
        onChange=${(e) => setSearch({ values: e.currentTarget.checked })} /> values too</label>
      <button type="submit" disabled=${search.loading}>${search.loading ? 'Searching…' : 'Search'}</button>
    </form>
  `
}
