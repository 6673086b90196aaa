// ZWS 2.0: ZeroMQ frames over the browser's WebSocket (docs/websocket.md).
//
// Every ZeroMQ frame is one binary WebSocket message: a flag byte (0x00 last frame, 0x01 more
// frames follow, 0x02 command) and the frame body. Each side's first message is its routing id
// (we send an empty one). There is no greeting: the session cookie authenticated the upgrade.
//
// `Dealer` sends requests and matches replies by request id; `Subscriber` keeps a set of topic
// prefixes and sends them again after every reconnect. Both reconnect by themselves with
// exponential backoff and report their state ('connecting', 'open', 'offline') to a listener.

const SUBPROTOCOL = 'ZWS2.0'
const FLAG_LAST = 0x00
const FLAG_MORE = 0x01
const FLAG_COMMAND = 0x02
const FIRST_RETRY_MS = 250
const LONGEST_RETRY_MS = 8000

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function frame(body, more) {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body
  const message = new Uint8Array(bytes.length + 1)
  message[0] = more ? FLAG_MORE : FLAG_LAST
  message.set(bytes, 1)
  return message
}

/** A WebSocket that speaks ZWS 2.0 framing and reconnects until closed for good. */
class ZwsLink {
  constructor(url, { onMessage, onOpen, onState, onClose }) {
    this.url = url
    this.handlers = { onMessage, onOpen, onState, onClose }
    this.state = 'connecting'
    this.socket = null
    this.frames = []
    this.routingIdSeen = false
    this.retryMs = FIRST_RETRY_MS
    this.retryTimer = null
    this.stopped = false
    this.everOpened = false
    this.connect()
  }

  connect() {
    this.setState('connecting')
    const socket = new WebSocket(this.url, [SUBPROTOCOL])
    socket.binaryType = 'arraybuffer'
    this.socket = socket
    this.frames = []
    this.routingIdSeen = false
    socket.onopen = () => {
      if (socket.protocol !== SUBPROTOCOL) {
        socket.close(1002, `server did not choose ${SUBPROTOCOL}`)
        return
      }
      this.retryMs = FIRST_RETRY_MS
      this.everOpened = true
      socket.send(frame(new Uint8Array(0), false)) // our routing id: empty
      this.setState('open')
      this.handlers.onOpen?.()
    }
    socket.onmessage = (event) => this.receive(event.data)
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = null
      this.handlers.onClose?.(event, this.everOpened)
      if (this.stopped) return
      this.setState('offline')
      this.retryTimer = setTimeout(() => this.connect(), this.nextDelay())
    }
  }

  nextDelay() {
    const delay = this.retryMs * (0.75 + Math.random() / 2)
    this.retryMs = Math.min(this.retryMs * 2, LONGEST_RETRY_MS)
    return delay
  }

  receive(data) {
    if (typeof data === 'string') return // ZWS frames are binary; text is not ours to read
    const bytes = new Uint8Array(data)
    if (bytes.length === 0) return
    const flag = bytes[0]
    if (flag === FLAG_COMMAND) return // no mechanism, so no command concerns us
    this.frames.push(bytes.subarray(1))
    if (flag === FLAG_MORE) return
    const message = this.frames
    this.frames = []
    if (!this.routingIdSeen) {
      this.routingIdSeen = true // the server's routing id: nothing to do with it
      return
    }
    this.handlers.onMessage(message)
  }

  send(frames) {
    if (this.state !== 'open') return false
    frames.forEach((body, index) => this.socket.send(frame(body, index < frames.length - 1)))
    return true
  }

  setState(state) {
    this.state = state
    this.handlers.onState?.(state)
  }

  /** Reconnect now instead of waiting for the backoff (e.g. after logging in again). */
  retryNow() {
    if (this.stopped || this.state !== 'offline') return
    clearTimeout(this.retryTimer)
    this.retryMs = FIRST_RETRY_MS
    this.connect()
  }

  close() {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.socket?.close(1000, 'closed by the page')
    this.setState('closed')
  }
}

export class ConnectionLost extends Error {
  constructor(method, path) {
    super(`the connection to clusterd was lost before ${method} ${path} was answered`)
    this.name = 'ConnectionLost'
  }
}

