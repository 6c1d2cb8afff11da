// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to an error summary so screen reader users hear the problems first.
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) { summary.focus(); }
});
