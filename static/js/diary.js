// Autosave for diary entries: every 20 seconds, if anything has changed, the
// form is sent as a draft to its data-autosave-url. Without JavaScript the
// "Save draft" button does the same. A status line (role="status") says when the
// draft was last saved.
(function () {
  "use strict";
  var DEFAULT_INTERVAL_MS = 20000;

  function snapshot(form) {
    var data = new FormData(form);
    data.delete("csrf_token");
    data.delete("entry_id");
    return new URLSearchParams(data).toString();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-autosave-url]");
    if (!form || !window.fetch || !window.FormData) { return; }
    var status = document.getElementById("autosave-status");
    var entryField = form.querySelector("input[name=entry_id]");
    var interval = parseInt(form.getAttribute("data-autosave-seconds"), 10) * 1000 || DEFAULT_INTERVAL_MS;
    var saved = snapshot(form);
    var busy = false;

    function say(message) { if (status && message) { status.textContent = message; } }

    function save() {
      var current = snapshot(form);
      if (busy || current === saved) { return; }
      busy = true;
      fetch(form.getAttribute("data-autosave-url"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: {"Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (result.ok) {
          saved = current;
          if (entryField && result.data.entry_id) { entryField.value = result.data.entry_id; }
          // A new entry now exists as a draft: saving it should update that draft, not add another.
          if (result.data.edit_url && form.hasAttribute("data-new-entry")) {
            form.setAttribute("action", result.data.edit_url);
            form.removeAttribute("data-new-entry");
          }
          say(result.data.message);
        } else {
          say(result.data && result.data.error);
        }
      }).catch(function () {
        say("Your draft could not be saved just now. Keep writing: we will try again.");
      }).then(function () { busy = false; });
    }

    var timer = window.setInterval(save, interval);
    // Once the form is being sent, autosave stops so that it cannot race the real save.
    form.addEventListener("submit", function () { window.clearInterval(timer); busy = true; });
  });
})();
