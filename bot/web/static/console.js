/*
 * Pasokh agent console: the handoff queue, one ticket with its live transcript and suggested replies, and the
 * managers' analytics with hand-drawn SVG charts.
 *
 * The key is kept in sessionStorage (this tab only) and sent as "Authorization: Bearer". Customer and KB text
 * is only ever inserted with textContent / createTextNode; nothing here parses HTML.
 *
 * Every time is shown in the support team's zone (GET /v1/widget/config), named ("Tehran time"), whatever the
 * agent's computer is set to: a pickup time must read the same to the agent as to the customer.
 */
(() => {
  "use strict";

  const KEY = "pasokh-console-key";
  const NAME = "pasokh-console-agent";
  const SEEN = "pasokh-console-seen"; // ticket id -> id of the last customer message the agent has seen
  const QUEUE_MS = 8000;
  const TICKET_MS = 4000;
  const $ = (id) => document.getElementById(id);

  const session = {
    get key() {
      return sessionStorage.getItem(KEY);
    },
    get agent() {
      return sessionStorage.getItem(NAME) || "";
    },
    save(key, agent) {
      sessionStorage.setItem(KEY, key);
      sessionStorage.setItem(NAME, agent);
    },
    clear() {
      sessionStorage.removeItem(KEY);
    },
    seen(ticketId) {
      return this.allSeen()[ticketId] || 0;
    },
    allSeen() {
      try {
        return JSON.parse(sessionStorage.getItem(SEEN) || "{}") || {};
      } catch {
        return {};
      }
    },
    markSeen(ticketId, messageId) {
      const seen = this.allSeen();
      if ((seen[ticketId] || 0) >= messageId) return;
      seen[ticketId] = messageId;
      sessionStorage.setItem(SEEN, JSON.stringify(seen));
    },
  };

  const view = {
    tickets: [],
    selected: null, // ticket id
    ticket: null,
    role: null, // "agent" | "admin" (known after the first analytics call)
    queueTimer: null,
    ticketTimer: null,
    shown: { ticket: null, ids: new Set() }, // the transcript lines on screen, added to as messages arrive
  };

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (/^on/i.test(name)) throw new Error("event handler attributes are not allowed");
      node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  function safeHref(raw) {
    if (typeof raw !== "string" || !raw.trim()) return null;
    try {
      const url = new URL(raw.trim(), location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/g;
  const LTR_LETTER = /[A-Za-z\u00C0-\u024F]/g;
  function textDir(text) {
    const plain = String(text || "").replace(/https?:\/\/\S+/g, " ");
    const rtl = (plain.match(RTL_LETTER) || []).length;
    const ltr = (plain.match(LTR_LETTER) || []).length;
    if (!rtl && !ltr) return "auto";
    return rtl >= ltr ? "rtl" : "ltr";
  }

  // ------------------------------------------------------------------ time, in the team's zone
  // Until the server says otherwise (or if it cannot be reached) times are UTC, and named so.
  const zone = { timeZone: "UTC", name: "UTC", parts: null };
  const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function useZone(timeZone, name) {
    // The numbers come from Intl in the zone; names are our own, so "Sep" never becomes "Sept" in some locale.
    zone.parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      numberingSystem: "latn",
    });
    zone.timeZone = timeZone;
    zone.name = name || timeZone;
  }
  useZone("UTC", "UTC");

  async function loadZone() {
    try {
      const response = await fetch("/v1/widget/config", { headers: { Accept: "application/json" } });
      const config = response.ok ? await response.json() : null;
      if (config && typeof config.timezone === "string" && config.timezone) {
        const names = config.zone_name || {};
        useZone(config.timezone, names.en || config.timezone);
      }
    } catch {
      useZone("UTC", "UTC"); // an unknown zone name (RangeError) or no server: say UTC rather than guess
    }
    $("zone-note").textContent = `Times in ${zone.name}`;
    $("zone-note").dataset.timezone = zone.timeZone;
    $("transcript-zone").textContent = `(times in ${zone.name})`;
  }
  const zoneReady = loadZone();

  function inZone(date) {
    const parts = {};
    for (const part of zone.parts.formatToParts(date)) parts[part.type] = part.value;
    const year = Number(parts.year);
    const month = Number(parts.month);
    const day = Number(parts.day);
    const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
    return { year, month, day, weekday, hour: parts.hour, minute: parts.minute };
  }

  /** "Tue 8 Dec 08:00 Tehran time" (the year only when it is not this year; the zone unless named nearby). */
  function formatWhen(value, { named = true } = {}) {
    if (!value) return "—";
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    const t = inZone(date);
    const year = t.year === inZone(new Date()).year ? "" : ` ${t.year}`;
    const text = `${WEEKDAYS[t.weekday]} ${t.day} ${MONTHS[t.month - 1]}${year} ${t.hour}:${t.minute}`;
    return named ? `${text} ${zone.name}` : text;
  }
  function ago(value) {
    const date = new Date(value);
    if (!value || Number.isNaN(date.getTime())) return "";
    const minutes = Math.round((Date.now() - date.getTime()) / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
  }
  const pct = (value) => (typeof value === "number" ? `${Math.round(value * 1000) / 10}%` : "—");
  const REASONS = {
    low_confidence: "Low confidence",
    requested: "Asked for a person",
    angry: "Angry customer",
    repeated_failure: "Answers did not help",
  };
  const LANGS = { fa: "Persian", en: "English" };

  // ------------------------------------------------------------------ conversation states
  // A ticket's status says where its conversation is (docs/chat.md, "Conversation states"); a reply claims an
  // open ticket, so "claimed" is also "an agent has answered".
  const STATES = {
    waiting: "Waiting for a person",
    agent: "With an agent",
    closed: "Closed",
    bot: "Back with the bot",
  };
  function ticketState(ticket) {
    if (ticket.status === "open") return ticket.first_reply_at ? "agent" : "waiting";
    if (ticket.status === "claimed") return "agent";
    if (ticket.status === "resolved") return "closed";
    return "bot";
  }
  function stateNote(ticket) {
    switch (ticketState(ticket)) {
      case "waiting":
        return "The customer is waiting for a person. Meanwhile the bot answers what it is sure of and adds everything else to this ticket.";
      case "agent":
        return `${ticket.agent ? `${ticket.agent} has` : "An agent has"} this conversation. The bot stays silent: the customer's messages come here.`;
      case "closed":
        return "Resolved. The customer's next message goes to the bot.";
      default:
        return "Given back to the bot: it answers the customer again.";
    }
  }

  function langTag(lang, attrs = {}) {
    const code = lang || "";
    return el("span", { class: "lang", "data-lang": code, title: LANGS[code] || code, ...attrs }, code.toUpperCase() || "—");
  }

  /** Customer messages written after the handoff and before the ticket was closed: those are for the agent. */
  function forAgent(ticket) {
    const start = Date.parse(ticket.created_at);
    const endValue = ticket.resolved_at || ticket.released_at;
    const end = endValue ? Date.parse(endValue) : Infinity;
    return (ticket.transcript || []).filter((msg) => {
      if (msg.role !== "customer") return false;
      const at = Date.parse(msg.created_at);
      return at > start && at <= end;
    });
  }
  function unseen(ticket) {
    const seen = session.seen(ticket.id);
    return forAgent(ticket).filter((msg) => msg.id > seen);
  }
  function phaseOf(ticket, msg) {
    const at = Date.parse(msg.created_at);
    const claimed = ticket.claimed_at ? Date.parse(ticket.claimed_at) : Infinity;
    const replied = ticket.first_reply_at ? Date.parse(ticket.first_reply_at) : Infinity;
    return at > Math.min(claimed, replied) ? "agent" : "waiting";
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.detail) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${session.key || ""}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (response.status === 401) {
      signOut("Your key was not accepted. Sign in again.");
      throw new ApiError(401, payload);
    }
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }

  function showError(node, error) {
    if (!error) {
      node.hidden = true;
      node.textContent = "";
      return;
    }
    node.textContent = error instanceof ApiError ? `${error.message} (${error.status})` : "The server could not be reached.";
    node.hidden = false;
  }

  // ------------------------------------------------------------------ sign in / out
  async function signIn(event) {
    event.preventDefault();
    const agent = $("agent-name").value.trim();
    const key = $("agent-key").value;
    if (!agent || !key) return;
    session.save(key, agent);
    try {
      await api("/v1/handoffs?limit=1");
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError($("login-error"), error);
      return;
    }
    $("agent-key").value = "";
    start();
  }

  function signOut(message) {
    session.clear();
    clearInterval(view.queueTimer);
    clearInterval(view.ticketTimer);
    view.queueTimer = view.ticketTimer = null;
    view.selected = view.ticket = null;
    view.shown = { ticket: null, ids: new Set() };
    $("app").hidden = true;
    $("who").hidden = true;
    $("login").hidden = false;
    showError($("login-error"), null);
    if (typeof message === "string") {
      $("login-error").textContent = message;
      $("login-error").hidden = false;
    }
    $("agent-name").value = session.agent;
    $("agent-key").focus();
  }

  async function start() {
    await zoneReady;
    $("login").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = session.agent;
    $("who-role").textContent = "";
    loadQueue();
    view.queueTimer = setInterval(() => document.hidden || loadQueue(), QUEUE_MS);
    view.ticketTimer = setInterval(() => document.hidden || !view.selected || loadTicket(view.selected, { quiet: true }), TICKET_MS);
  }

  // ------------------------------------------------------------------ queue
  async function loadQueue() {
    const params = new URLSearchParams({ status: $("filter-status").value, limit: "100" });
    if ($("filter-priority").value) params.set("priority", $("filter-priority").value);
    if ($("filter-lang").value) params.set("lang", $("filter-lang").value);
    try {
      const payload = await api(`/v1/handoffs?${params}`);
      view.tickets = Array.isArray(payload) ? payload : payload.tickets || [];
      showError($("queue-error"), null);
    } catch (error) {
      if (error.status !== 401) showError($("queue-error"), error);
      return;
    }
    renderQueue();
  }

  function renderQueue() {
    const list = $("tickets");
    // Keep the keyboard where it was: the list is drawn again on every poll.
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".ticket-item") : null;
    const refocus = focused && list.contains(focused) ? focused.dataset.ticket : null;
    list.textContent = "";
    $("queue-count").textContent = `(${view.tickets.length})`;
    $("queue-empty").hidden = view.tickets.length > 0;
    for (const ticket of view.tickets) {
      const state = ticketState(ticket);
      const fresh = ticket.id === view.selected ? [] : unseen(ticket);
      const latest = forAgent(ticket).at(-1);
      const button = el(
        "button",
        {
          type: "button",
          class: "ticket-item",
          "data-ticket": ticket.id,
          "data-state": state,
          "aria-current": ticket.id === view.selected ? "true" : null,
        },
        el(
          "span",
          { class: "ticket-line" },
          el("span", { class: `prio prio-${ticket.priority}` }, ticket.priority === "high" ? "High" : "Normal"),
          el("span", { class: `state state-${state}`, "data-state": state, "data-status": ticket.status }, STATES[state]),
          langTag(ticket.lang),
          el("span", { class: "muted small", title: formatWhen(ticket.created_at) }, ago(ticket.created_at)),
          fresh.length ? el("span", { class: "new-count", "data-new": String(fresh.length) }, `${fresh.length} new`) : null,
        ),
        el("span", { class: "question", dir: textDir(ticket.question) }, ticket.question || ""),
        latest && latest.text !== ticket.question
          ? el("span", { class: "latest small" }, "Latest: ", el("bdi", { dir: textDir(latest.text) }, latest.text))
          : null,
        el("span", { class: "muted small" }, `${REASONS[ticket.reason] || ticket.reason}${ticket.agent ? ` · ${ticket.agent}` : ""}`),
      );
      button.addEventListener("click", () => selectTicket(ticket.id));
      list.append(el("li", {}, button));
      if (ticket.id === refocus) button.focus();
    }
  }

  // ------------------------------------------------------------------ one ticket
  async function selectTicket(id) {
    view.selected = id;
    $("drafts").textContent = "";
    $("suggest-status").textContent = "";
    $("reply-text").value = "";
    showError($("ticket-error"), null);
    for (const item of document.querySelectorAll(".ticket-item")) {
      if (item.dataset.ticket === id) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    }
    await loadTicket(id);
    renderQueue(); // its "new" count is seen now
    $("ticket-title").focus();
  }

  async function loadTicket(id, { quiet = false } = {}) {
    try {
      const ticket = await api(`/v1/handoffs/${encodeURIComponent(id)}`);
      if (id !== view.selected) return;
      const before = view.ticket && view.ticket.id === id ? ticketState(view.ticket) : null;
      view.ticket = ticket;
      renderTicket(ticket);
      // The queue's copy may be up to a poll behind: bring the open ticket's entry up to date at once.
      if (before !== null && before !== ticketState(ticket)) loadQueue();
    } catch (error) {
      if (!quiet) showError($("ticket-error"), error);
    }
  }

  function fact(name, value, attrs = {}) {
    return [el("dt", {}, name), el("dd", attrs, value)];
  }

  function renderTicket(ticket) {
    $("ticket-none").hidden = true;
    $("ticket-body").hidden = false;
    const title = $("ticket-title");
    title.textContent = `Ticket ${ticket.id}`;
    title.setAttribute("tabindex", "-1");
    const state = ticketState(ticket);
    const pill = $("ticket-status");
    pill.textContent = STATES[state];
    pill.className = `state state-${state}`;
    pill.dataset.state = state;
    pill.dataset.status = ticket.status;
    const lang = $("ticket-lang");
    lang.textContent = (ticket.lang || "—").toUpperCase();
    lang.title = LANGS[ticket.lang] || ticket.lang || "";
    lang.dataset.lang = ticket.lang || "";
    $("ticket-state-note").textContent = stateNote(ticket);
    $("ticket-state-note").dataset.state = state;

    const sentiment = ticket.sentiment || {};
    const score = typeof sentiment.score === "number" ? sentiment.score : null;
    const meter = el("span", { class: "sentiment" }, `${sentiment.label || "unknown"}`);
    if (score !== null) {
      meter.append(
        " ",
        el("meter", { min: "0", max: "1", low: "0.3", high: "0.5", optimum: "0", value: String(score), "aria-label": "Anger score" }),
        ` anger ${score.toFixed(2)}`,
      );
    }
    const customer = ticket.customer || {};
    const facts = $("ticket-facts");
    facts.textContent = "";
    facts.append(
      ...fact("Reason", REASONS[ticket.reason] || ticket.reason, { "data-fact": "reason" }),
      ...fact("Priority", ticket.priority),
      ...fact("Sentiment", meter, { "data-fact": "sentiment" }),
      ...fact("Language", ticket.lang ? `${LANGS[ticket.lang] || ticket.lang} (${ticket.lang.toUpperCase()})` : "—", { "data-fact": "language" }),
      ...fact("Customer", [customer.name, customer.id, customer.channel].filter(Boolean).join(" · ") || "—", { dir: "auto" }),
      ...fact("Agent", ticket.agent || "—", { "data-fact": "agent" }),
      ...fact("Created", formatWhen(ticket.created_at), { "data-fact": "created" }),
      ...fact("Expected pickup", formatWhen(ticket.expected_at), { "data-fact": "expected" }),
      ...fact("Claimed", formatWhen(ticket.claimed_at), { "data-fact": "claimed" }),
      ...fact("First reply", formatWhen(ticket.first_reply_at), { "data-fact": "first-reply" }),
      ...fact(ticket.status === "released" ? "Back to bot" : "Resolved", formatWhen(ticket.released_at || ticket.resolved_at), { "data-fact": "closed" }),
    );

    const closed = ticket.status === "resolved" || ticket.status === "released";
    const mine = ticket.agent && ticket.agent === session.agent;
    $("claim").disabled = closed || (ticket.status === "claimed" && mine);
    $("resolve").disabled = closed;
    $("release").disabled = closed;
    $("send-reply").disabled = closed;
    $("suggest").disabled = closed;
    renderTranscript(ticket);
  }

  function transcriptLine(ticket, msg, { arrived, toAgent }) {
    const customer = ticket.customer || {};
    const who =
      msg.role === "customer" ? customer.name || "Customer" : msg.role === "agent" ? `Agent${msg.agent ? ` · ${msg.agent}` : ""}` : "Bot";
    const phase = toAgent.has(msg.id) ? phaseOf(ticket, msg) : null;
    const item = el(
      "li",
      { class: `line line-${msg.role}${arrived ? " line-new" : ""}`, "data-role": msg.role, "data-id": String(msg.id), "data-phase": phase },
      el(
        "span",
        { class: "line-head" },
        el("strong", {}, who),
        " ",
        el("time", { datetime: msg.created_at || "" }, formatWhen(msg.created_at, { named: false })),
        phase ? el("span", { class: "tag" }, phase === "agent" ? "while with an agent" : "while waiting") : null,
        arrived ? el("span", { class: "tag tag-new" }, "New") : null,
      ),
      el("p", { class: "line-text", dir: textDir(msg.text) }, msg.text || ""),
    );
    if (msg.handoff_reason) item.append(el("span", { class: "tag" }, `handoff: ${REASONS[msg.handoff_reason] || msg.handoff_reason}`));
    return item;
  }

  /** Show the transcript, adding only the messages not on screen yet (the log announces just those). */
  function renderTranscript(ticket) {
    const box = $("transcript");
    const list = $("transcript-lines");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    const messages = ticket.transcript || [];
    const ids = new Set(messages.map((m) => m.id));
    const same = view.shown.ticket === ticket.id && [...view.shown.ids].every((id) => ids.has(id));
    if (!same) {
      box.setAttribute("aria-busy", "true"); // a whole new transcript is not news to announce line by line
      list.textContent = "";
      view.shown = { ticket: ticket.id, ids: new Set() };
    }
    const toAgent = forAgent(ticket);
    const toAgentIds = new Set(toAgent.map((m) => m.id));
    for (const msg of messages) {
      if (view.shown.ids.has(msg.id)) continue;
      list.append(transcriptLine(ticket, msg, { arrived: same && msg.role === "customer", toAgent: toAgentIds }));
      view.shown.ids.add(msg.id);
    }
    if (!same) {
      box.removeAttribute("aria-busy");
      box.scrollTop = box.scrollHeight;
    } else if (atBottom) {
      box.scrollTop = box.scrollHeight;
    }
    const last = toAgent.at(-1);
    if (last && !document.hidden) session.markSeen(ticket.id, last.id);
  }

  async function ticketAction(action) {
    if (!view.selected) return;
    const body = action === "claim" ? { agent: session.agent } : undefined;
    try {
      const ticket = await api(`/v1/handoffs/${encodeURIComponent(view.selected)}/${action}`, { method: "POST", body });
      showError($("ticket-error"), null);
      view.ticket = ticket;
      renderTicket(ticket);
      loadQueue();
    } catch (error) {
      showError($("ticket-error"), error);
    }
  }

  async function suggest() {
    if (!view.selected) return;
    const drafts = $("drafts");
    drafts.textContent = "";
    $("suggest-status").textContent = "Drafting…";
    let payload;
    try {
      payload = await api("/v1/suggest", { method: "POST", body: { ticket_id: view.selected } });
    } catch (error) {
      $("suggest-status").textContent = "";
      showError($("ticket-error"), error);
      return;
    }
    const list = payload.drafts || [];
    $("suggest-status").textContent = list.length ? `${list.length} suggestion${list.length > 1 ? "s" : ""}` : "No suggestion.";
    list.forEach((draft, index) => {
      const insert = el("button", { type: "button", class: "secondary", "data-draft": String(index) }, "Insert");
      insert.addEventListener("click", () => {
        const box = $("reply-text");
        box.value = box.value.trim() ? `${box.value.trim()}\n\n${draft.text}` : draft.text;
        box.focus();
      });
      const cites = el("ul", { class: "cites" });
      for (const cite of draft.citations || []) {
        const href = safeHref(cite.url);
        const name = `${cite.title}${cite.section && cite.section !== cite.title ? ` › ${cite.section}` : ""}`;
        cites.append(el("li", { dir: "auto" }, href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, name) : name));
      }
      drafts.append(
        el(
          "li",
          { class: "draft" },
          el("span", { class: "tag" }, draft.kind === "saved" ? "saved reply" : "from the KB"),
          el("p", { class: "draft-text", dir: textDir(draft.text) }, draft.text || ""),
          cites,
          insert,
        ),
      );
    });
  }

  async function sendReply(event) {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text || !view.selected) return;
    $("send-reply").disabled = true;
    try {
      const ticket = await api(`/v1/handoffs/${encodeURIComponent(view.selected)}/reply`, {
        method: "POST",
        body: { text, agent: session.agent },
      });
      $("reply-text").value = "";
      $("drafts").textContent = "";
      $("suggest-status").textContent = "Sent.";
      showError($("ticket-error"), null);
      view.ticket = ticket;
      renderTicket(ticket);
      $("transcript").scrollTop = $("transcript").scrollHeight;
      loadQueue();
    } catch (error) {
      showError($("ticket-error"), error);
    } finally {
      $("send-reply").disabled = view.ticket && ["resolved", "released"].includes(view.ticket.status);
    }
  }

  // ------------------------------------------------------------------ tabs
  function selectTab(name) {
    for (const tab of ["queue", "analytics"]) {
      const on = tab === name;
      $(`tab-${tab}`).setAttribute("aria-selected", String(on));
      $(`tab-${tab}`).tabIndex = on ? 0 : -1;
      $(`panel-${tab}`).hidden = !on;
    }
    if (name === "analytics") loadAnalytics();
  }

  function tabKeys(event) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    const next = event.key === "Home" ? "queue" : event.key === "End" ? "analytics" : event.target.id === "tab-queue" ? "analytics" : "queue";
    selectTab(next);
    $(`tab-${next}`).focus();
  }

  // ------------------------------------------------------------------ analytics
  async function loadAnalytics(event) {
    if (event) event.preventDefault();
    const params = new URLSearchParams();
    if ($("range-from").value) params.set("from", $("range-from").value);
    if ($("range-to").value) params.set("to", $("range-to").value);
    let data;
    try {
      data = await api(`/v1/analytics${params.toString() ? `?${params}` : ""}`);
    } catch (error) {
      $("analytics").hidden = true;
      if (error.status === 403) {
        $("analytics-error").textContent =
          error.body && error.body.error === "not_configured"
            ? `Analytics are not available: ${error.body.detail}`
            : "Analytics need the admin key (PASOKH_ADMIN_KEY). Sign in with it to see them.";
        $("analytics-error").hidden = false;
        $("who-role").textContent = "(agent)";
      } else if (error.status !== 401) {
        showError($("analytics-error"), error);
      }
      return;
    }
    showError($("analytics-error"), null);
    $("who-role").textContent = "(admin)";
    $("analytics").hidden = false;
    renderKpis(data);
    chart($("chart-deflection"), (box, width) =>
      drawBars(box, width, deflectionBars(data), { label: "Conversations deflected: confirmed versus assumed" }),
    );
    chart($("chart-reasons"), (box, width) => drawBars(box, width, reasonBars(data), { label: "Handoffs by reason", horizontal: true }));
    chart($("chart-csat"), (box, width) => drawLine(box, width, (data.csat && data.csat.by_day) || []));
    renderGaps(data.gaps || []);
  }

  function renderKpis(data) {
    const csat = data.csat || {};
    const handoffs = data.handoffs || {};
    const median = data.median_first_reply_seconds;
    const items = [
      ["Conversations", String(data.conversations ?? 0)],
      ["Answered", pct(data.answered_rate), `${data.answered ?? 0} of ${data.questions ?? 0} questions`],
      ["Handoff rate", pct(handoffs.rate), `${handoffs.total ?? 0} tickets`],
      ["CSAT", typeof csat.average === "number" ? csat.average.toFixed(2) : "—", `${csat.responses ?? 0} responses`],
      ["First human reply", typeof median === "number" ? `${Math.round(median / 60)} min` : "—", "median"],
      ["Anger", pct(data.anger_rate), "of customer messages"],
    ];
    const box = $("kpis");
    box.textContent = "";
    for (const [name, value, note] of items) {
      box.append(el("div", { class: "kpi card" }, el("span", { class: "kpi-name" }, name), el("strong", { class: "kpi-value" }, value), note ? el("span", { class: "muted small" }, note) : null));
    }
  }

  function deflectionBars(data) {
    const d = data.deflection || {};
    const handoffs = (data.handoffs && data.handoffs.total) || 0;
    return [
      { label: "Confirmed", value: d.confirmed || 0, note: pct(d.confirmed_rate), cls: "c-good" },
      { label: "Assumed", value: d.assumed || 0, note: pct(d.assumed_rate), cls: "c-soft" },
      { label: "Handed off", value: handoffs, note: pct(data.handoffs && data.handoffs.rate), cls: "c-warn" },
    ];
  }

  function reasonBars(data) {
    const byReason = (data.handoffs && data.handoffs.by_reason) || {};
    return Object.keys(REASONS).map((key) => ({ label: REASONS[key], value: byReason[key] || 0, cls: `c-${key}` }));
  }

  // SVG drawing: everything through createElementNS, labels through textContent.
  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // Charts are drawn at the width they are shown (one SVG unit = one CSS pixel), so labels keep their font
  // size on any screen instead of shrinking with the picture; they are drawn again when their box resizes.
  const MIN_CHART_WIDTH = 300;
  const drawers = new Map();
  const resized = typeof ResizeObserver === "function"
    ? new ResizeObserver((entries) => {
        for (const entry of entries) {
          const drawer = drawers.get(entry.target);
          const width = Math.floor(entry.contentRect.width);
          if (drawer && width > 0 && width !== drawer.width) {
            drawer.width = width;
            drawer.draw(entry.target, Math.max(MIN_CHART_WIDTH, width));
          }
        }
      })
    : null;
  function chart(box, draw) {
    const width = Math.floor(box.getBoundingClientRect().width) || 460;
    drawers.set(box, { draw, width });
    draw(box, Math.max(MIN_CHART_WIDTH, width));
    if (resized) resized.observe(box);
  }

  function chartSvg(width, height, label) {
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label, class: "svg-chart" });
    svg.append(s("title", {}, label));
    return svg;
  }

  function drawBars(box, width, bars, { label, horizontal = false }) {
    box.textContent = "";
    const max = Math.max(1, ...bars.map((b) => b.value));
    const summary = `${label}: ${bars.map((b) => `${b.label} ${b.value}`).join(", ")}`;
    if (horizontal) {
      const rowH = 34;
      const labelW = 170;
      const svg = chartSvg(width, bars.length * rowH + 10, summary);
      bars.forEach((bar, i) => {
        const y = 5 + i * rowH;
        const w = ((width - labelW - 50) * bar.value) / max;
        svg.append(
          s("text", { x: labelW - 8, y: y + rowH / 2 + 5, "text-anchor": "end", class: "axis" }, bar.label),
          s("rect", { x: labelW, y: y + 6, width: Math.max(w, 1), height: rowH - 12, rx: 4, class: `bar ${bar.cls}` }),
          s("text", { x: labelW + Math.max(w, 1) + 6, y: y + rowH / 2 + 5, class: "value" }, bar.value),
        );
      });
      box.append(svg);
      return;
    }
    const height = 230;
    const base = height - 40;
    const slot = (width - 40) / bars.length;
    const svg = chartSvg(width, height, summary);
    svg.append(s("line", { x1: 20, x2: width - 20, y1: base, y2: base, class: "grid" }));
    bars.forEach((bar, i) => {
      const h = ((base - 30) * bar.value) / max;
      const x = 20 + i * slot + slot * 0.2;
      const w = slot * 0.6;
      svg.append(
        s("rect", { x, y: base - h, width: w, height: Math.max(h, 1), rx: 4, class: `bar ${bar.cls}` }),
        s("text", { x: x + w / 2, y: base - h - 8, "text-anchor": "middle", class: "value" }, `${bar.value}${bar.note ? ` (${bar.note})` : ""}`),
        s("text", { x: x + w / 2, y: base + 20, "text-anchor": "middle", class: "axis" }, bar.label),
      );
    });
    box.append(svg);
  }

  function drawLine(box, width, days) {
    box.textContent = "";
    if (!days.length) {
      box.append(el("p", { class: "muted" }, "No CSAT responses in this period."));
      return;
    }
    const height = 240;
    const left = 40;
    const right = 20;
    const top = 16;
    const bottom = 40;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const y = (v) => top + plotH - ((v - 1) / 4) * plotH;
    const x = (i) => left + (days.length === 1 ? plotW / 2 : (plotW * i) / (days.length - 1));
    const summary = `CSAT average by day: ${days.map((d) => `${d.date} ${Number(d.average).toFixed(2)}`).join(", ")}`;
    const svg = chartSvg(width, height, summary);
    for (let v = 1; v <= 5; v += 1) {
      svg.append(s("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }), s("text", { x: left - 8, y: y(v) + 4, "text-anchor": "end", class: "axis" }, v));
    }
    const points = days.map((d, i) => `${x(i)},${y(Number(d.average) || 1)}`).join(" ");
    svg.append(s("polyline", { points, class: "line" }));
    const every = Math.max(1, Math.ceil(days.length / Math.max(2, Math.floor(plotW / 70))));
    days.forEach((d, i) => {
      const dot = s("circle", { cx: x(i), cy: y(Number(d.average) || 1), r: 4.5, class: "dot" });
      dot.append(s("title", {}, `${d.date}: ${Number(d.average).toFixed(2)} from ${d.responses} responses`));
      svg.append(dot);
      if (i % every === 0 || i === days.length - 1) svg.append(s("text", { x: x(i), y: height - 14, "text-anchor": "middle", class: "axis" }, String(d.date).slice(5)));
    });
    box.append(svg);
  }

  function renderGaps(gaps) {
    const body = $("gaps").querySelector("tbody");
    body.textContent = "";
    if (!gaps.length) {
      body.append(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "No unanswered questions in this period.")));
      return;
    }
    // Each example keeps its own direction, and its bullet sits on its own start side inside the cell
    // (console.css: .examples li); every cell is isolated, so Persian text never runs into the next column.
    for (const gap of gaps) {
      const examples = el("ul", { class: "examples" });
      for (const example of (gap.examples || []).slice(0, 3)) examples.append(el("li", { dir: textDir(example) }, example));
      const langs = Object.entries(gap.langs || {}).map(([k, v]) => `${LANGS[k] || k} ${v}`).join(", ");
      const article = gap.nearest_article;
      const nearest = article
        ? [el("bdi", { dir: textDir(article.title) }, article.title || article.article_id || ""), " ", el("span", { class: "muted small" }, `(${Number(article.score).toFixed(2)})`)]
        : ["—"];
      body.append(
        el(
          "tr",
          {},
          el("td", { class: "num" }, String(gap.size)),
          el("td", { class: "gap-examples" }, examples),
          el("td", { class: "gap-langs", dir: "ltr" }, langs),
          el("td", { class: "gap-article" }, ...nearest),
          el("td", { class: "gap-when" }, formatWhen(gap.last_seen)),
        ),
      );
    }
  }

  // ------------------------------------------------------------------ wiring
  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", () => signOut());
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      loadQueue();
    });
    for (const id of ["filter-status", "filter-priority", "filter-lang"]) $(id).addEventListener("change", loadQueue);
    $("claim").addEventListener("click", () => ticketAction("claim"));
    $("resolve").addEventListener("click", () => ticketAction("resolve"));
    $("release").addEventListener("click", () => ticketAction("release"));
    $("suggest").addEventListener("click", suggest);
    $("reply-form").addEventListener("submit", sendReply);
    $("reply-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
    });
    $("tab-queue").addEventListener("click", () => selectTab("queue"));
    $("tab-analytics").addEventListener("click", () => selectTab("analytics"));
    $("tab-queue").addEventListener("keydown", tabKeys);
    $("tab-analytics").addEventListener("keydown", tabKeys);
    $("range").addEventListener("submit", loadAnalytics);
    $("agent-name").value = session.agent;
    if (session.key) start();
    else $("agent-name").focus();
  });
})();
