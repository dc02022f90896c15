// The operation page's two design-time lookups, through the management API: the dropdowns of
// x-ms-dynamic-values / x-ms-dynamic-list parameters (filled from the choices API), and the
// "Fetch dynamic schema" button (x-ms-dynamic-schema / -properties, from the schemas API).
// The console's session cookie authenticates; the CSRF token goes in a header. Everything the
// API answers is shown with textContent, never as HTML.
"use strict";

(function () {
  const form = document.getElementById("operation-form");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const connection = document.getElementById("connection");
  if (!connection) return;

  // The values of the operation's other parameters, which lookups may depend on.
  function otherArguments(except) {
    const params = new URLSearchParams();
    for (const element of form.elements) {
      if (!element.name || !element.name.startsWith("arg.") || element === except) continue;
      if (element.tagName === "TEXTAREA" || element.value === "") continue;
      params.append(element.name.slice(4), element.value);
    }
    return params;
  }

  async function getJson(path, params) {
    const url = "/api/connections/" + encodeURIComponent(connection.value) + path + "?" + params.toString();
    const response = await fetch(url, { headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || "HTTP " + response.status);
    return body;
  }

  // dynamic values

  const dynamics = Array.from(form.querySelectorAll("select[data-dynamic]"));

  function status(select, text) {
    const note = form.querySelector('.dynamic-status[data-for="' + CSS.escape(select.dataset.dynamic) + '"]');
    if (note) note.textContent = text;
  }

  async function load(select) {
    const params = otherArguments(select);
    params.set("operation", form.dataset.operation);
    params.set("parameter", select.dataset.dynamic);
    status(select, "loading values…");
    try {
      const body = await getJson("/choices", params);
      const keep = select.value || select.dataset.value;
      select.replaceChildren(new Option("", ""));
      for (const choice of body) {
        const value = typeof choice.value === "string" ? choice.value : JSON.stringify(choice.value);
        select.add(new Option(choice.title, value, false, value === keep));
      }
      status(select, body.length + " values");
    } catch (error) {
      status(select, "could not load the values: " + error.message);
    }
  }

  function loadAll() {
    if (!connection.value) return;
    dynamics.forEach(load);
  }

  if (dynamics.length > 0) {
    connection.addEventListener("change", loadAll);
    form.addEventListener("change", function (event) {
      const target = event.target;
      if (target !== connection && target.name && target.name.startsWith("arg.") && !target.dataset.dynamic) loadAll();
    });
    loadAll();
  }

  // dynamic schemas

  const fetchSchemas = document.getElementById("fetch-schemas");
  const results = document.getElementById("schema-results");
  if (!fetchSchemas || !results) return;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function showSchema(item) {
    const box = element("div", undefined, "schema-item");
    box.dataset.location = item.location;
    box.append(element("h3", item.location + (item.operationId ? " · from " + item.operationId : "")));
    if (item.error) {
      box.append(element("p", item.error, "error-text"));
    } else if (item.properties.length === 0) {
      box.append(element("p", "The fetched schema declares no properties.", "muted"));
    } else {
      const list = element("ul");
      const declared = (item.schema && item.schema.properties) || {};
      for (const name of item.properties) {
        const entry = element("li");
        entry.append(element("code", name));
        const type = declared[name] && declared[name].type;
        if (type) entry.append(document.createTextNode(" " + type));
        list.append(entry);
      }
      box.append(list);
    }
    return box;
  }

  fetchSchemas.addEventListener("click", async function () {
    if (!connection.value) {
      results.replaceChildren(element("p", "Choose a connection first.", "error-text"));
      return;
    }
    const params = otherArguments(null);
    params.set("operation", form.dataset.operation);
    results.replaceChildren(element("p", "fetching…", "muted"));
    fetchSchemas.disabled = true;
    try {
      const body = await getJson("/schemas", params);
      results.replaceChildren(...body.map(showSchema));
      if (body.length === 0) results.append(element("p", "No dynamic schema was found.", "muted"));
    } catch (error) {
      results.replaceChildren(element("p", "could not fetch the schema: " + error.message, "error-text"));
    } finally {
      fetchSchemas.disabled = false;
    }
  });
})();

// The trigger page's live event list: every 2 s, read the events after the last one shown from
// the events API (paging at once while full pages come back) and append a row for each. Bodies
// and problems are shown with textContent only: an event is whatever the backend sent.
(function () {
  const table = document.getElementById("events");
  if (!table) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const rows = table.tBodies[0];
  const status = document.getElementById("events-status");
  const PAGE = 100;
  const EVERY_MS = 2000;
  let since = Number(table.dataset.since) || 0;

  function cell(row, child) {
    const td = row.insertCell();
    if (child) td.append(child);
    return td;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function shownTime(iso) {
    const moment = new Date(iso);
    return isNaN(moment) ? String(iso) : moment.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function pretty(value) {
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function append(event) {
    if (event.id <= since) return;  // already shown
    const row = rows.insertRow();
    row.dataset.event = String(event.id);
    row.className = "fresh";
    cell(row).textContent = String(event.id);
    cell(row, element("code", event.key, "event-key"));
    cell(row).textContent = shownTime(event.receivedAt);
    const problems = cell(row);
    problems.className = "event-problems";
    for (const problem of event.problems || []) problems.append(element("div", problem, "error-text"));
    cell(row, element("pre", pretty(event.body), "event-body"));
    since = event.id;
  }

  async function readNew() {
    const base = "/api/triggers/" + encodeURIComponent(table.dataset.trigger) + "/events?limit=" + PAGE + "&since=";
    for (;;) {
      const response = await fetch(base + since, {
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 404) return false;
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || "HTTP " + response.status);
      body.forEach(append);
      if (body.length < PAGE) return true;
    }
  }

  async function tick() {
    try {
      if (!(await readNew())) {
        status.textContent = "This trigger was stopped; no more events will arrive.";
        return;
      }
      status.textContent = rows.rows.length + (rows.rows.length === 1 ? " event" : " events") + ". New events appear here as they arrive.";
    } catch (error) {
      status.textContent = "Could not read new events (" + error.message + "); trying again.";
    }
    setTimeout(tick, EVERY_MS);
  }

  tick();
})();
