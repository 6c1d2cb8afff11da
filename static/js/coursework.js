// The assignment editor: a live word count and autosave of the draft.
// Progressive enhancement only: without this file the "Save draft" button does the same job.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var form = document.querySelector("[data-autosave-form]");
  var editor = form && form.querySelector("textarea[data-autosave-url]");
  if (!editor) { return; }
  var counter = document.getElementById("editor-word-count");
  var status = document.getElementById("editor-autosave-status");
  var token = form.querySelector("input[name='csrf_token']");
  var dirty = false;
  var saving = false;
  var stopped = false;
  var INTERVAL = 8000;

  function words(text) {
    var trimmed = text.trim();
    return trimmed ? trimmed.split(/\s+/).length : 0;
  }

  function showCount() {
    var count = words(editor.value);
    var text = count.toLocaleString("en-GB") + (count === 1 ? " word" : " words");
    var target = parseInt(counter.getAttribute("data-target"), 10);
    if (target) {
      var margin = Math.floor(target * parseInt(counter.getAttribute("data-tolerance"), 10) / 100);
      text += " (the brief asks for " + (target - margin).toLocaleString("en-GB") + " to " +
        (target + margin).toLocaleString("en-GB") + ")";
    }
    counter.textContent = text;
  }

  function say(message) { status.textContent = message; }

  // Signed out while typing: the words are kept in this browser tab only (gone when it closes), so that
  // after signing in again this page can offer them back.
  var KEEP = "lms-unsaved:" + editor.getAttribute("data-autosave-url");
  function keepInTab() {
    try { window.sessionStorage.setItem(KEEP, editor.value); } catch (e) { /* storage off: the text is on the page */ }
  }
  function offerKept() {
    var kept = null;
    try { kept = window.sessionStorage.getItem(KEEP); } catch (e) { return; }
    if (kept === null) { return; }
    if (kept === editor.value || !kept.trim()) { window.sessionStorage.removeItem(KEEP); return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary";
    button.textContent = "Put back the text you typed before you were signed out";
    button.addEventListener("click", function () {
      editor.value = kept;
      dirty = true;
      showCount();
      window.sessionStorage.removeItem(KEEP);
      button.remove();
      say("Your text is back. It will be saved in a moment, or press “Save draft”.");
      editor.focus();
    });
    status.parentNode.insertBefore(button, status);
    say("Some text you typed was not saved because you were signed out. You can put it back.");
  }

  function save() {
    if (!dirty || saving || stopped) { return; }
    saving = true;
    dirty = false;
    var body = new FormData();
    body.append("csrf_token", token ? token.value : "");
    body.append("text", editor.value);
    fetch(editor.getAttribute("data-autosave-url"), {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        // Only the server's own answer counts as saved: a page it was sent to instead (such as the
        // sign-in page) is not.
        if (response.ok && !response.redirected && data.saved_at) {
          say("Draft saved " + data.saved_at + ".");
        } else {
          dirty = true;
          if (response.status === 409) { stopped = true; }
          if (response.status === 401 || response.redirected) {
            stopped = true;
            keepInTab();
            data.error = data.error || "You have been signed out, so your latest changes are not saved. " +
              "Your text is still here: copy it, sign in again in a new tab, then paste it back and save.";
          }
          say((data.error || "Your latest changes are not saved yet.") +
              (stopped ? "" : " Your text is still here: we will keep trying, or press “Save draft”."));
        }
      });
    }).catch(function () {
      // Offline or the server could not be reached: keep the text and try again later.
      dirty = true;
      say("Your latest changes are not saved yet (no connection). Your text is still here: we will keep trying.");
    }).then(function () { saving = false; });
  }

  editor.addEventListener("input", function () { dirty = true; showCount(); });
  form.addEventListener("submit", function () { stopped = true; });
  showCount();
  offerKept();
  window.setInterval(save, INTERVAL);
});
