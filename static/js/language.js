// Gentle language suggestions while writing. A textarea with
// data-language-check="<panel id>" is checked after a pause in typing: the text
// goes to the panel's data-check-url (POST /language/check) and the answer is
// shown in the panel, an aria-live region. Suggestions never block anything, and
// every page works without this file (a "Check my language" button).
(function () {
  "use strict";
  var PAUSE_MS = 1200;

  function csrfToken(field) {
    var input = field.form && field.form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function attach(field) {
    var panel = document.getElementById(field.getAttribute("data-language-check"));
    if (!panel || !window.fetch) { return; }
    var url = panel.getAttribute("data-check-url");
    var timer = null;
    var lastText = field.value;
    var lastHtml = null;
    var pending = null;

    function show(html) {
      // Only a change is announced, so a screen reader does not repeat the list at every pause.
      if (html !== lastHtml) { panel.innerHTML = html; lastHtml = html; }
    }

    function run() {
      var text = field.value;
      if (text === lastText) { return; }
      lastText = text;
      if (pending && pending.abort) { pending.abort(); }
      pending = window.AbortController ? new AbortController() : null;
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined,
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken(field)},
        body: JSON.stringify({text: text})
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (result.ok && typeof result.data.html === "string") {
          show(result.data.html);
        } else if (result.data && result.data.error) {
          var message = document.createElement("p");
          message.className = "hint";
          message.textContent = result.data.error;
          show(message.outerHTML);
        }
      }).catch(function () { /* suggestions are optional: stay quiet */ });
    }

    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, PAUSE_MS);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-language-check]"), attach);
  });
})();
