// OrderStream live updates: WebSocket first, Server-Sent Events when WebSocket cannot
// connect (e.g. a proxy blocks it). Every event is re-dispatched on <body> as htmx triggers
// ("os-event", "os-order-<id>"), so the page parts that show it refresh themselves.
// Reconnections resume after the last event id seen: nothing is missed, nothing repeated.
(function () {
  "use strict";
  var body = document.body;
  if (!body || body.dataset.live !== "on" || typeof htmx === "undefined") return;

  var lastId = body.dataset.lastEventId || "0";
  var delay = 500;

  function setTransport(name) { body.dataset.liveTransport = name; }

  function announce(event) {
    if (document.querySelector('[data-live-order="' + event.order_id + '"]')) return;
    var box = document.getElementById("announcer");
    if (!box) return;
    box.textContent = event.type === "order.created"
      ? "New order #" + event.order_id + "."
      : "Order #" + event.order_id + " is now " + event.status + ".";
  }

  function deliver(event) {
    if (!event || typeof event.id !== "number") return;
    if (event.id <= Number(lastId)) return;
    lastId = String(event.id);
    body.dataset.lastEventId = lastId;
    announce(event);
    htmx.trigger(body, "os-event", event);
    htmx.trigger(body, "os-order-" + event.order_id, event);
  }

  // Before reconnecting, let the server rotate an expired session (it sets fresh cookies).
  function whenSignedIn(then) {
    fetch("/account/session", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (r.status === 204) then(); else setTransport("off"); })
      .catch(function () { later(function () { whenSignedIn(then); }); });
  }

  function later(fn) {
    setTimeout(fn, delay);
    delay = Math.min(delay * 2, 15000);
  }

  // `retried`: this attempt follows a failed one and a session check, so a second failure
  // means WebSocket itself is blocked, not that the session had expired.
  function connectWebSocket(retried) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var opened = false;
    var socket;
    try {
      socket = new WebSocket(scheme + location.host + "/ws/?last_event_id=" + lastId);
    } catch (e) {
      return connectEventSource();
    }
    socket.onopen = function () { opened = true; delay = 500; setTransport("ws"); };
    socket.onmessage = function (message) {
      try { deliver(JSON.parse(message.data)); } catch (e) { /* not an event */ }
    };
    socket.onclose = function () {
      if (opened) {
        setTransport("reconnecting");
        later(function () { whenSignedIn(function () { connectWebSocket(false); }); });
      } else if (!retried) {
        whenSignedIn(function () { connectWebSocket(true); });
      } else {
        connectEventSource();
      }
    };
  }

  function connectEventSource() {
    // The browser resends Last-Event-ID by itself on its automatic reconnects.
    var source = new EventSource("/api/events/?last_event_id=" + lastId);
    var handle = function (message) {
      try { deliver(JSON.parse(message.data)); } catch (e) { /* not an event */ }
    };
    source.addEventListener("order.status", handle);
    source.addEventListener("order.created", handle);
    source.onopen = function () { delay = 500; setTransport("sse"); };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        setTransport("reconnecting");
        later(function () { whenSignedIn(connectEventSource); });
      }
    };
  }

  if (typeof WebSocket === "function") connectWebSocket(false);
  else connectEventSource();
})();
