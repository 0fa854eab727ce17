// The viewer's page. Every piece of data becomes a text node (textContent), never markup: model
// output is untrusted. Details come from embedded base64(gzip(JSON)) blocks, or from the server.
"use strict";

const INDEX = JSON.parse(document.getElementById("mnm-index").textContent);
const PAGE = 25;
const COLLAPSE_CHARS = 1500, COLLAPSE_LINES = 30;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") node.className = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

async function detail(kind, id) {
  const block = document.getElementById(`d-${kind}-${id}`);
  if (!block) {
    const r = await fetch(`detail/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`);
    if (!r.ok) throw new Error(`${kind} ${id}: HTTP ${r.status}`);
    return r.json();
  }
  const bytes = Uint8Array.from(atob(block.textContent.trim()), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

// -- small widgets ---------------------------------------------------------------------------
function pct(x) { return (100 * x).toFixed(1); }

function hue(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 60% 45%)`;
}

function longText(text, cls) {
  const lines = text.split("\n");
  const pre = el("pre", {class: cls || ""});
  if (text.length <= COLLAPSE_CHARS && lines.length <= COLLAPSE_LINES) { pre.textContent = text; return pre; }
  const short = lines.slice(0, 12).join("\n").slice(0, 800);
  pre.textContent = short + "\n…";
  const more = el("a", {class: "more", href: "#"}, `show all (${text.length} characters, ${lines.length} lines)`);
  let open = false;
  more.addEventListener("click", ev => {
    ev.preventDefault();
    open = !open;
    pre.textContent = open ? text : short + "\n…";
    more.textContent = open ? "collapse" : `show all (${text.length} characters, ${lines.length} lines)`;
  });
  return el("div", {}, pre, more);
}

function table(header, rows, onclick, selected, onsort) {
  const t = el("table", {}, el("tr", {}, header.map((h, i) =>
    el("th", onsort ? {onclick: () => onsort(i), title: "sort", style: "cursor:pointer"} : {}, h))));
  rows.forEach(r => {
    const cells = r.cells.map(c => c instanceof Node ? el("td", {}, c) : el("td", {}, String(c)));
    const tr = el("tr", {class: onclick ? "row" : ""}, cells);
    if (r.id) tr.setAttribute("data-id", r.id);
    if (selected && r.id === selected) tr.classList.add("selected");
    if (onclick) tr.addEventListener("click", () => onclick(r, tr));
    t.append(tr);
  });
  return t;
}

function verdictCell(ok) { return el("span", {class: ok ? "ok" : "bad"}, ok ? "yes" : "no"); }

function select(label, values, onchange) {
  const s = el("select", {name: label}, el("option", {value: ""}, `all`),
               values.map(v => el("option", {value: v}, v === "" ? "(none)" : v)));
  s.addEventListener("change", () => onchange(s.value));
  return el("label", {}, label + " ", s);
}

function uniq(rows, key) { return [...new Set(rows.map(r => String(r[key])))].sort(); }

// A filterable, sortable, paginated list. ``columns`` are [label, key] (the key sorts);
// ``render(row)`` gives the cells, ``open(row)`` shows the row's detail.
function listView(root, rows, filterKeys, columns, render, open, initial) {
  const filters = {};
  let text = "", page = 0, selected = null, sortKey = null, sortDir = 1;
  const first = rows.findIndex(r => r.id === initial);
  if (first >= 0) { selected = initial; page = Math.floor(first / PAGE); }
  const controls = el("div", {class: "controls"});
  const body = el("div");
  filterKeys.forEach(k => controls.append(select(k, uniq(rows, k), v => { filters[k] = v; page = 0; draw(); })));
  const search = el("input", {type: "search", placeholder: "search any field", name: "search"});
  search.addEventListener("input", () => { text = search.value.toLowerCase(); page = 0; draw(); });
  controls.append(search);
  root.append(controls, body);
  function visible() {
    const shown = rows.filter(r => filterKeys.every(k => !filters[k] || String(r[k]) === filters[k]) &&
      (!text || JSON.stringify(r).toLowerCase().includes(text)));
    if (sortKey !== null) {
      shown.sort((a, b) => (a[sortKey] < b[sortKey] ? -1 : a[sortKey] > b[sortKey] ? 1 : 0) * sortDir);
    }
    return shown;
  }
  function sort(i) {
    const key = columns[i][1];
    sortDir = key === sortKey ? -sortDir : 1;
    sortKey = key;
    draw();
  }
  function draw() {
    const shown = visible();
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    const prev = el("button", {disabled: page === 0, onclick: () => { page--; draw(); }}, "‹ prev");
    const next = el("button", {disabled: page >= pages - 1, onclick: () => { page++; draw(); }}, "next ›");
    const slice = shown.slice(page * PAGE, (page + 1) * PAGE).map(r => ({id: r.id, row: r, cells: render(r)}));
    const header = columns.map(([label, key]) => label + (key === sortKey ? (sortDir > 0 ? " ▲" : " ▼") : ""));
    clear(body).append(
      el("div", {class: "pager"}, prev, `page ${page + 1} of ${pages} · ${shown.length} of ${rows.length}`, next),
      table(header, slice, r => { selected = r.id; draw(); choose(r.row); }, selected, sort));
  }
  function choose(row) {
    history.replaceState(null, "", `#${current}/${row.id}`);
    open(row);
  }
  draw();
  if (first >= 0) open(rows[first]);
}

