// Fills x-ms-dynamic-values / x-ms-dynamic-list dropdowns on the operation page from the
// choices API. The console's session cookie authenticates; the CSRF token goes in a header.
"use strict";

(function () {
  const form = document.getElementById("operation-form");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const connection = document.getElementById("connection");
  const dynamics = Array.from(form.querySelectorAll("select[data-dynamic]"));
  if (!connection || dynamics.length === 0) return;

  function otherArguments(except) {
    const params = new URLSearchParams();
    for (const element of form.elements) {
      if (!element.name || !element.name.startsWith("arg.") || element === except) continue;
      if (element.tagName === "TEXTAREA" || element.value === "") continue;
      params.append(element.name.slice(4), element.value);
    }
    return params;
  }

  function status(select, text) {
    const note = form.querySelector('.dynamic-status[data-for="' + CSS.escape(select.dataset.dynamic) + '"]');
    if (note) note.textContent = text;
  }

  async function load(select) {
    const params = otherArguments(select);
    params.set("operation", form.dataset.operation);
    params.set("parameter", select.dataset.dynamic);
    const url = "/api/connections/" + encodeURIComponent(connection.value) + "/choices?" + params.toString();
    status(select, "loading values…");
    try {
      const response = await fetch(url, { headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
      const body = await response.json();
      if (!response.ok) {
        status(select, "could not load the values: " + (body.detail || response.status));
        return;
      }
      const keep = select.value || select.dataset.value;
      select.replaceChildren(new Option("", ""));
      for (const choice of body) {
        const value = typeof choice.value === "string" ? choice.value : JSON.stringify(choice.value);
        select.add(new Option(choice.title, value, false, value === keep));
      }
      status(select, body.length + " values");
    } catch (error) {
      status(select, "could not load the values: " + error);
    }
  }

  function loadAll() {
    if (!connection.value) return;
    dynamics.forEach(load);
  }

  connection.addEventListener("change", loadAll);
  form.addEventListener("change", function (event) {
    const target = event.target;
    if (target !== connection && target.name && target.name.startsWith("arg.") && !target.dataset.dynamic) loadAll();
  });
  loadAll();
})();
