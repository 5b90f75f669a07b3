// Injected before a page's own scripts (Page.addScriptToEvaluateOnNewDocument): every
// `new WebSocket(…)` fails as one behind a proxy that blocks WebSocket does, never `open`,
// then `error` and `close` with code 1006. `window.__blockedWebSockets` counts the attempts.
(() => {
  const Native = window.WebSocket;
  window.__blockedWebSockets = 0;
  class Blocked extends EventTarget {
    constructor(url) {
      super();
      this.url = String(url);
      this.readyState = Native.CONNECTING;
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
      window.__blockedWebSockets += 1;
      setTimeout(() => {
        this.readyState = Native.CLOSED;
        this.fire(new Event("error"));
        this.fire(new CloseEvent("close", { code: 1006, wasClean: false }));
      }, 50);
    }
    fire(event) {
      const handler = this["on" + event.type];
      if (handler) handler.call(this, event);
      this.dispatchEvent(event);
    }
    send() { throw new DOMException("Still in CONNECTING state.", "InvalidStateError"); }
    close() {}
  }
  for (const state of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Blocked[state] = Native[state];
  window.WebSocket = Blocked;
})();
