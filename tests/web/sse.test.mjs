// The desks' live events (clients/web/static/js/sse.js) in Node, without a
// browser: what the page is told as the gateway's stream opens, breaks,
// closes for good or says "reset". EventSource is a stand-in that records
// what the module asks of it and lets the test play the browser's part
// (pure logic: the gateway's side is web_gateway_e2e_test's).

import {test} from 'node:test';
import assert from 'node:assert/strict';

class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static made = [];

  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.readyState = FakeEventSource.CONNECTING;
    this.listeners = {};
    this.closed = false;
    FakeEventSource.made.push(this);
  }
  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }
  close() {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }
  // The browser's part.
  opened() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen();
  }
  named(type, data = '{}') {
    for (const listener of this.listeners[type] || []) listener({type, data});
  }
  broke() {  // the stream ended; the browser reconnects by itself
    this.readyState = FakeEventSource.CONNECTING;
    this.onerror();
  }
}
globalThis.EventSource = FakeEventSource;
const {watchEvents} = await import('../../clients/web/static/js/sse.js');

function watch() {
  FakeEventSource.made = [];
  const seen = {states: [], reopens: 0, events: []};
  const stop = watchEvents('13', {
    onEvent: (event) => seen.events.push(event),
    onState: (state) => seen.states.push(state),
    onReopen: () => { seen.reopens += 1; },
  });
  return {seen, stop, source: () => FakeEventSource.made.at(-1)};
}

test('events pass to the page; a reconnect of the browser re-reads nothing', () => {
  const {seen, stop, source} = watch();
  assert.equal(source().url, '/v1/events?region=13');
  source().opened();
  source().onmessage({data: JSON.stringify({type: 'EVENT_TYPE_REFERRAL_CREATED'})});
  source().onmessage({data: '{}'});  // the gateway's "ready": no event
  assert.deepEqual(seen.events, [{type: 'EVENT_TYPE_REFERRAL_CREATED'}]);
  source().broke();
  source().opened();  // back with Last-Event-ID: nothing was missed
  assert.deepEqual(seen.states, ['connecting', 'connected', 'lost', 'connected']);
  assert.equal(seen.reopens, 0);
  assert.equal(FakeEventSource.made.length, 1);
  stop();
});

test('"reset": once connected again the page re-reads what it shows, once', () => {
  const {seen, stop, source} = watch();
  source().opened();
  // The broker no longer holds the events after the page's place.
  source().named('reset', JSON.stringify({code: 'out_of_range'}));
  source().broke();
  assert.equal(seen.reopens, 0, 'not before the stream is back');
  source().opened();
  assert.equal(seen.reopens, 1);
  // A later ordinary reconnect misses nothing: no second re-read.
  source().broke();
  source().opened();
  assert.equal(seen.reopens, 1);
  assert.equal(FakeEventSource.made.length, 1, 'the browser reconnects; no new EventSource');
  stop();
  assert.equal(source().closed, true);
});