/**
 * Requests over `/zmq`: `[request-id, JSON {method, path, body, query}]` → `[request-id, JSON
 * {status, body}]`. Requests made while offline wait for the connection. A read whose
 * connection breaks is sent again; a write is failed with ConnectionLost, because whether it
 * was applied is unknown and repeating it is the user's call.
 */
export class Dealer {
  constructor(url, { onState, onClose } = {}) {
    this.nextId = 1
    this.pending = new Map() // id → {request, resolve, reject, sent}
    this.link = new ZwsLink(url, {
      onMessage: (frames) => this.reply(frames),
      onOpen: () => this.flush(),
      onState,
      onClose: (event, everOpened) => {
        this.dropInFlight()
        onClose?.(event, everOpened)
      },
    })
  }

  request(method, path, { body, query } = {}) {
    const id = String(this.nextId++)
    const request = { method, path }
    if (body !== undefined) request.body = body
    if (query !== undefined) request.query = query
    return new Promise((resolve, reject) => {
      const entry = { request, resolve, reject, sent: false }
      this.pending.set(id, entry)
      this.sendEntry(id, entry)
    })
  }

  sendEntry(id, entry) {
    entry.sent = this.link.send([id, JSON.stringify(entry.request)])
  }

  flush() {
    for (const [id, entry] of this.pending) if (!entry.sent) this.sendEntry(id, entry)
  }

  dropInFlight() {
    for (const [id, entry] of this.pending) {
      if (!entry.sent) continue
      if (entry.request.method === 'GET') {
        entry.sent = false // sent again on reconnect
      } else {
        this.pending.delete(id)
        entry.reject(new ConnectionLost(entry.request.method, entry.request.path))
      }
    }
  }

  reply(frames) {
    if (frames.length < 2) return
    const id = decoder.decode(frames[0])
    const entry = this.pending.get(id)
    if (!entry) return
    this.pending.delete(id)
    try {
      entry.resolve(JSON.parse(decoder.decode(frames[frames.length - 1])))
    } catch (error) {
      entry.reject(error)
    }
  }

  retryNow() {
    this.link.retryNow()
  }

  close() {
    this.link.close()
    for (const entry of this.pending.values()) {
      entry.reject(new ConnectionLost(entry.request.method, entry.request.path))
    }
    this.pending.clear()
  }
}

/**
 * Events from `/zmq/events`: subscribe to topic prefixes (counted, like a ZeroMQ SUB), receive
 * `(topic, event)`. After a reconnect every prefix is sent again and `onResubscribed` runs, so
 * the page can re-read what it shows: events published while offline are gone.
 */
export class Subscriber {
  constructor(url, { onEvent, onResubscribed, onState, onClose } = {}) {
    this.counts = new Map()
    this.onEvent = onEvent
    this.opened = 0
    this.link = new ZwsLink(url, {
      onMessage: (frames) => this.deliver(frames),
      onOpen: () => {
        for (const prefix of this.counts.keys()) this.sendSubscription(true, prefix)
        if (this.opened++ > 0) onResubscribed?.()
      },
      onState,
      onClose,
    })
  }

  subscribe(prefix) {
    const count = this.counts.get(prefix) ?? 0
    this.counts.set(prefix, count + 1)
    if (count === 0) this.sendSubscription(true, prefix)
  }

  unsubscribe(prefix) {
    const count = this.counts.get(prefix) ?? 0
    if (count <= 1) {
      this.counts.delete(prefix)
      if (count === 1) this.sendSubscription(false, prefix)
    } else {
      this.counts.set(prefix, count - 1)
    }
  }

  sendSubscription(subscribe, prefix) {
    const topic = encoder.encode(prefix)
    const body = new Uint8Array(topic.length + 1)
    body[0] = subscribe ? 1 : 0
    body.set(topic, 1)
    this.link.send([body])
  }

  deliver(frames) {
    if (frames.length < 2) return
    let event
    try {
      event = JSON.parse(decoder.decode(frames[1]))
    } catch {
      return
    }
    this.onEvent?.(decoder.decode(frames[0]), event)
  }

  retryNow() {
    this.link.retryNow()
  }

  close() {
    this.link.close()
  }
}
