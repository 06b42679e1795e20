// The inspector's page: plain DOM calls, no framework, nothing fetched but this server's /api.
// Every text from the index is set with textContent (never parsed as HTML), except the eval
// charts, which the server builds with every text escaped (cli/eval_report.py).
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

// The configuration fields (A and B), made once: every option of search the page offers.
const FIELDS = [
  ["mode", "select", ["", "hybrid", "dense", "sparse"]],
  ["fusion", "select", ["", "dbsf", "rrf"]],
  ["weights", "text", "e.g. 1,0.5 (RRF)"],
  ["rrf_k", "number", ""],
  ["oversample", "number", ""],
  ["rerank", "select", ["", "on", "off"]],
  ["filter", "text", '{"topic": "music"}'],
  ["group_by", "text", "metadata key"],
  ["group_size", "number", ""],
  ["tenant", "select", [""]],
];

function makeFields(box) {
  const prefix = box.dataset.prefix;
  for (const [name, kind, extra] of FIELDS) {
    let input;
    if (kind === "select") {
      input = el("select", {id: prefix + name});
      for (const v of extra) input.append(el("option", {value: v, text: v || "default"}));
    } else {
      input = el("input", {id: prefix + name, type: kind, placeholder: extra, size: kind === "number" ? 4 : 14});
    }
    box.append(el("label", {}, name + " ", input));
  }
}

function options(prefix) {
  const v = (n) => $(prefix + n).value.trim();
  const out = {};
  for (const n of ["mode", "fusion", "filter", "group_by", "tenant"]) if (v(n)) out[n] = v(n);
  for (const n of ["rrf_k", "oversample", "group_size"]) if (v(n)) out[n] = Number(v(n));
  if (v("weights")) out.weights = v("weights").split(",").map(Number);
  if (v("rerank")) out.rerank = v("rerank") === "on";
  return out;
}

