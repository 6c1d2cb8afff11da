// Attendance: small progressive enhancements; the register works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // "Mark everyone not yet marked as present" without a round trip, keeping
  // whatever has been entered in the form already.
  var markAll = document.getElementById("mark-all-present");
  var form = document.querySelector(".register-form");
  if (markAll && form) {
    markAll.addEventListener("click", function (event) {
      event.preventDefault();
      var changed = 0;
      form.querySelectorAll('input[type="radio"][value="unmarked"]:checked').forEach(function (unmarked) {
        var present = form.querySelector('input[type="radio"][name="' + unmarked.name + '"][value="present"]');
        if (present) { present.checked = true; changed += 1; }
      });
      var note = document.getElementById("mark-all-present-status");
      if (!note) {
        note = document.createElement("p");
        note.id = "mark-all-present-status";
        note.className = "flash";
        note.setAttribute("role", "status");
        markAll.parentNode.insertAdjacentElement("afterend", note);
      }
      note.textContent = changed === 1 ? "1 person is now shown as present. Check the register, then save it."
        : changed + " people are now shown as present. Check the register, then save it.";
    });
  }
});

document.addEventListener("DOMContentLoaded", function () {
  // A "Copy the link" button beside a new calendar link, where the browser allows it.
  var feedUrl = document.getElementById("feed-url");
  if (!feedUrl || !navigator.clipboard) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button--secondary";
  button.textContent = "Copy the link";
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "hint";
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(feedUrl.value).then(function () {
      status.textContent = "The link is copied. Paste it into your calendar app.";
    }, function () {
      feedUrl.select();
      status.textContent = "Select the link and copy it with your keyboard or menu.";
    });
  });
  feedUrl.insertAdjacentElement("afterend", status);
  feedUrl.insertAdjacentElement("afterend", button);
});
