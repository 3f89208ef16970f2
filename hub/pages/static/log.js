// The trial log in the browser: the threat library's cost follows the threat chosen, and the
// form is kept as a draft in localStorage so that a session which expired while the soldier
// typed loses nothing: after logging in again the unsent trial is put back.
(function () {
  "use strict";
  const kind = document.getElementById("threat_kind");
  const other = document.getElementById("threat_other-box");
  const cost = document.getElementById("threat_cost_eur");
  function showOther() { if (kind && other) other.hidden = kind.value !== "other"; }
  if (kind) {
    kind.addEventListener("change", function () {
      const known = kind.selectedOptions[0].dataset.cost;
      if (known && cost) cost.value = known;
      showOther();
    });
    showOther();
  }

  const form = document.getElementById("trial-log");
  if (!form || !window.localStorage) return;
  const key = form.dataset.draft;
  const fields = Array.from(form.elements).filter((f) => f.name && f.name !== "csrf");
  if (form.hasAttribute("data-sent")) {
    localStorage.removeItem(key);
  } else if (!document.getElementById("form-errors")) {
    const saved = localStorage.getItem(key);
    if (saved) {
      const draft = JSON.parse(saved);
      fields.forEach((f) => { if (f.name in draft) f.value = draft[f.name]; });
      document.getElementById("draft-restored").hidden = false;
      showOther();
    }
  }
  function save() {
    const draft = {};
    fields.forEach((f) => { draft[f.name] = f.value; });
    localStorage.setItem(key, JSON.stringify(draft));
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
})();