// -- messages --------------------------------------------------------------------------------
function partNode(p, step, strike) {
  const tags = [];
  let cls = "part " + p.visibility;
  if (p.visibility === "hint") tags.push(el("span", {class: "tag", style: `background:${hue(p.section)}`}, `hint: ${p.section}`));
  if (p.visibility === "teacher") tags.push(el("span", {class: "tag teacher"}, "teacher only"));
  if (p.ephemeral) {
    cls += " ephemeral";
    tags.push(el("span", {class: "tag ephemeral"}, p.sent ? `ephemeral: sent with step ${step + 1} only` : "ephemeral: no longer sent"));
  }
  if (!p.sent) cls += " unsent";
  const node = el(strike && p.visibility !== "both" ? "del" : "div", {class: cls}, tags, longText(p.text));
  if (p.visibility === "hint") node.style.setProperty("--hint", hue(p.section));
  return node;
}

function messageNode(m, opts) {
  opts = opts || {};
  const meta = el("div", {class: "meta"}, el("b", {}, m.role), m.kind,
                  m.index !== undefined ? el("span", {class: "muted"}, `#${m.index}`) : null,
                  m.target ? el("span", {class: "tag target"}, "target tokens") : null);
  const node = el("div", {class: `msg ${m.role}${m.target ? " target" : ""}`}, meta);
  if (m.prefill) {
    meta.append(el("span", {class: "tag prefill", title: "the opening tag put in the model's mouth: context, never a target"}, "prefill"));
    node.append(el("pre", {class: "prefill-text"}, m.prefill));
  }
  m.parts.filter(p => p.sent || !opts.sentOnly).forEach(p => node.append(partNode(p, m.step, opts.strike)));
  return node;
}

// -- pages -----------------------------------------------------------------------------------
function runsPage(root) {
  const rep = INDEX.report;
  root.append(el("h2", {}, "Report"));
  if (!rep.rows.length) { root.append(el("p", {class: "muted"}, "No runs.")); return; }
  const terms = run => Object.entries(rep.terminations[run]).sort().map(([k, v]) => `${k} ${v}`).join(", ");
  root.append(el("div", {class: "muted"}, "success (%) per group: the mean over trials of each trial's rate, ± the " +
    "standard error across trials; tokens, calls and wall time per episode; failed = endpoint or workspace failures"),
    table([...rep.header, "terminations"], rep.rows.map(r => ({cells: [...r, terms(r[0])]}))));
  if (INDEX.curves.length) { root.append(el("h2", {}, "Round over round (avg: mean of the group rates)")); root.append(curve(INDEX.curves)); }
}

