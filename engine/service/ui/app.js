// The page of `rules serve`: try a record, report on a unit's sheet, read the policy.
// Everything about the policy comes from the service (/v1/schema, /v1/policies,
// /v1/document); nothing about one policy is written here. No build step, no library.
"use strict";

const state = { token: sessionStorage.getItem("rules-token") || "", kinds: [], units: {}, regimes: {},
                file: null, rows: [], shown: 0, multiple: false };
const $ = (id) => document.getElementById(id);
const BIG = 1e14; // the engine's own limits on numbers are not worth showing as a range

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ── talking to the service ────────────────────────────────────────────────
function headers(extra = {}) {
  return state.token ? { ...extra, Authorization: `Bearer ${state.token}` } : extra;
}

async function api(path, options = {}) {
  const answer = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (answer.status === 401) {
    $("token-box").hidden = false;
    $("token").focus();
    throw new Error("服务要求访问令牌：请在上方输入。");
  }
  if (!answer.ok) {
    let message = `${answer.status}`;
    try { message = (await answer.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return answer;
}

// ── tabs ─────────────────────────────────────────────────────────────────
function selectTab(tab) {
  for (const other of document.querySelectorAll('[role="tab"]')) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", chosen);
    other.tabIndex = chosen ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !chosen;
  }
  if (tab.id === "tab-policy") loadDocument();
}

function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(tab);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      target.focus();
      selectTab(target);
    });
  }
}

// ── the policy ───────────────────────────────────────────────────────────
function years(span) {
  return `${span.first ?? ""}..${span.last ?? ""}`;
}

async function loadPolicy() {
  const described = await (await api("/v1/policies")).json();
  const policies = described.policies;
  state.multiple = policies.length > 1;
  for (const policy of policies) {
    for (const regime of policy.regimes) {
      state.units[regime.unit] = regime.unit_label || regime.unit;
      state.regimes[regime.name] = regime.label || regime.name;
    }
  }
  const latest = policies[policies.length - 1];
  $("title").textContent = latest.label || latest.name;
  document.title = `${latest.label || latest.name} · 试算`;
  const parts = policies.map((p) => `${p.name}（版本 ${p.version}，适用 ${years(p.years)}）`);
  $("about").textContent = parts.join("；");
  $("policy-about").textContent = $("about").textContent;
  const last = latest.years.last ?? latest.years.first ?? new Date().getFullYear();
  $("in-year").value = Math.min(last, Math.max(latest.years.first ?? last, new Date().getFullYear()));

  const schema = await (await api("/v1/schema")).json();
  const schemaParts = schema.anyOf || [schema];
  const byName = new Map();
  for (const part of schemaParts) {
    for (const kind of part.oneOf || [part]) byName.set(kind.properties.kind.enum[0], kind);
  }
  state.kinds = [...byName.entries()];
  const select = $("in-kind");
  select.replaceChildren(...state.kinds.map(([name, kind]) =>
    element("option", { value: name, text: kind.title ? `${kind.title}（${name}）` : name })));
  select.addEventListener("change", renderFields);
  renderFields();
}

// ── 试算: a form from the kind's schema ───────────────────────────────────
function range(spec) {
  const low = spec.minimum ?? spec.exclusiveMinimum;
  const high = spec.maximum ?? spec.exclusiveMaximum;
  const parts = [];
  if (low !== undefined && Math.abs(low) < BIG) parts.push(`${spec.minimum !== undefined ? "≥" : ">"} ${low}`);
  if (high !== undefined && Math.abs(high) < BIG) parts.push(`${spec.maximum !== undefined ? "≤" : "<"} ${high}`);
  return parts.join("，");
}