async function ask(path, body) {
  $("error").hidden = true;
  const r = await fetch("/api/" + path, body === undefined ? {} :
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const answer = await r.json();
  if (!r.ok) {
    $("error").textContent = "error: " + answer.error;
    $("error").hidden = false;
    throw new Error(answer.error);
  }
  return answer;
}

function highlighted(text, terms) {
  // Each matched query term (a model's token, e.g. a stem) marked where a word starts with it.
  const span = el("div", {class: "text"});
  const words = terms.filter((t) => /^[\p{L}\p{N}]+$/u.test(t));
  if (!words.length) { span.textContent = text; return span; }
  const re = new RegExp("(?<![\\p{L}\\p{N}])(" + words.join("|") + ")[\\p{L}\\p{N}]*", "giu");
  let last = 0;
  for (const m of text.matchAll(re)) {
    span.append(text.slice(last, m.index), el("mark", {text: m[0]}));
    last = m.index + m[0].length;
  }
  span.append(text.slice(last));
  return span;
}

function bars(e, top) {
  // One bar per branch: its raw score against the best of that branch among the hits shown.
  const box = el("div", {class: "bars"});
  e.branches.forEach((b, i) => {
    const width = b.score === null || !top[i] ? 0 : Math.max(0, Math.min(1, b.score / top[i])) * 100;
    const rank = b.rank === null ? "— " + (b.absent || "") : "#" + b.rank;
    const share = b.contribution === null ? "" : " +" + b.contribution.toFixed(4);
    const score = b.score === null ? "" : " " + b.score.toFixed(4);
    box.append(el("span", {text: b.kind}),
      el("div", {class: "bar" + (b.rank === null ? " absent" : ""), title: b.vector}, el("span", {style: "width:" + width + "%"})),
      el("span", {class: "branch", "data-kind": b.kind, text: rank + score + share}));
  });
  return box;
}

function renderHits(list, hits) {
  list.replaceChildren();
  const top = [];
  for (const h of hits) h.explanation.branches.forEach((b, i) => { top[i] = Math.max(top[i] || 0, b.score || 0); });
  for (const h of hits) {
    const e = h.explanation;
    const fused = e.fusion ? ` fused ${e.fusion.method} ${e.fusion.score.toFixed(4)}` : "";
    const rerank = e.rerank ? ` rerank #${e.rerank.rank_before} → #${e.rerank.rank}` : "";
    list.append(el("li", {class: "hit", "data-id": h.id, "data-rank": h.rank},
      el("div", {class: "head"}, `#${h.rank} `, el("span", {class: "id", text: h.id}),
        ` score ${h.score.toFixed(4)} relevance ${h.relevance.toFixed(3)}${fused}${rerank}`,
        ...(h.group === null ? [] : [" ", el("span", {class: "group", text: "group " + h.group})])),
      bars(e, top), highlighted(h.text, h.terms),
      el("div", {class: "said", text: h.said}),
      el("details", {}, el("summary", {text: "explanation"}), el("pre", {text: JSON.stringify(e, null, 1)}))));
  }
  if (!hits.length) list.append(el("li", {text: "no hits"}));
}

function query() {
  return {query: $("query").value, k: Number($("k").value) || 10};
}

async function search() {
  const answer = await ask("search", {...query(), ...options("")});
  $("hits-b").hidden = true; $("compare-box").hidden = true;
  $("hits-title").textContent = "Hits";
  renderHits($("hits"), answer.hits);
}

async function compare() {
  const q = query();
  const answer = await ask("compare", {...q, a: options(""), b: options("b-")});
  $("hits-title").textContent = "A";
  renderHits($("hits"), answer.a);
  renderHits($("hits-other"), answer.b);
  $("hits-b").hidden = false; $("compare-box").hidden = false;
  const table = $("compare");
  table.replaceChildren(el("tr", {}, ...["id", "A", "B", "movement"].map((t) => el("th", {text: t}))));
  for (const m of answer.moves) {
    const move = m.change === null ? (m.a === null ? "new in B" : "left B's top k") :
      m.change > 0 ? "▲ " + m.change : m.change < 0 ? "▼ " + -m.change : "=";
    const cls = m.change > 0 || m.a === null ? "up" : m.change < 0 || m.b === null ? "down" : "";
    table.append(el("tr", {class: "move", "data-id": m.id}, el("td", {text: m.id}),
      el("td", {class: "n", text: m.a ?? "—"}), el("td", {class: "n", text: m.b ?? "—"}),
      el("td", {class: cls, text: move})));
  }
}

async function whyNot() {
  const answer = await ask("why-not", {...query(), ...options(""), id: $("whynot-id").value});
  $("whynot-result").textContent = answer.stages.join("\n");
}

function overview(o) {
  $("collection").textContent = `collection ${o.collection}: ${o.count} records`;
  const box = el("div");
  const vectors = el("table", {}, el("tr", {}, ...["vector", "kind", "points", "lacking", "model (fingerprint)"].map((t) => el("th", {text: t}))));
  for (const v of o.vectors) vectors.append(el("tr", {}, ...[v.name, v.kind, v.points, v.lacking, v.stored_model || "—"].map((t) => el("td", {text: String(t)}))));
  const keys = el("table", {}, el("tr", {}, ...["payload key", "types", "examples"].map((t) => el("th", {text: t}))));
  for (const [k, v] of Object.entries(o.payload_keys)) keys.append(el("tr", {}, el("td", {text: k}), el("td", {text: v.types.join(", ")}), el("td", {text: v.examples.join("  ")})));
  box.append(vectors, el("p", {text: "modes: " + o.modes.join(", ") + "; engine: " + (o.storage.engine || "server") +
      "; storage: " + JSON.stringify(o.storage_settings)}), keys,
    el("p", {class: "note", text: `(keys from a sample of ${o.sampled} records)`}),
    el("p", {id: "tenants", text: o.tenant_key ? `tenants (${o.tenant_key}): ` + (o.tenants.map((t) => `${t.name} (${t.count})`).join(", ") || "none") : "no tenants"}));
  $("overview").replaceChildren(box);
  for (const prefix of ["", "b-"]) for (const t of o.tenants) $(prefix + "tenant").append(el("option", {value: t.name, text: t.name}));
}

async function readFile(input) {
  return input.files.length ? await input.files[0].text() : null;
}

async function showEval() {
  const rows = await readFile($("eval-file"));
  if (rows === null) { $("error").textContent = "choose the JSON file eval --json-out wrote"; $("error").hidden = false; return; }
  const queries = {};
  const lines = await readFile($("eval-queries"));
  for (const line of (lines || "").split("\n")) if (line.trim()) { const q = JSON.parse(line); queries[q._id] = q.text; }
  let parsed;
  try { parsed = JSON.parse(rows); } catch (e) { $("error").textContent = "the eval file is not JSON: " + e.message; $("error").hidden = false; return; }
  const answer = await ask("eval", {rows: parsed, queries, name: $("eval-file").files[0].name});
  $("eval-charts").innerHTML = answer.html;  // built and escaped by the server
  const texts = Object.fromEntries(answer.lost.map((x) => [x.id, x.text]));
  for (const row of document.querySelectorAll("#eval-charts tr.lost")) {
    const text = texts[row.dataset.query];
    if (!text) continue;
    row.title = "run this query's explained hybrid search";
    row.addEventListener("click", () => { $("query").value = text; $("mode").value = "hybrid"; search(); window.scrollTo(0, 0); });
  }
}

function guarded(run) {
  return (event) => { event.preventDefault(); run().catch((e) => console.error(e)); };
}

document.addEventListener("DOMContentLoaded", () => {
  makeFields($("config-a")); makeFields($("config-b"));
  $("search-form").addEventListener("submit", guarded(search));
  $("compare-run").addEventListener("click", guarded(compare));
  $("whynot-form").addEventListener("submit", guarded(whyNot));
  $("eval-form").addEventListener("submit", guarded(showEval));
  ask("overview").then(overview).catch((e) => console.error(e));
});