function curve(curves) {
  const NS = "http://www.w3.org/2000/svg";
  const W = 560, H = 260, L = 50, B = 30, R = 200, T = 10;
  const rounds = curves.flatMap(c => c.points.map(p => p.round));
  const lo = Math.min(...rounds), hi = Math.max(...rounds);
  const x = r => L + (hi === lo ? 0 : (r - lo) / (hi - lo)) * (W - L - R);
  const y = v => T + (1 - v) * (H - T - B);
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n); return n;
  };
  add("rect", {x: 0, y: 0, width: W, height: H, fill: "#fff"});
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    add("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e5e5e5"});
    add("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end"}, `${v * 100}%`);
  }
  for (let r = lo; r <= hi; r++) add("text", {x: x(r), y: H - 10, "text-anchor": "middle"}, `round ${r}`);
  curves.forEach((c, i) => {
    const color = hue(c.series + "#" + i);
    add("polyline", {points: c.points.map(p => `${x(p.round)},${y(p.mean)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2});
    c.points.forEach(p => {
      add("circle", {cx: x(p.round), cy: y(p.mean), r: 3.5, fill: color});
      if (p.se) add("line", {x1: x(p.round), x2: x(p.round), y1: y(p.mean - p.se), y2: y(p.mean + p.se), stroke: color});
    });
    add("text", {x: W - R + 10, y: T + 14 + 16 * i, fill: color}, c.series);
  });
  return svg;
}

function episodesPage(root, id) {
  root.append(el("h2", {}, `Episodes (${INDEX.episodes.length})`));
  const pane = el("div", {id: "episode-detail"});
  listView(root, INDEX.episodes, ["run", "group", "template", "trial", "success", "termination"],
    [["run", "run"], ["task", "task"], ["group", "group"], ["template", "template"], ["trial", "trial"],
     ["success", "success"], ["termination", "termination"], ["steps", "steps"], ["tokens", "tokens"]],
    r => [r.run, r.task, r.group, r.template, r.trial, verdictCell(r.success), r.termination, r.steps, r.tokens],
    r => showEpisode(pane, r.id), id);
  root.append(pane);
}

async function showEpisode(pane, id) {
  clear(pane).append(el("p", {class: "muted"}, "loading…"));
  const d = await detail("episode", id);
  const box = el("div", {class: "detail"},
    el("h2", {}, `${d.key} · ${d.run}`),
    el("div", {class: "muted"}, `task ${d.task} · group ${d.group} · template ${d.template} · model ${d.model} · ` +
      `prompt ${d.prompt.preset || "-"} (hint set ${d.prompt.hint_set || "none"}, tool docs ${d.prompt.tool_docs})`),
    el("div", {class: "legend"}, el("span", {class: "tag"}, "hint: name"), "droppable hint section ",
       el("span", {class: "tag teacher"}, "teacher only"), el("span", {class: "tag ephemeral"}, "ephemeral reminder")));
  const steps = new Map(d.steps.map(s => [s.index, s]));
  const jump = el("div", {class: "controls"}, "jump to:");
  box.append(jump);
  let current = null, block = null;
  for (const m of d.messages) {
    if (m.step !== current || block === null) {
      current = m.step;
      const s = steps.get(m.step);
      const title = m.step === null ? "Preamble" :
        `Step ${m.step + 1} · ${s ? s.status : ""}${s && s.format_errors.length ? " · format errors: " + s.format_errors.join("; ") : ""}`;
      block = el("div", {class: "step"}, el("div", {class: "title"}, title));
      const target = block;
      const bad = s && s.status !== "ok" && s.status !== "completed";
      jump.append(el("button", {class: bad ? "bad" : "", onclick: () => target.scrollIntoView()},
                     m.step === null ? "preamble" : `${m.step + 1}${s ? " " + s.status : ""}`));
      box.append(block);
    }
    block.append(messageNode(m));
  }
  const o = d.outcome;
  const outcome = el("div", {class: `outcome ${o.success ? "success" : "failure"}`},
    el("b", {}, o.success ? "Solved" : "Not solved"), ` · termination ${o.termination} · score ${o.score}`,
    el("div", {class: "label"}, "answer"), longText(JSON.stringify(o.answer)),
    o.detail ? [el("div", {class: "label"}, "grading"), longText(o.detail)] : null,
    o.report ? [el("div", {class: "label"}, "report"), longText(o.report)] : null,
    el("div", {class: "muted"}, `tokens in ${d.usage.input_tokens} / out ${d.usage.output_tokens} · ` +
      `${d.usage.calls} calls · ${d.wall_seconds.toFixed(2)} s`));
  jump.append(el("button", {class: o.success ? "ok" : "bad", onclick: () => outcome.scrollIntoView()}, "outcome"));
  box.append(outcome);
  clear(pane).append(box);
  pane.scrollIntoView();
}

function actionCard(title, a, cls) {
  return el("div", {class: `card ${cls || ""}`}, el("h3", {}, title),
    el("div", {class: "label"}, "monologue"), longText(a.monologue),
    el("div", {class: "label"}, "code"), longText(a.code),
    el("div", {class: "label"}, "output"), longText(a.observation || ""));
}

function reviewPage(root, id) {
  root.append(el("h2", {}, `Flagged states (${INDEX.states.length})`));
  if (!INDEX.states.length) { root.append(el("p", {class: "muted"}, "No review, or no step was flagged.")); return; }
  const pane = el("div", {id: "state-detail"});
  listView(root, INDEX.states, ["review", "group", "template"],
    [["review", "review"], ["run", "run"], ["episode", "key"], ["step", "step"], ["filters", "filters"],
     ["corrections kept", "kept"]],
    r => [r.review, r.run, r.key, r.step + 1, r.filters.join(", "), `${r.kept} / ${r.corrections}`],
    r => showState(pane, r.id), id);
  root.append(pane);
}

async function showState(pane, id) {
  const d = await detail("state", id);
  const box = el("div", {class: "detail"}, el("h2", {}, `${d.key}, step ${d.step + 1} · ${d.run}`));
  d.verdicts.forEach(v => box.append(el("div", {class: "card"}, el("h3", {}, `${v.filter} (${v.kind})`),
    el("div", {class: "label"}, "reasoning"), longText(v.reason || "-"),
    el("div", {class: "label"}, "corrective hint"), longText(v.hint || "-"))));
  const cols = el("div", {class: "cols"});
  cols.append(d.original ? actionCard(`original action (${d.original.status})`, d.original)
                         : el("div", {class: "card"}, "original trajectory not found among the inputs"));
  d.corrections.forEach(c => {
    const card = actionCard(`correction #${c.sample} by ${c.teacher}`, c, c.kept ? "kept" : "dropped");
    card.append(el("div", {class: c.kept ? "ok" : "bad"},
      `${c.kept ? "kept" : "dropped"} · verification ${c.verification}` +
      (c.final_score !== null ? ` · final score ${c.final_score}` : "") + (c.reason ? ` · ${c.reason}` : "")));
    if (c.problems.length) card.append(el("div", {class: "muted"}, "problems: " + c.problems.join("; ")));
    cols.append(card);
  });
  if (!d.corrections.length) cols.append(el("div", {class: "card muted"}, "no corrections sampled for this state"));
  box.append(el("h2", {}, "Original and corrected actions"), cols);
  clear(pane).append(box);
  pane.scrollIntoView();
}

function datasetsPage(root, id) {
  if (!INDEX.datasets.length) { root.append(el("p", {class: "muted"}, "No datasets.")); return; }
  for (const ds of INDEX.datasets) {
    const c = ds.composition;
    const cols = ["group", "template", ...c.sources, "states", "train", "val"];
    root.append(el("h2", {}, `Dataset ${ds.name}: composition`),
      table(cols, c.rows.map(r => ({cells: cols.map(k => r[k])}))),
      el("div", {class: "muted"}, `${c.total.examples} examples (${c.total.train} train, ${c.total.val} val) from ${c.total.states} states`));
  }
  root.append(el("h2", {}, `Examples (${INDEX.examples.length})`));
  const pane = el("div", {id: "example-detail"});
  listView(root, INDEX.examples, ["dataset", "split", "group", "source"],
    [["dataset", "dataset"], ["split", "split"], ["example", "example"], ["group", "group"],
     ["template", "template"], ["source", "source"], ["hint sections", "sections"]],
    r => [r.dataset, r.split, r.example.split(":").pop(), r.group, r.template, r.source, r.sections],
    r => showExample(pane, r.id), id);
  root.append(pane);
}

async function showExample(pane, id) {
  const d = await detail("example", id);
  const box = el("div", {class: "detail"}, el("h2", {}, d.id),
    el("div", {class: "muted"}, `${d.split || "examples"} · group ${d.group} · template ${d.template} · ` +
      `source ${d.provenance.source}${d.provenance.filter ? " · filter " + d.provenance.filter : ""} · ` +
      `from ${d.provenance.trajectory} step ${d.provenance.step === null ? "-" : d.provenance.step + 1}`),
    el("div", {class: "muted"}, `droppable sections: ${d.sections.join(", ") || "none"}`));
  const teacher = el("div", {class: "card", id: "teacher-view"}, el("h3", {}, "teacher view (what the action was produced from)"));
  const student = el("div", {class: "card", id: "student-view"}, el("h3", {}, "student view (every droppable section dropped, struck through)"));
  d.messages.forEach(m => {
    teacher.append(messageNode(m, {sentOnly: true}));
    student.append(messageNode(m, {sentOnly: true, strike: true}));
  });
  if (d.tokens) {
    box.append(el("div", {class: "card", id: "target-tokens"},
      el("h3", {}, `target tokens (${d.tokens.length}, tokenizer ${d.tokenizer}): the same on both sides`),
      el("pre", {}, d.tokens.map(t => el("span", {class: "tok"}, t)))));
  }
  if (d.tokens_error) box.append(el("div", {class: "card bad"}, d.tokens_error));
  box.append(el("div", {class: "cols"}, teacher, student));
  clear(pane).append(box);
  pane.scrollIntoView();
}

// -- shell -----------------------------------------------------------------------------------
const PAGES = {Runs: runsPage, Episodes: episodesPage, Review: reviewPage, Datasets: datasetsPage};
const main = document.getElementById("main");
const nav = document.getElementById("nav");
let current = null;
function show(name, id) {
  current = name;
  [...nav.children].forEach(b => b.classList.toggle("active", b.textContent === name));
  history.replaceState(null, "", id ? `#${name}/${id}` : `#${name}`);
  clear(main);
  PAGES[name](main, id);
}
Object.keys(PAGES).forEach(name => nav.append(el("button", {onclick: () => show(name), id: `tab-${name}`}, name)));
// The address names a page and an item (``#Episodes/e12``), so a link can point at one episode.
function follow() {
  const [tab, item] = decodeURIComponent(location.hash.slice(1)).split("/");
  if (PAGES[tab]) show(tab, item);
  else show(INDEX.episodes.length || !INDEX.examples.length ? "Runs" : "Datasets");
}
window.addEventListener("hashchange", follow);
follow();
document.body.setAttribute("data-ready", "1");
