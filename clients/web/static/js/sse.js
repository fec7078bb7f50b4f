// The gateway's live events: GET /v1/events?region=R as Server-Sent Events.
// Each message's data is a slussen.v1.Event in JSON and its id the resume
// token; the browser's EventSource sends Last-Event-ID when it reconnects,
// and the gateway replays what was missed. If the stream is closed for good
// (the session ended), we reopen it after a pause, as long as the page
// lives, and tell the page to re-fetch what it shows (onReopen), since a
// new EventSource cannot send Last-Event-ID. The same when the gateway says
// "reset": the broker no longer holds the events after the page's place
// (its retention), so the browser comes back from now, without
// Last-Event-ID, and the page re-fetches once it is connected again.

import {observeServerTime} from './time.js';

export function watchEvents(region, {onEvent, onState, onReopen}) {
  const url = `/v1/events?region=${encodeURIComponent(region || '-')}`;
  let source = null;
  let retry = null;
  let reopened = false;

  const open = () => {
    source = new EventSource(url, {withCredentials: true});
    onState('connecting');
    source.onopen = () => {
      onState('connected');
      if (reopened && onReopen) {
        reopened = false;
        onReopen();
      }
    };
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      // The gateway's first message says where the stream starts; it is no
      // event.
      if (!event || !event.type) return;
      if (event.time) observeServerTime(event.time);
      onEvent(event);
    };
    source.addEventListener('reset', () => {
      reopened = true;
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        onState('lost');
        source.close();
        clearTimeout(retry);
        reopened = true;
        retry = setTimeout(open, 5000);
      } else {
        onState('lost');
      }
    };
  };
  open();
  return () => {
    clearTimeout(retry);
    if (source) source.close();
  };
}
