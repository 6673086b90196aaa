// A real ZWS 2.0 client for the tests: jszmq 0.1.2 (on node it uses the `ws` package).
//
//   node zws_client.js request URL REQUEST_JSON...
//       A Dealer sends each request as [request-id, JSON] (ids 1, 2, ...) at once and prints
//       every reply as one JSON line {"id", "reply"}; exits after the last reply.
//   node zws_client.js events URL PREFIX...
//       A Sub subscribes to each prefix and prints every event as one JSON line
//       {"topic", "event"}. Lines on stdin change subscriptions: "subscribe P", "unsubscribe P".
//       Exits when stdin closes.
'use strict'

const readline = require('readline')
const zmq = require('jszmq')

const [mode, url, ...rest] = process.argv.slice(2)

function print(line) {
    process.stdout.write(JSON.stringify(line) + '\n')
}

function request() {
    const dealer = new zmq.Dealer()
    let waiting = rest.length
    dealer.on('message', (id, reply) => {
        print({id: id.toString(), reply: JSON.parse(reply.toString())})
        if (--waiting === 0) {
            dealer.close()
        }
    })
    dealer.connect(url)
    rest.forEach((json, index) => dealer.send([String(index + 1), json]))
}

function events() {
    const sub = new zmq.Sub()
    sub.on('message', (topic, event) => {
        print({topic: topic.toString(), event: JSON.parse(event.toString())})
    })
    sub.connect(url)
    rest.forEach(prefix => sub.subscribe(prefix))
    const input = readline.createInterface({input: process.stdin})
    input.on('line', line => {
        const [command, prefix = ''] = line.split(' ')
        if (command === 'subscribe') {
            sub.subscribe(prefix)
        } else if (command === 'unsubscribe') {
            sub.unsubscribe(prefix)
        }
    })
    input.on('close', () => sub.close())
}

if (mode === 'request') {
    request()
} else if (mode === 'events') {
    events()
} else {
    process.stderr.write(`unknown mode ${JSON.stringify(mode)}; use request or events\n`)
    process.exit(2)
}
