// OrderStream's state in this browser: one localStorage key ("orderstream") holding one JSON
// document with a schema version. What is read is checked; anything corrupt, of another
// version or of the wrong shape is discarded (the store starts over) and the page carries on.
// Nothing here is trusted by the server: the guest cart holds product ids and quantities only.
(function () {
  "use strict";
  var KEY = "orderstream";
  var VERSION = 1;
  // The server's cart limits, written on <body> by the page (this script is deferred).
  var MAX_LINES = Number(document.body.dataset.cartMaxLines);
  var MAX_QUANTITY = Number(document.body.dataset.cartMaxQuantity);
  var FILTERS = ["search", "category", "min_price", "max_price", "in_stock", "ordering", "page_size"];

  function fresh() { return { v: VERSION, cart: [], filters: "", lastEventId: 0 }; }

  function isCount(n, max) { return typeof n === "number" && n % 1 === 0 && n >= 0 && n <= max; }

  function valid(doc) {
    if (!doc || typeof doc !== "object" || Array.isArray(doc) || doc.v !== VERSION) return false;
    if (!Array.isArray(doc.cart) || doc.cart.length > MAX_LINES) return false;
    var seen = {};
    for (var i = 0; i < doc.cart.length; i++) {
      var line = doc.cart[i];
      if (!line || typeof line !== "object") return false;
      if (!isCount(line.id, Number.MAX_SAFE_INTEGER) || line.id < 1 || seen[line.id]) return false;
      if (!isCount(line.qty, MAX_QUANTITY) || line.qty < 1) return false;
      if (typeof line.name !== "string" || line.name.length > 300) return false;
      seen[line.id] = true;
    }
    return typeof doc.filters === "string" && doc.filters.length <= 2000 &&
      isCount(doc.lastEventId, Number.MAX_SAFE_INTEGER);
  }

  // localStorage may be missing or refuse access (privacy settings): then state lives in memory.
  var memory = null;
  function raw() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return memory; }
  }
  function save(doc) {
    var text = JSON.stringify(doc);
    memory = text;
    try { window.localStorage.setItem(KEY, text); } catch (e) { /* full or blocked */ }
  }

  var reset = false;
  function load() {
    var text = raw();
    if (text === null || text === undefined) return fresh();
    var doc = null;
    try { doc = JSON.parse(text); } catch (e) { doc = null; }
    if (valid(doc)) return doc;
    reset = true;
    doc = fresh();
    save(doc);
    return doc;
  }

  function update(change) {
    var doc = load();
    change(doc);
    if (!valid(doc)) doc = fresh();
    save(doc);
    return doc;
  }

  function copyCart(cart) {
    return cart.map(function (l) { return { id: l.id, qty: l.qty, name: l.name }; });
  }

  // Only the known catalog parameters, non-empty and short: a clean query string (no "?").
  function cleanFilters(search) {
    var given = new URLSearchParams(search || "");
    var kept = new URLSearchParams();
    FILTERS.forEach(function (name) {
      var value = given.get(name);
      if (value && value.trim() && value.length <= 200) kept.set(name, value);
    });
    return kept.toString();
  }

  load();

  window.OrderStreamStore = {
    key: KEY,
    version: VERSION,
    maxQuantity: MAX_QUANTITY,
    maxLines: MAX_LINES,
    /** True when this page found corrupt or outdated data and started over. */
    wasReset: function () { return reset; },
    cart: function () { return copyCart(load().cart); },
    cartCount: function () {
      return load().cart.reduce(function (sum, l) { return sum + l.qty; }, 0);
    },
    /** Adds `qty` of a product (capped at the server's limit); false when the cart is full. */
    addToCart: function (id, qty, name) {
      var added = false;
      update(function (doc) {
        var line = doc.cart.filter(function (l) { return l.id === id; })[0];
        if (line) {
          line.qty = Math.min(MAX_QUANTITY, line.qty + qty);
          if (name) line.name = String(name).slice(0, 300);
          added = true;
        } else if (doc.cart.length < MAX_LINES) {
          doc.cart.push({ id: id, qty: Math.min(MAX_QUANTITY, qty), name: String(name || "").slice(0, 300) });
          added = true;
        }
      });
      return added;
    },
    setQuantity: function (id, qty) {
      update(function (doc) {
        doc.cart.forEach(function (l) { if (l.id === id) l.qty = Math.max(1, Math.min(MAX_QUANTITY, qty)); });
      });
    },
    remove: function (id) {
      update(function (doc) { doc.cart = doc.cart.filter(function (l) { return l.id !== id; }); });
    },
    /** Empties the guest cart and returns what it held. */
    takeCart: function () {
      var taken = [];
      update(function (doc) { taken = copyCart(doc.cart); doc.cart = []; });
      return taken;
    },
    /** Puts lines back (after a failed merge), adding to whatever is there now. */
    restore: function (lines) {
      var self = this;
      lines.forEach(function (l) { self.addToCart(l.id, l.qty, l.name); });
    },
    filters: function () { return load().filters; },
    setFilters: function (search) {
      var clean = cleanFilters(search);
      update(function (doc) { doc.filters = clean; });
      return clean;
    },
    cleanFilters: cleanFilters,
    lastEventId: function () { return load().lastEventId; },
    /** Remembers an event id if it is newer than the one kept. */
    sawEvent: function (id) {
      if (!isCount(id, Number.MAX_SAFE_INTEGER)) return;
      if (id <= load().lastEventId) return;
      update(function (doc) { if (id > doc.lastEventId) doc.lastEventId = id; });
    }
  };
})();
