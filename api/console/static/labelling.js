// The labelling page's keyboard: j/k move between posts, and each category's key (shown on its
// button) labels the post in focus by pressing that button, so the form (and its CSRF token)
// does the work and the page works the same without this script.
(function () {
  "use strict";
  const items = () => Array.from(document.querySelectorAll(".label-item"));
  function current() {
    const all = items();
    return all.find((el) => el === document.activeElement || el.contains(document.activeElement)) || all[0];
  }
  function move(step) {
    const all = items();
    if (!all.length) return;
    const i = Math.max(0, all.indexOf(current()));
    all[Math.min(all.length - 1, Math.max(0, i + step))].focus();
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    const item = current();
    if (!item) return;
    const button = item.querySelector(`button[data-key="${CSS.escape(event.key)}"]`);
    if (button) { button.click(); event.preventDefault(); }
  });
  const first = items()[0];
  if (first && !document.querySelector("#label-q:focus")) first.focus();
})();