function control(name, spec, required) {
  const id = `in-${name}`;
  if (spec.enum) {
    const options = Object.entries(spec["x-labels"] || Object.fromEntries(spec.enum.map((v) => [v, v])));
    const select = element("select", { id, name });
    if (!required) select.append(element("option", { value: "", text: "（不填）" }));
    for (const [value, label] of options) {
      select.append(element("option", { value, text: label === value ? value : `${label}（${value}）` }));
    }
    return select;
  }
  if (spec.type === "boolean") {
    const select = element("select", { id, name, "data-type": "boolean" });
    if (!required && spec.default === undefined) select.append(element("option", { value: "", text: "（不填）" }));
    select.append(element("option", { value: "true", text: "是" }), element("option", { value: "false", text: "否" }));
    if (spec.default !== undefined) select.value = String(spec.default);
    return select;
  }
  if (spec.type === "array") {
    const box = element("div", { id, class: "checks", "data-type": "set", role: "group" });
    for (const [value, label] of Object.entries(spec.items["x-labels"] || {})) {
      const check = element("input", { type: "checkbox", value, id: `${id}-${value}` });
      box.append(element("label", { for: `${id}-${value}` }, check, ` ${label}`));
    }
    return box;
  }
  const numeric = spec.type === "integer" || spec.type === "number";
  return element("input", { id, name, type: "text", autocomplete: "off",
                            inputmode: numeric ? (spec.type === "integer" ? "numeric" : "decimal") : null,
                            "data-type": numeric ? "number" : "text",
                            placeholder: spec.default !== undefined ? String(spec.default) : null });
}

function renderFields() {
  const kind = new Map(state.kinds).get($("in-kind").value);
  const required = new Set(kind.required || []);
  const fields = Object.entries(kind.properties).filter(([name]) => !["id", "person", "year", "kind"].includes(name));
  $("fields").replaceChildren(...fields.map(([name, spec]) => {
    const needed = required.has(name);
    const notes = [range(spec), needed ? "" : spec.default !== undefined ? `可选，默认 ${spec.default}` : "可选"]
      .filter(Boolean).join("；");
    const label = element("label", { for: `in-${name}` }, spec.title ? `${spec.title}（${name}）` : name);
    if (notes) label.append(" ", element("span", { class: "hint", text: `（${notes}）` }));
    return element("div", { class: "field", id: `f-${name}` }, label, control(name, spec, needed),
                   element("p", { class: "error", id: `err-${name}`, role: "alert" }));
  }));
  const rules = kind["x-constraints"] || [];
  $("fields").append(...rules.map((rule) => element("p", { class: "hint", text: `要求：${rule}` })));
  $("try-result").replaceChildren();
}

const NUMBER = /^-?\d+(\.\d+)?$/;

function recordText() {
  // JSON written by hand, so that a number goes as typed (exact: 0.1 stays 0.1)
  const parts = [["kind", JSON.stringify($("in-kind").value)]];
  const year = $("in-year").value.trim();
  parts.push(["year", NUMBER.test(year) ? year : JSON.stringify(year)]);
  for (const box of $("fields").querySelectorAll(".field")) {
    const name = box.id.slice(2);
    const input = $(`in-${name}`);
    const type = input.dataset.type;
    if (type === "set") {
      const chosen = [...input.querySelectorAll("input:checked")].map((c) => c.value);
      if (chosen.length) parts.push([name, JSON.stringify(chosen)]);
      continue;
    }
    const value = input.value.trim();
    if (value === "") continue;
    if (type === "number") parts.push([name, NUMBER.test(value) ? value : JSON.stringify(value)]);
    else if (type === "boolean") parts.push([name, value]);
    else parts.push([name, JSON.stringify(value)]);
  }
  return `{${parts.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(", ")}}`;
}

function clearErrors() {
  for (const error of document.querySelectorAll("#try-form .error")) error.textContent = "";
  for (const bad of document.querySelectorAll('#try-form [aria-invalid="true"]')) bad.removeAttribute("aria-invalid");
}

function showResult(explained) {
  const unit = state.units[explained.unit] || explained.unit;
  const box = element("div", { class: "result", id: "result" });
  box.append(element("p", {},
    element("span", { class: "amount", id: "result-amount", text: String(explained.amount) }), ` ${unit}　`,
    element("span", { class: explained.counted ? "counted" : "not-counted", id: "result-counted",
                      text: explained.counted ? "计入" : `不计入（${explained.reason}）` })));
  const policy = state.multiple ? `；政策 ${explained.policy}` : "";
  const regime = state.regimes[explained.regime] || explained.regime;
  box.append(element("p", { class: "muted", text: `${explained.year} 年度，${regime}${policy}，版本 ${explained.version}` }));
  if (explained.why_not) box.append(element("p", { text: explained.why_not }));
  const steps = element("ol", { class: "steps", id: "result-steps" });
  for (const step of explained.steps) {
    steps.append(element("li", {}, step.text, element("span", { class: "cite", text: `［${step.cite}］` })));
  }
  box.append(element("h2", { text: "计算过程" }), steps);
  $("try-result").replaceChildren(box);
}

