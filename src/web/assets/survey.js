// Progress saving for long surveys. Answers are kept only in this phone's own localStorage, under
// a key the server derives from the link (never the link itself), and removed after a successful
// submission. Nothing is sent to the server before the enterprise presses submit, so a
// half-filled survey leaves no trace on the server. Without JavaScript the form works the same,
// only without this.
(function () {
  "use strict";
  var PREFIX = "qiping:progress:";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) { return; }

  if (document.body.getAttribute("data-submitted") === "1") {
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k.indexOf(PREFIX) === 0) { store.removeItem(k); }
    }
    return;
  }
  var form = document.getElementById("survey");
  if (!form) { return; }
  var key = PREFIX + form.getAttribute("data-progress-key");

  function save() {
    var state = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.name === "q") { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { (state[el.name] = state[el.name] || []).push(el.value); }
      } else if (el.tagName === "TEXTAREA" && el.value) {
        state[el.name] = [el.value];
      }
    });
    try { store.setItem(key, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      var values = saved[el.name];
      if (!values) { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values.indexOf(el.value) >= 0;
      } else if (el.tagName === "TEXTAREA" && !el.value) {
        el.value = values[0];
      }
    });
  }

  // The server's own copy (after a refused submission) wins over the saved one.
  if (form.getAttribute("data-restore") === "1") { restore(); }
  form.addEventListener("change", save);
  form.addEventListener("input", save);
})();

// All comments together have one budget (the sealed ballot's room): show how much is used, counted
// as the server counts it (a text field's length: UTF-16 code units; a line break is one).
(function () {
  "use strict";
  var form = document.getElementById("survey");
  var budget = document.getElementById("comment-budget");
  var counter = document.getElementById("comment-count");
  if (!form || !budget || !counter) { return; }
  var max = parseInt(budget.getAttribute("data-max"), 10) || 0;
  function count() {
    var used = 0;
    Array.prototype.forEach.call(form.querySelectorAll("textarea"), function (t) {
      used += t.value.replace(/^\s+|\s+$/g, "").length;
    });
    counter.textContent = "(" + used + " / " + max + ")";
    budget.className = used > max ? "hint over" : "hint";
  }
  count();
  form.addEventListener("input", count);
})();
