import { useRef, useState } from 'preact/hooks'
import { html } from '../shared/html.js'
import { LockIcon } from '../shared/LockIcon.js'
import { useStore } from '../shared/store.js'
import { displayPart, isArrayPart, NAMESPACES, parentOf } from './keynames.js'
import { VISIBILITIES, visibilityRank } from './metadata.js'
import { select, setExpanded, setShowHidden, toggleExpanded } from './tree.js'

const PAGE = 200 // children shown at once; more on request, so huge levels stay fast

/** The rows on screen, in order: expanded keys' children follow them, filtered and paged. */
function visibleRows(config, pages) {
  const rows = []
  const limit = config.showHidden ? Infinity : VISIBILITIES.indexOf(config.visibility)
  const walk = (path, depth) => {
    const node = config.nodes[path]
    rows.push({ type: 'key', path, depth, node })
    if (!node || !config.expanded[path] || !node.children) return
    const shown = node.children.filter((child) => {
      const kid = config.nodes[child]
      return !kid?.exists || visibilityRank(kid.meta) <= limit
    })
    const hidden = node.children.length - shown.length
    const page = pages[path] ?? PAGE
    for (const child of shown.slice(0, page)) walk(child, depth + 1)
    if (shown.length > page) {
      rows.push({ type: 'more', path, depth: depth + 1, remaining: shown.length - page })
    }
    if (hidden > 0) rows.push({ type: 'hidden', path, depth: depth + 1, hidden })
  }
  for (const ns of NAMESPACES) walk(`${ns}:/`, 0)
  return rows
}

function preview(node) {
  if (!node?.exists) return ''
  if ('binary' in node.meta) return '(binary)'
  if (node.value === null) return node.meta.default !== undefined ? `default: ${node.meta.default}` : ''
  return node.value.length > 60 ? `${node.value.slice(0, 60)}…` : node.value
}

function KeyRow({ row, config, focusable }) {
  const { path, depth, node } = row
  const root = depth === 0
  const expandable = root || (node?.below ?? 0) > 0
  const expanded = Boolean(config.expanded[path])
  const selected = config.selected === path
  const locked = config.locked[path]
  const loading = config.loading[path]
  // A namespace not read yet is neither open nor closed: the screen may open it once read.
  const busy = Boolean(loading) || !node
  const label = root ? path.slice(0, -2) : displayPart(node?.name ?? '')
  const classes = ['row', selected && 'selected', config.flashes[path] && 'flash',
    locked && 'locked', root && 'root', node && !node.exists && 'implicit'].filter(Boolean).join(' ')
  return html`
    <div role="treeitem" class=${classes} data-path=${path} aria-level=${depth + 1}
      aria-selected=${selected ? 'true' : 'false'}
      aria-expanded=${expandable && node ? String(expanded) : null} aria-busy=${busy ? 'true' : null}
      tabindex=${focusable ? 0 : -1} style=${`--depth: ${depth}`}
      onClick=${() => selectByPointer(path)}>
      <span class="twisty" aria-hidden="true" onClick=${(e) => { e.stopPropagation(); toggleExpanded(path) }}>
        ${loading ? '◌' : expandable ? (expanded ? '▾' : '▸') : ''}</span>
      <span class=${`key-name ${!root && isArrayPart(node?.name ?? '') ? 'array-index' : ''}`}>${label}</span>
      ${root && html`<span class="namespace-hint">${path}</span>`}
      ${locked && html`<span class="lock"><${LockIcon} title=${`locked: owned by cluster ${locked}`} /></span>`}
      <span class="key-value">${preview(node)}</span>
      ${expandable && node && node.below > 0 &&
      html`<span class="key-count" title="keys below">${node.below}</span>`}
    </div>
  `
}

function focusRow(tree, path) {
  const row = tree.querySelector(`[role=treeitem][data-path="${CSS.escape(path)}"]`)
  row?.focus()
  row?.scrollIntoView({ block: 'nearest' })
}

/** Put the focus on a key's row, e.g. the parent after its child was deleted. */
export function focusKey(path) {
  const tree = document.querySelector('[role=tree]')
  if (tree && path) focusRow(tree, path)
}

// One column on narrow screens: the key panel is below the tree, so a tap on a row scrolls
// the panel into view (keyboard users move through the tree and jump with Enter instead).
const ONE_COLUMN = '(max-width: 860px)'

function selectByPointer(path) {
  select(path)
  if (!window.matchMedia(ONE_COLUMN).matches) return
  requestAnimationFrame(() => document.querySelector('.key-pane')?.scrollIntoView({ block: 'start' }))
}

/** The keys as a tree, one namespace per root; usable with arrow keys, Enter and Space. */
export function KeyTree() {
  const config = useStore((s) => s.config)
  const [pages, setPages] = useState({})
  const ref = useRef(null)
  const rows = visibleRows(config, pages)
  const keyRows = rows.filter((row) => row.type === 'key')
  const focusPath = keyRows.some((r) => r.path === config.selected) ? config.selected : keyRows[0]?.path

  function move(event) {
    const current = event.target.closest('[role=treeitem]')?.dataset.path
    if (!current) return
    const index = keyRows.findIndex((row) => row.path === current)
    const row = keyRows[index]
    const go = (path) => {
      event.preventDefault()
      if (!path) return
      select(path)
      focusRow(ref.current, path)
    }
    switch (event.key) {
      case 'ArrowDown': return go(keyRows[index + 1]?.path)
      case 'ArrowUp': return go(keyRows[index - 1]?.path)
      case 'Home': return go(keyRows[0]?.path)
      case 'End': return go(keyRows[keyRows.length - 1]?.path)
      case 'ArrowRight':
        event.preventDefault()
        if (!config.expanded[current] && (row.depth === 0 || row.node?.below > 0)) setExpanded(current, true)
        else if (keyRows[index + 1]?.depth > row.depth) go(keyRows[index + 1].path)
        return undefined
      case 'ArrowLeft':
        event.preventDefault()
        if (config.expanded[current]) setExpanded(current, false)
        else if (row.depth > 0) go(parentOf(current))
        return undefined
      case 'Enter':
        event.preventDefault()
        select(current)
        document.getElementById('value-editor')?.focus()
        return undefined
      case ' ':
        event.preventDefault()
        toggleExpanded(current)
        return undefined
      default:
        return undefined
    }
  }

  return html`
    <div class="tree" role="tree" aria-label="Configuration keys" ref=${ref} onKeyDown=${move}>
      ${rows.map((row) => {
        if (row.type === 'key') {
          return html`<${KeyRow} key=${row.path} row=${row} config=${config}
            focusable=${row.path === focusPath} />`
        }
        if (row.type === 'more') {
          return html`<button key=${`more:${row.path}`} class="row-more" style=${`--depth: ${row.depth}`}
            onClick=${() => setPages({ ...pages, [row.path]: (pages[row.path] ?? PAGE) + PAGE * 5 })}>
            Show more (${row.remaining} not shown)</button>`
        }
        return html`<button key=${`hidden:${row.path}`} class="row-more" style=${`--depth: ${row.depth}`}
          onClick=${() => setShowHidden(true)}>${row.hidden} hidden by visibility — show</button>`
      })}
    </div>
  `
}