async function submitTry(event) {
  event.preventDefault();
  clearErrors();
  $("try-result").replaceChildren();
  try {
    const answer = await api("/v1/explain", { method: "POST", body: recordText(),
                                              headers: { "Content-Type": "application/json" } });
    const explained = await answer.json();
    if (!explained.error) return showResult(explained);
    showNeeds();
    const field = explained.error.field;
    const slot = field && $(`err-${field}`) ? $(`err-${field}`) : $("err-record");
    slot.textContent = explained.error.message;
    const input = field && $(`in-${field}`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  } catch (error) {
    $("err-record").textContent = error.message;
  }
}

async function showNeeds() {
  // what the record still lacks, what of it changes the amount, and each choice's outcome
  const answer = await api("/v1/needs", { method: "POST", body: recordText(),
                                          headers: { "Content-Type": "application/json" } });
  const found = await answer.json();
  const groups = found.one_of || [];
  if (!found.needed || (!found.needed.length && !groups.length)) return;
  const kind = new Map(state.kinds).get($("in-kind").value) || { properties: {} };
  const title = (name) => (kind.properties[name] || {}).title || name;
  const box = element("div", { class: "result", id: "try-needs" });
  if (found.needed.length) box.append(element("p", { text: `还需填写：${found.needed.map(title).join("、")}` }));
  for (const group of groups) box.append(element("p", { text: `以下填写其中一项：${group.map(title).join("、")}` }));
  if (found.matters.length) {
    box.append(element("p", { text: `其中会影响数额的：${found.matters.map(title).join("、")}` }));
  }
  const spec = kind.properties[found.next] || {};
  const labels = spec["x-labels"] || { true: "是", false: "否", True: "是", False: "否" };
  const unit = state.units[found.unit] || found.unit || "";
  const choices = element("ul", { id: "try-choices" });
  for (const [value, outcome] of Object.entries(found.choices || {})) {
    const said = typeof outcome === "string" && outcome.startsWith("not counted: ")
      ? `不计入（${outcome.slice(13)}）` : `${outcome} ${unit}`;
    choices.append(element("li", { text: `若${title(found.next)}为${labels[value] || value}：${said}` }));
  }
  if (choices.children.length) box.append(choices);
  $("try-result").replaceChildren(box);
}

// ── 批量: a unit's sheet ─────────────────────────────────────────────────
function upload(file, format) {
  // XMLHttpRequest, for the upload's progress; the page stays usable meanwhile
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const query = new URLSearchParams({ name: file.name, ...(format ? { format } : {}) });
    request.open("POST", `/v1/report/upload?${query}`);
    for (const [key, value] of Object.entries(headers({ "Content-Type": "application/octet-stream" }))) {
      request.setRequestHeader(key, value);
    }
    request.responseType = format === "xlsx" ? "blob" : "text";
    const bar = $("batch-progress");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) { bar.hidden = false; bar.value = (100 * event.loaded) / event.total; }
    };
    request.upload.onload = () => { bar.removeAttribute("value"); $("batch-status").textContent = "已上传，正在计算…"; };
    request.onload = async () => {
      bar.hidden = true;
      if (request.status === 200) return resolve(request.response);
      if (request.status === 401) { $("token-box").hidden = false; }
      let message = `${request.status}`;
      try {
        const text = format === "xlsx" ? await request.response.text() : request.response;
        message = JSON.parse(text).error.message;
      } catch (_) { /* not JSON */ }
      reject(new Error(message));
    };
    request.onerror = () => { bar.hidden = true; reject(new Error("无法连接服务")); };
    request.send(file);
  });
}

function cell(row, column) {
  const value = column.split(".").reduce((at, key) => (at == null ? undefined : at[key]), row);
  if (value === true) return "✓";
  if (value === false) return "✗";
  return value === undefined || value === null || typeof value === "object" ? "" : String(value);
}

