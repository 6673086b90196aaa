// What a key's metadata means for the page: which editor to show and what the value must be.
// These checks run before a value is sent; clusterd and elektrad check again and have the last
// word (their refusal is shown when they disagree).

import { arrayPart } from './keynames.js'

export const VISIBILITIES = ['critical', 'important', 'user', 'advanced', 'developer', 'internal']
export const TYPES = [
  'string', 'boolean', 'enum', 'short', 'unsigned_short', 'long', 'unsigned_long', 'long_long',
  'unsigned_long_long', 'float', 'double', 'char', 'any',
]

const INTEGER_BOUNDS = {
  short: [-32768n, 32767n],
  unsigned_short: [0n, 65535n],
  long: [-2147483648n, 2147483647n],
  unsigned_long: [0n, 4294967295n],
  long_long: [-9223372036854775808n, 9223372036854775807n],
  unsigned_long_long: [0n, 18446744073709551615n],
}
const FLOATS = new Set(['float', 'double'])
const TRUE_WORDS = ['1', 'yes', 'on', 'true', 'enabled', 'enable']
const FALSE_WORDS = ['0', 'no', 'off', 'false', 'disabled', 'disable']
const ENUM_ENTRY = /^check\/enum\/#_*(\d+)$/
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INTEGER = /^[+-]?\d+$/
const RANGE_PART = /^\s*(-?\d+(?:\.\d+)?)\s*(?:-\s*(-?\d+(?:\.\d+)?)\s*)?$/
const POSIX_CLASSES = {
  '[:digit:]': '0-9', '[:alpha:]': 'A-Za-z', '[:alnum:]': '0-9A-Za-z', '[:upper:]': 'A-Z',
  '[:lower:]': 'a-z', '[:space:]': ' \\t\\n\\r\\f\\v', '[:xdigit:]': '0-9A-Fa-f',
  '[:punct:]': '!-\\/:-@\\[-`{-~', '[:blank:]': ' \\t',
}

function flag(meta, name) {
  const value = meta?.[name]
  return value !== undefined && !FALSE_WORDS.includes(String(value).toLowerCase())
}

export function typeOf(meta) {
  if (meta?.['check/type']) return meta['check/type']
  return enumOptions(meta).length > 0 ? 'enum' : 'string'
}

export function enumOptions(meta) {
  return Object.keys(meta ?? {})
    .map((name) => [ENUM_ENTRY.exec(name), name])
    .filter(([match]) => match)
    .sort(([a], [b]) => Number(a[1]) - Number(b[1]))
    .map(([, name]) => meta[name])
}

/** `1-999`, `-5-5,10` → [[1, 999]], [[-5, 5], [10, 10]]; null when it cannot be read. */
export function parseRange(text) {
  if (!text) return null
  const ranges = []
  for (const part of text.split(',')) {
    const match = RANGE_PART.exec(part)
    if (!match) return null
    const low = Number(match[1])
    ranges.push([low, match[2] === undefined ? low : Number(match[2])])
  }
  return ranges
}

export function isBooleanTrue(value) {
  return TRUE_WORDS.includes(String(value ?? '').toLowerCase())
}

/** The other boolean in the value's own spelling (`no` → `yes`, `Off` → `On`, `1` → `0`), so a
 * toggle keeps the file's words; a value that is no boolean word becomes `1`. */
export function toggledBoolean(value) {
  const text = String(value ?? '')
  const lower = text.toLowerCase()
  const index = [TRUE_WORDS, FALSE_WORDS].map((words) => words.indexOf(lower))
  if (index[0] < 0 && index[1] < 0) return '1'
  const other = index[0] >= 0 ? FALSE_WORDS[index[0]] : TRUE_WORDS[index[1]]
  if (text === text.toUpperCase() && text !== lower) return other.toUpperCase()
  if (text[0] !== lower[0]) return other[0].toUpperCase() + other.slice(1)
  return other
}

export function visibilityRank(meta) {
  const rank = VISIBILITIES.indexOf(meta?.visibility ?? 'user')
  return rank < 0 ? VISIBILITIES.indexOf('user') : rank
}

