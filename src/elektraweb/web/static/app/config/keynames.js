// Key names as the page needs them. Names from clusterd are canonical and escaped
// (`user:/app/a\/b`); this module splits them, finds parents and shows parts the way people
// read them (array elements `#_10` as 10). Checking and canonicalising names is clusterd's job.

export const NAMESPACES = ['spec', 'dir', 'user', 'system']

const ARRAY_PART = /^#_*(\d+)$/

/** The namespace root of a name: `user:/app/port` → `user:/`, `/app` → `/`. */
export function rootOf(name) {
  const colon = name.indexOf(':/')
  return colon >= 0 && !name.slice(0, colon).includes('/') ? name.slice(0, colon + 2) : '/'
}

/** The escaped parts after the namespace root, split at every unescaped `/`. */
export function escapedParts(name) {
  const rest = name.slice(rootOf(name).length)
  const parts = []
  let current = ''
  for (let i = 0; i < rest.length; i++) {
    const char = rest[i]
    if (char === '\\' && i + 1 < rest.length) {
      current += char + rest[++i]
    } else if (char === '/') {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  if (current !== '' || parts.length > 0) parts.push(current)
  return parts.filter((part, index) => part !== '' || index < parts.length - 1)
}

export function parentOf(name) {
  const parts = escapedParts(name)
  if (parts.length === 0) return null
  return rootOf(name) + parts.slice(0, -1).join('/')
}

/** Every name from the namespace root down to the parent of `name`. */
export function ancestorsOf(name) {
  const root = rootOf(name)
  const parts = escapedParts(name)
  if (parts.length === 0) return []
  const names = [root]
  for (let i = 1; i < parts.length; i++) names.push(root + parts.slice(0, i).join('/'))
  return names
}

export function isArrayPart(part) {
  return ARRAY_PART.test(part)
}

/** How a (unescaped) part is shown: array elements as their number, the empty part as ∅. */
export function displayPart(part) {
  const array = ARRAY_PART.exec(part)
  if (array) return array[1]
  return part === '' ? '∅' : part
}

/** A part typed by a person, escaped for use in a name (`a/b` → `a\/b`). */
export function escapePart(part) {
  return part.replace(/\\/g, '\\\\').replace(/\//g, '\\/')
}

export function childName(parent, escapedPart) {
  return parent.endsWith('/') ? parent + escapedPart : `${parent}/${escapedPart}`
}

export function isBelowOrSame(name, base) {
  if (name === base) return true
  const prefix = base.endsWith('/') ? base : `${base}/`
  return name.startsWith(prefix)
}

/** The array part for an index: 0 → `#0`, 10 → `#_10`, 100 → `#__100`. */
export function arrayPart(index) {
  const digits = String(index)
  return `#${'_'.repeat(digits.length - 1)}${digits}`
}