function table(rows, columns, labels, id, decorate) {
  const head = element("tr", {}, ...columns.map((c) => element("th", { scope: "col", text: labels[c] || c })));
  const body = element("tbody");
  const wrap = element("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": id },
                       element("table", { id }, element("thead", {}, head), body));
  const add = (more) => {
    for (const row of more) {
      const line = element("tr");
      for (const column of columns) {
        const td = element("td", { text: cell(row, column) });
        decorate(row, column, td, line);
        line.append(td);
      }
      body.append(line);
    }
  };
  return { wrap, add };
}

function showReport(report) {
  const rows = report.rows.filter((r) => r.scope !== "error");
  const errors = report.rows.filter((r) => r.scope === "error");
  const hidden = new Set(["scope", "id", "error.code", "error.field", "error.message", "version",
                          ...(state.multiple ? [] : ["policy"])]);
  const columns = report.columns.filter((c) => !hidden.has(c) && rows.some((r) => cell(r, c) !== ""));
  const judged = rows.filter((r) => "qualified" in r);
  const summary = `共 ${rows.length} 行汇总（${judged.filter((r) => r.qualified).length} 合格，`
                + `${judged.filter((r) => r.qualified === false).length} 不合格），${errors.length} 行有误。`;
  const result = $("batch-result");
  result.replaceChildren(element("p", { id: "batch-summary", text: summary }));
  const years = table(rows, columns, report.labels, "report-rows", (row, column, td, line) => {
    if (row.qualified === false) line.className = "unqualified";
    if (column.startsWith("shortfall.") && Number(cell(row, column)) > 0) td.className = "short";
    if (column === "qualified") td.className = row.qualified ? "yes" : "no";
  });
  result.append(element("h2", { text: "每人每年" }), years.wrap);
  // rows go in by pages, so that a large sheet does not hold the page up
  const page = 300;
  let at = 0;
  const more = element("button", { type: "button", id: "batch-more", text: "显示更多" });
  const next = () => {
    years.add(rows.slice(at, at + page));
    at += page;
    more.hidden = at >= rows.length;
  };
  more.addEventListener("click", next);
  next();
  result.append(more);
  if (errors.length) {
    const bad = table(errors, ["id", "error.code", "error.field", "error.message"],
                      { id: "行号", "error.code": "错误", "error.field": "字段", "error.message": "说明" },
                      "error-rows", () => {});
    bad.add(errors);
    result.append(element("h2", { text: "有误的行" }), bad.wrap);
  }
}

async function submitBatch(event) {
  event.preventDefault();
  const file = $("batch-file").files[0];
  if (!file) { $("batch-status").textContent = "请先选择一个 .xlsx 或 .csv 文件。"; return; }
  state.file = file;
  $("batch-status").textContent = "正在上传…";
  $("batch-result").replaceChildren();
  $("batch-download").hidden = true;
  try {
    const report = JSON.parse(await upload(file));
    $("batch-status").textContent = `${file.name}：完成。`;
    showReport(report);
    $("batch-download").hidden = false;
  } catch (error) {
    $("batch-status").textContent = `出错：${error.message}`;
  }
}

async function download() {
  try {
    const blob = await upload(state.file, "xlsx");
    const link = element("a", { href: URL.createObjectURL(blob),
                                download: state.file.name.replace(/\.[^.]+$/, "") + "-report.xlsx" });
    document.body.append(link);
    link.click();
    link.remove();
    $("batch-status").textContent = "报告已下载。";
  } catch (error) {
    $("batch-status").textContent = `出错：${error.message}`;
  }
}

// ── 政策 ─────────────────────────────────────────────────────────────────
let documentLoaded = false;
async function loadDocument() {
  if (documentLoaded) return;
  try {
    $("policy-doc").srcdoc = await (await api("/v1/document")).text();
    documentLoaded = true;
  } catch (error) {
    $("policy-about").textContent = `出错：${error.message}`;
  }
}

async function start() {
  setUpTabs();
  $("try-form").addEventListener("submit", submitTry);
  $("batch-form").addEventListener("submit", submitBatch);
  $("batch-download").addEventListener("click", download);
  $("token-box").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("token").value.trim();
    sessionStorage.setItem("rules-token", state.token);
    $("token-box").hidden = true;
    loadAll();
  });
  loadAll();
}

async function loadAll() {
  try {
    await loadPolicy();
    document.body.dataset.ready = "true";
  } catch (error) {
    $("about").textContent = error.message;
  }
}

start();