/** Why a key cannot be changed here, or null: binary, restrict/write, cluster lock, role. */
export function readOnlyReason(node, { lockedBy, canEdit }) {
  if (!canEdit) return 'your role may only look'
  if (lockedBy) return `owned by cluster ${lockedBy}: change it in the cluster`
  if (node?.meta && 'binary' in node.meta) return 'binary value'
  if (flag(node?.meta, 'restrict/write')) return 'restrict/write: read-only'
  return null
}

/** Which editor fits the key: boolean, enum, number, char or text. */
export function editorFor(meta) {
  const type = typeOf(meta)
  if (type === 'boolean') return { kind: 'boolean' }
  if (type === 'enum') return { kind: 'enum', options: enumOptions(meta) }
  if (type in INTEGER_BOUNDS || FLOATS.has(type)) {
    const ranges = parseRange(meta?.['check/range'])
    const [low, high] = INTEGER_BOUNDS[type] ?? [null, null]
    const min = ranges ? Math.min(...ranges.map(([a]) => a)) : low === null ? null : Number(low)
    const max = ranges ? Math.max(...ranges.map(([, b]) => b)) : high === null ? null : Number(high)
    return { kind: 'number', integer: !FLOATS.has(type), min, max, range: meta?.['check/range'] }
  }
  if (type === 'char') return { kind: 'text', maxLength: 1 }
  return { kind: 'text', pattern: meta?.['check/validation'] }
}

/** A JavaScript RegExp for a POSIX extended regex, or null when JS cannot read it. */
export function posixRegex(pattern, ignoreCase = false) {
  let translated = pattern
  for (const [posix, js] of Object.entries(POSIX_CLASSES)) translated = translated.split(posix).join(js)
  try {
    return new RegExp(translated, ignoreCase ? 'ui' : 'u')
  } catch {
    return null
  }
}

function checkNumber(type, meta, value) {
  const integer = type in INTEGER_BOUNDS
  if (integer ? !INTEGER.test(value) : !NUMBER.test(value)) {
    return `${JSON.stringify(value)} is not ${integer ? 'a whole number' : 'a number'} (type ${type})`
  }
  if (integer) {
    const [low, high] = INTEGER_BOUNDS[type]
    const number = BigInt(value)
    if (number < low || number > high) return `${value} is outside ${type} (${low} to ${high})`
  }
  const ranges = parseRange(meta['check/range'])
  if (ranges && !ranges.some(([low, high]) => Number(value) >= low && Number(value) <= high)) {
    return `${value} is not within the range ${meta['check/range']}`
  }
  return null
}

/** Why `value` breaks the key's checks, or null when it passes (or cannot be checked here). */
export function checkValue(meta = {}, value) {
  const type = typeOf(meta)
  if (value === null || value === undefined) return null
  if (type === 'boolean' && ![...TRUE_WORDS, ...FALSE_WORDS].includes(value.toLowerCase())) {
    return `${JSON.stringify(value)} is not a boolean (use 1/0, yes/no, on/off, true/false)`
  }
  if (type === 'enum') {
    const options = enumOptions(meta)
    if (options.length > 0 && !options.includes(value)) {
      return `${JSON.stringify(value)} is not one of ${options.join(', ')}`
    }
  }
  if (type in INTEGER_BOUNDS || FLOATS.has(type)) {
    const problem = checkNumber(type, meta, value)
    if (problem) return problem
  }
  if (type === 'char' && [...value].length !== 1) return `a char is exactly one character`
  const pattern = meta['check/validation']
  // Only the plain mode is checked here; LINE and WORD matching are left to the server.
  const mode = (meta['check/validation/match'] ?? 'ANY').toUpperCase()
  if (pattern && mode === 'ANY') {
    const regex = posixRegex(pattern, 'check/validation/ignorecase' in meta)
    const inverted = 'check/validation/invert' in meta
    if (regex && regex.test(value) === inverted) {
      return meta['check/validation/message'] ||
        `${JSON.stringify(value)} ${inverted ? 'matches' : 'does not match'} ${pattern}`
    }
  }
  return null
}

/** The metadata entries for enum options: `check/enum/#0`… and `check/enum` (last index). */
export function enumMeta(options) {
  const meta = {}
  options.forEach((option, index) => {
    meta[`check/enum/${arrayPart(index)}`] = option
  })
  if (options.length > 0) meta['check/enum'] = arrayPart(options.length - 1)
  return meta
}
