// OrderStream in the browser, on top of server-rendered pages that work without it:
// - a visitor's cart kept in this browser (storage.js), shown on /cart with the server's
//   current prices and stock, and merged into the account's cart after logging in;
// - the catalog link remembers the last filters and page size;
// - the keyboard focus survives htmx swaps (never left on <body>);
// - live updates: WebSocket first, Server-Sent Events when WebSocket cannot connect (e.g. a
//   proxy blocks it). Every event is re-dispatched on <body> as htmx triggers ("os-event",
//   "os-order-<id>"), so the page parts that show it refresh themselves. Reconnections resume
//   after the last event id seen: nothing is missed, nothing repeated.
(function () {
  "use strict";
  var body = document.body;
  var store = window.OrderStreamStore;
  if (!body) return;
  var guest = body.dataset.guest === "on";

  function flash(lines, id) {
    var area = document.getElementById("flash");
    if (!area) return;
    area.textContent = "";
    var p = document.createElement("p");
    p.className = "flash";
    if (id) p.id = id;
    lines.forEach(function (text, i) {
      if (i > 0) p.appendChild(document.createElement("br"));
      p.appendChild(document.createTextNode(text));
    });
    area.appendChild(p);
  }

  function setBadge(count) {
    var badge = document.getElementById("cart-count");
    if (!badge) return;
    var first = badge.firstChild;
    if (first && first.nodeType === 3) first.nodeValue = String(count);
    else badge.insertBefore(document.createTextNode(String(count)), first);
    badge.classList.toggle("empty", count === 0);
  }

  // ---- The guest cart -----------------------------------------------------------------

  // The server draws the guest cart (views::cart::guest_lines) from the lines kept here, so
  // it looks and reads like the signed-in cart; only the latest answer is put in.
  var guestCartAsked = 0;
  function renderGuestCart() {
    var box = document.getElementById("guest-cart");
    if (!box || !store) return;
    var lines = store.cart();
    var items = lines.map(function (line) { return line.id + ":" + line.qty; }).join(",");
    var asked = ++guestCartAsked;
    box.dataset.state = "loading";
    fetch("/cart/guest?items=" + encodeURIComponent(items), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(String(r.status))); })
      .then(function (html) {
        if (asked !== guestCartAsked) return;
        box.innerHTML = html;
        // A deleted product's name is known only to this browser.
        lines.forEach(function (line) {
          var cell = box.querySelector("tr[data-product-id='" + line.id + "'] [data-missing-name]");
          if (cell && line.name) cell.textContent = line.name;
        });
        box.dataset.state = lines.length ? "ready" : "empty";
      })
      .catch(function () { if (asked === guestCartAsked) box.dataset.state = "error"; });
  }

  if (guest && store) {
    setBadge(store.cartCount());
    // A visitor's "Add to cart" keeps the line here instead of posting it (no htmx on it).
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.matches || !form.matches("form.add-to-cart")) return;
      var id = Number(form.elements.product_id && form.elements.product_id.value);
      var qty = Number(form.elements.quantity ? form.elements.quantity.value : 1);
      if (!(id >= 1 && id % 1 === 0 && qty >= 1 && qty % 1 === 0 && qty <= store.maxQuantity)) return;
      e.preventDefault();
      var name = form.dataset.productName || "";
      if (store.addToCart(id, qty, name)) flash(["Added " + name + " to your cart."]);
      else flash(["Your cart is full (" + store.maxLines + " products at most)."]);
      setBadge(store.cartCount());
    }, true);
    document.addEventListener("change", function (e) {
      var id = e.target.dataset && e.target.dataset.guestQty;
      if (!id) return;
      var qty = Number(e.target.value);
      if (qty >= 1 && qty % 1 === 0) store.setQuantity(Number(id), qty);
      setBadge(store.cartCount());
      renderGuestCart();
    });
    document.addEventListener("click", function (e) {
      var button = e.target.closest && e.target.closest("[data-guest-remove]");
      if (!button) return;
      store.remove(Number(button.dataset.guestRemove));
      setBadge(store.cartCount());
      renderGuestCart();
    });
    window.addEventListener("storage", function (e) {
      if (e.key !== store.key) return;
      setBadge(store.cartCount());
      renderGuestCart();
    });
    renderGuestCart();
  }

  // Signed in with a guest cart in this browser (just logged in or registered): merge it
  // into the account's cart. It is taken out first, so two tabs never merge it twice.
  if (!guest && store && body.dataset.live === "on" && store.cart().length) {
    var taken = store.takeCart();
    fetch("/api/cart/merge/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ items: taken.map(function (l) { return { product_id: l.id, quantity: l.qty }; }) })
    }).then(function (r) {
      if (r.ok) return r.json();
      // Not signed in after all, or the server is unwell: keep the lines for next time.
      if (r.status === 401 || r.status >= 500) store.restore(taken);
      return null;
    }).then(function (cart) {
      if (!cart) return;
      var count = (cart.items || []).reduce(function (n, i) { return n + i.quantity; }, 0);
      setBadge(count);
      var skipped = (cart.skipped || []).map(function (id) {
        var line = taken.filter(function (l) { return l.id === id; })[0];
        return line && line.name ? line.name : "product #" + id;
      });
      var lines = ["The cart from this browser was added to your cart."];
      if (skipped.length) lines.push("No longer available, not added: " + skipped.join(", ") + ".");
      flash(lines, "merge-notice");
      body.dataset.guestCartMerged = String(taken.length - skipped.length);
      if (document.getElementById("cart") && typeof htmx !== "undefined") {
        htmx.ajax("GET", "/cart", { target: "#cart", swap: "outerHTML" });
      }
    }).catch(function () { store.restore(taken); });
  }

  // ---- Catalog filters ----------------------------------------------------------------

  function pointCatalogLinks() {
    var query = store.filters();
    var links = document.querySelectorAll("a[data-catalog-link]");
    for (var i = 0; i < links.length; i++) links[i].setAttribute("href", query ? "/?" + query : "/");
  }
  function rememberFilters() {
    if (location.pathname !== "/" || document.querySelector("#filters .field-error")) return;
    store.setFilters(location.search);
    pointCatalogLinks();
  }
  if (store) {
    if (document.getElementById("filters")) {
      rememberFilters();
      body.addEventListener("htmx:pushedIntoHistory", rememberFilters);
      window.addEventListener("popstate", rememberFilters);
    }
    pointCatalogLinks();
  }

  // ---- Keyboard focus across htmx swaps -------------------------------------------------
  // htmx keeps the focus on an element with an id. Any other focused control inside a swapped
  // region is gone afterwards (or was disabled during the request), and the focus would fall
  // back to <body>: put it on the same control in the new content (same form, same label),
  // else on the region itself.
  var lastFocused = null;
  var lostFocus = null;
  document.addEventListener("focusin", function (e) { lastFocused = e.target; });
  function formAction(el) {
    var form = el.closest("form");
    return form ? form.getAttribute("action") : null;
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var region = e.detail.target;
    if (!region || !region.id || !lastFocused || !region.contains(lastFocused)) return;
    lostFocus = { region: region.id, tag: lastFocused.tagName, action: formAction(lastFocused), text: lastFocused.textContent.trim() };
  });
  // Other swaps (a badge, say) may settle in between: only the region's own settling counts.
  document.addEventListener("htmx:afterSettle", function (e) {
    var was = lostFocus;
    if (!was || e.target.id !== was.region) return;
    lostFocus = null;
    var active = document.activeElement;
    if (active && active !== body && active.isConnected) return;
    var region = document.getElementById(was.region);
    if (!region) return;
    var same = Array.prototype.filter.call(region.querySelectorAll(was.tag), function (el) {
      return !el.disabled && formAction(el) === was.action && el.textContent.trim() === was.text;
    })[0];
    if (!same) region.setAttribute("tabindex", "-1");
    (same || region).focus();
  });

  // ---- Live updates -------------------------------------------------------------------

  if (body.dataset.live !== "on" || typeof htmx === "undefined") return;

  // The page is fresh up to the event id it was rendered with. When this browser last saw an
  // older one (the tab was closed meanwhile), replay the few events since: the parts they
  // concern refresh and are announced. A newer stored id is never used: events after this
  // page's rendering would be skipped.
  var rendered = Number(body.dataset.lastEventId || "0");
  var stored = store ? store.lastEventId() : 0;
  var lastId = String(stored > 0 && stored < rendered && rendered - stored <= 50 ? stored : rendered);
  if (store) store.sawEvent(rendered);
  var delay = 500;

  function setTransport(name) { body.dataset.liveTransport = name; }

  // The one voice for live changes: the regions they refresh are not aria-live, so a screen
  // reader hears this single sentence instead of the whole swapped region.
  function announce(event) {
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
    if (store) store.sawEvent(event.id);
    announce(event);
    htmx.trigger(body, "os-event", event);
    htmx.trigger(body, "os-order-" + event.order_id, event);
  }

  // The server's log ends before this page's last event id (it was restored from a backup):
  // nothing after that id will ever come. Take the server's newest id and refresh every part
  // of the page that shows live state.
  function reset(newest) {
    if (typeof newest !== "number") return;
    lastId = String(newest);
    body.dataset.lastEventId = lastId;
    htmx.trigger(body, "os-event", { type: "reset", id: newest });
    var parts = document.querySelectorAll("[hx-trigger*='os-order-']");
    for (var i = 0; i < parts.length; i++) {
      var order = /os-order-(\d+)/.exec(parts[i].getAttribute("hx-trigger"));
      if (order) htmx.trigger(body, "os-order-" + order[1], { type: "reset", id: newest });
    }
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
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; /* not an event */ }
      if (data && data.type === "reset") reset(data.id);
      else deliver(data);
    };
    socket.onclose = function (closed) {
      // 4001: the token expired or was revoked. The session check renews the cookies (or
      // finds the visitor signed out), so the next attempt carries a fresh token.
      if (closed.code === 4001) {
        setTransport("reconnecting");
        later(function () { whenSignedIn(function () { connectWebSocket(false); }); });
      } else if (opened) {
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
    source.addEventListener("reset", function (message) {
      try { reset(JSON.parse(message.data).id); } catch (e) { /* not a reset */ }
    });
    // The stream's token expired or was revoked: the browser would reconnect by itself with
    // the same cookie; renew the session first instead.
    source.addEventListener("auth-expired", function () {
      source.close();
      setTransport("reconnecting");
      later(function () { whenSignedIn(connectEventSource); });
    });
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
