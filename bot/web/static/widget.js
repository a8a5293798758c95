/*
 * Pasokh chat widget. A website adds it with one tag:
 *
 *   <script src="https://your-pasokh-server/widget.js" data-site-key="..." data-lang="fa|en"
 *           data-position="right|left" data-color="#0f766e" data-greeting="..." async></script>
 *
 * It talks only to the server it was loaded from and lives in a shadow root, so the host page's styles
 * cannot break it and its styles cannot leak out.
 *
 * Safety rule for this file: text from customers, agents and the knowledge base is only ever put into the
 * page with textContent / createTextNode; links are built with createElement("a") and only http(s) or
 * same-site relative addresses are accepted. Nothing here parses HTML.
 */
(() => {
  "use strict";

  const script =
    document.currentScript || document.querySelector('script[src*="widget.js"][data-site-key]');
  if (!script || window.Pasokh) return; // one widget per page

  // ---------------------------------------------------------------- configuration
  const data = script.dataset;
  const pageLang = (document.documentElement.lang || "").toLowerCase();
  const lang = data.lang === "en" || data.lang === "fa" ? data.lang : pageLang.startsWith("en") ? "en" : "fa";
  const cfg = {
    base: new URL(".", script.src || location.href),
    siteKey: (data.siteKey || "default").slice(0, 200),
    lang,
    dir: lang === "fa" ? "rtl" : "ltr",
    position: data.position === "left" ? "left" : "right",
    color: /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(data.color || "") ? data.color : "#0f766e",
    greeting: data.greeting || null,
    title: data.title || null,
    pollMs: 4000,
    maxChars: 4000,
  };

  const STRINGS = {
    fa: {
      open: "گفتگو با پشتیبانی",
      close: "بستن گفتگو",
      title: "پشتیبانی",
      subtitle: "معمولاً در چند ثانیه پاسخ می‌دهیم",
      greeting: "سلام! سؤالتان را بپرسید.",
      inputLabel: "پیام شما",
      placeholder: "پیام خود را بنویسید…",
      send: "ارسال",
      you: "شما",
      bot: "دستیار",
      agent: "همکار پشتیبانی",
      log: "گفتگو",
      typing: "دستیار در حال نوشتن است…",
      source: "منبع:",
      sources: "منابع",
      related: "مطالب مرتبط",
      helpful: "مفید بود",
      notHelpful: "مفید نبود",
      feedbackThanks: "از بازخورد شما ممنونیم.",
      handoff: "یکی از همکاران ما به‌زودی همین‌جا پاسخ می‌دهد…",
      expected: "زمان تقریبی پاسخ:",
      reference: "شماره پیگیری:",
      resolved: "این گفتگو توسط همکار پشتیبانی بسته شد.",
      endChat: "پایان گفتگو",
      csatQuestion: "از این گفتگو چقدر راضی بودید؟",
      csatScale: ["خیلی ناراضی", "ناراضی", "معمولی", "راضی", "خیلی راضی"],
      csatThanks: "ممنون! نظر شما ثبت شد.",
      skip: "رد کردن",
      newChat: "شروع گفتگوی تازه",
      errorNetwork: "ارتباط با پشتیبانی برقرار نشد. دوباره تلاش کنید.",
      errorRefused: "پیام ارسال نشد:",
      tooLong: "پیام طولانی‌تر از حد مجاز است.",
      unread: "پیام تازه",
    },
    en: {
      open: "Chat with support",
      close: "Close chat",
      title: "Support",
      subtitle: "We usually reply in a few seconds",
      greeting: "Hi! Ask us anything.",
      inputLabel: "Your message",
      placeholder: "Type your message…",
      send: "Send",
      you: "You",
      bot: "Assistant",
      agent: "Support agent",
      log: "Conversation",
      typing: "The assistant is typing…",
      source: "Source:",
      sources: "Sources",
      related: "Related articles",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      feedbackThanks: "Thanks for your feedback.",
      handoff: "A person will reply here soon…",
      expected: "Expected reply:",
      reference: "Reference:",
      resolved: "A support agent has closed this conversation.",
      endChat: "End chat",
      csatQuestion: "How satisfied are you with this conversation?",
      csatScale: ["Very unsatisfied", "Unsatisfied", "Neutral", "Satisfied", "Very satisfied"],
      csatThanks: "Thank you! Your rating was saved.",
      skip: "Skip",
      newChat: "Start a new conversation",
      errorNetwork: "Could not reach support. Please try again.",
      errorRefused: "Message not sent:",
      tooLong: "The message is too long.",
      unread: "new message",
    },
  };
  const t = STRINGS[cfg.lang];

  // ---------------------------------------------------------------- small helpers
  const FA_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  /** Persian digits for interface text (never applied to customer or KB text). */
  const digits = (value) => (cfg.lang === "fa" ? String(value).replace(/[0-9]/g, (d) => FA_DIGITS[d]) : String(value));

  /** Build an element; attribute values are set as plain strings and event-handler attributes are refused. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (/^on/i.test(name)) throw new Error("event handler attributes are not allowed");
      node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/g;
  const LTR_LETTER = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]/g;
  const URL_RE = /https?:\/\/[^\s<>"'()\u200c\u060C\u061B]+/g;

  /** The direction of a message from the letters it is mostly written in (addresses do not count). */
  function textDir(text) {
    const letters = text.replace(URL_RE, " ");
    const rtl = (letters.match(RTL_LETTER) || []).length;
    const ltr = (letters.match(LTR_LETTER) || []).length;
    if (!rtl && !ltr) return "auto";
    return rtl >= ltr ? "rtl" : "ltr";
  }

  /** A safe href: absolute http(s), or a same-site path ("/help/x"); anything else (javascript:, data:) is null. */
  function safeHref(raw) {
    if (typeof raw !== "string" || !raw.trim()) return null;
    const value = raw.trim();
    if (value.startsWith("/") && !value.startsWith("//")) return new URL(value, location.href).href;
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function link(href, text) {
    return el("a", { href, target: "_blank", rel: "noopener noreferrer", dir: "auto" }, text);
  }

  // Reference-like tokens ("T-rda33oM7-G8zI", "ORD_1234-5") are kept whole and left-to-right inside
  // right-to-left text; otherwise a line may break at a hyphen and the parts read in the wrong order.
  const CODE_RE = /[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+/g;

  function appendPlain(fragment, text) {
    let last = 0;
    for (const match of text.matchAll(CODE_RE)) {
      if (match[0].length > 48 || !/[A-Za-z]/.test(match[0])) continue;
      fragment.append(document.createTextNode(text.slice(last, match.index)));
      fragment.append(el("bdi", { class: "code", dir: "ltr" }, match[0]));
      last = match.index + match[0].length;
    }
    fragment.append(document.createTextNode(text.slice(last)));
  }

  /** Text with its web addresses turned into links, as text nodes and elements only. */
  function richText(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      let address = match[0];
      const trailing = address.match(/[.,;:!?…]+$/);
      if (trailing) address = address.slice(0, -trailing[0].length);
      const href = safeHref(address);
      if (!href) continue;
      appendPlain(fragment, text.slice(last, match.index));
      const anchor = link(href, address);
      anchor.setAttribute("dir", "ltr");
      anchor.classList.add("url");
      fragment.append(anchor);
      last = match.index + address.length;
    }
    appendPlain(fragment, text.slice(last));
    return fragment;
  }

  const timeFormat = new Intl.DateTimeFormat(cfg.lang === "fa" ? "fa-IR" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
  });
  const dateTimeFormat = new Intl.DateTimeFormat(cfg.lang === "fa" ? "fa-IR" : "en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
  });
  function formatTime(value, format = timeFormat) {
    const date = value ? new Date(value) : new Date();
    return Number.isNaN(date.getTime()) ? "" : digits(format.format(date));
  }

  const store = {
    key: `pasokh:${cfg.siteKey}:session`,
    openKey: `pasokh:${cfg.siteKey}:open`,
    get(area, key) {
      try {
        return window[area].getItem(key);
      } catch {
        return null;
      }
    },
    set(area, key, value) {
      try {
        if (value === null) window[area].removeItem(key);
        else window[area].setItem(key, value);
      } catch {
        /* storage may be disabled; the widget still works for this page view */
      }
    },
  };

  /** Thumbs already given in this conversation, so a reload shows them as given (the API has no read-back). */
  const ratings = {
    key: `pasokh:${cfg.siteKey}:rated`,
    load() {
      try {
        const saved = JSON.parse(store.get("localStorage", this.key) || "null");
        return saved && saved.session === state.sessionId && saved.ratings ? saved.ratings : {};
      } catch {
        return {};
      }
    },
    get(id) {
      const value = this.load()[id];
      return value === "up" || value === "down" ? value : null;
    },
    set(id, rating) {
      const saved = { session: state.sessionId, ratings: { ...this.load(), [id]: rating } };
      store.set("localStorage", this.key, JSON.stringify(saved));
    },
  };

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.detail) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json", "X-Pasokh-Site-Key": cfg.siteKey };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(new URL(path, cfg.base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }

  // ---------------------------------------------------------------- state
  const state = {
    sessionId: store.get("localStorage", store.key),
    messages: [], // {id, role, text, node, feedback}
    lastId: 0,
    human: false,
    ticket: null,
    busy: false,
    pollTimer: null,
    unread: 0,
    ended: false,
  };

  // ---------------------------------------------------------------- DOM
  const host = el("div", { id: "pasokh-widget", "data-pasokh": "widget" });
  host.style.display = "none"; // shown once its stylesheet has loaded (no flash of unstyled bubble)
  const shadow = host.attachShadow({ mode: "open" });

  if (!document.querySelector("link[data-pasokh-fonts]")) {
    document.head.append(
      el("link", { rel: "stylesheet", href: new URL("static/fonts.css", cfg.base).href, "data-pasokh-fonts": "" }),
    );
  }
  const sheet = el("link", { rel: "stylesheet", href: new URL("static/widget.css", cfg.base).href });
  const reveal = () => {
    host.style.display = "";
  };
  sheet.addEventListener("load", reveal);
  sheet.addEventListener("error", reveal);

  const root = el("div", { class: "root", dir: cfg.dir, lang: cfg.lang, "data-position": cfg.position });
  root.style.setProperty("--pasokh-accent", cfg.color);
  root.style.setProperty("--pasokh-on-accent", contrastText(cfg.color));

  const badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const bubble = el(
    "button",
    { type: "button", class: "bubble", "aria-label": t.open, "aria-expanded": "false", "aria-controls": "pasokh-panel" },
    chatIcon(),
    badge,
  );

  const title = el("h2", { id: "pasokh-title", class: "title" }, cfg.title || t.title);
  const endButton = el("button", { type: "button", class: "end", "data-action": "end" }, t.endChat);
  const closeButton = el("button", { type: "button", class: "close", "aria-label": t.close, "data-action": "close" }, "×");
  const header = el(
    "header",
    { class: "header" },
    el("div", { class: "heading" }, title, el("p", { class: "subtitle" }, t.subtitle)),
    endButton,
    closeButton,
  );
  const banner = el("div", { class: "banner", role: "status", hidden: true, "data-testid": "handoff-banner" });
  const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.log });
  const typing = el(
    "div",
    { class: "typing", role: "status", hidden: true },
    el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
    el("span", { class: "sr-only" }, t.typing),
  );
  const errorLine = el("p", { class: "error", role: "alert", hidden: true });
  const csat = el("div", { class: "csat", hidden: true });
  const input = el("textarea", {
    id: "pasokh-input",
    class: "input",
    rows: "1",
    dir: "auto",
    placeholder: t.placeholder,
    maxlength: String(cfg.maxChars),
    autocomplete: "off",
  });
  const sendButton = el("button", { type: "submit", class: "send", "aria-label": t.send }, sendIcon());
  const composer = el(
    "form",
    { class: "composer" },
    el("label", { for: "pasokh-input", class: "sr-only" }, t.inputLabel),
    input,
    sendButton,
  );
  const panel = el(
    "section",
    { id: "pasokh-panel", class: "panel", role: "dialog", "aria-labelledby": "pasokh-title", hidden: true },
    header,
    banner,
    log,
    typing,
    errorLine,
    csat,
    composer,
  );
  root.append(panel, bubble);
  shadow.append(sheet, root);

  function svg(pathData) {
    const ns = "http://www.w3.org/2000/svg";
    const icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    icon.append(path);
    return icon;
  }
  function chatIcon() {
    return svg("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  }
  function thumbIcon() {
    return svg("M2 10h4v11H2V10zm6 11h9.2a2 2 0 0 0 2-1.6l1.7-8A2 2 0 0 0 19 9h-5.6l.9-4.3a1.8 1.8 0 0 0-3.2-1.5L8 9.6V21z");
  }
  function sendIcon() {
    const icon = svg("M3 11.5 21 3l-6.5 18-3-7.5L3 11.5z");
    icon.classList.add("send-icon");
    return icon;
  }

  function contrastText(hex) {
    let value = hex.slice(1);
    if (value.length === 3) value = [...value].map((c) => c + c).join("");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(value.slice(i, i + 2), 16) / 255);
    const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.4 ? "#111827" : "#ffffff";
  }

  // ---------------------------------------------------------------- rendering
  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function roleLabel(role) {
    return role === "customer" ? t.you : role === "agent" ? t.agent : t.bot;
  }

  /** Add one message to the log and to state; `msg` is {id?, role, text, created_at?, sources?, related?}. */
  function addMessage(msg, { local = false } = {}) {
    const role = ["customer", "bot", "agent"].includes(msg.role) ? msg.role : "bot";
    const text = typeof msg.text === "string" ? msg.text : "";
    const item = el("li", { class: `msg msg-${role}`, "data-role": role });
    if (msg.id) item.dataset.id = String(msg.id);
    const sources = Array.isArray(msg.sources) ? msg.sources.slice(0, 5) : [];
    // The reply ends with "Source: title (address)" lines; the sources list below shows them as links instead.
    const shown = role === "bot" && sources.length ? withoutSourceLines(text) : text;
    const body = el("div", { class: "text", dir: textDir(shown) });
    body.append(richText(shown));
    const agentName = role === "agent" && typeof msg.agent === "string" ? msg.agent.trim().slice(0, 60) : "";
    item.append(el("span", { class: "who", dir: "auto" }, agentName ? `${roleLabel(role)} · ${agentName}` : roleLabel(role)), body);

    if (role === "bot" && sources.length) {
      const list = el("ul", { class: "sources", "aria-label": t.sources });
      for (const source of sources) {
        const name = String(source.title || source.article_id || "");
        const href = safeHref(source.url);
        list.append(el("li", {}, el("span", { class: "label" }, t.source), " ", href ? link(href, name) : el("span", { dir: "auto" }, name)));
      }
      item.append(list);
    }
    const related = Array.isArray(msg.related) ? msg.related.slice(0, 3) : [];
    if (role === "bot" && related.length) {
      const group = el("div", { class: "related", role: "group", "aria-label": t.related });
      for (const article of related) {
        const name = String(article.title || "");
        if (!name) continue;
        const chip = el("button", { type: "button", class: "chip", dir: "auto" }, name);
        chip.addEventListener("click", () => send(name));
        group.append(chip);
      }
      item.append(group);
    }
    const entry = { id: msg.id || null, role, text, node: item, local };
    if (role === "bot" && !local) item.append(feedbackButtons(entry));
    item.append(el("time", { class: "time", datetime: msg.created_at || new Date().toISOString() }, formatTime(msg.created_at)));
    log.append(item);
    state.messages.push(entry);
    if (msg.id) state.lastId = Math.max(state.lastId, Number(msg.id) || 0);
    // A long answer is shown from its beginning; anything shorter than the log just scrolls into view.
    if (role !== "customer" && item.offsetHeight > log.clientHeight) log.scrollTop = item.offsetTop - 8;
    else scrollToEnd();
    return entry;
  }

  const SOURCE_LINE = /^\s*(?:Source|Sources|منبع|منابع)\s*[:：]/;
  function withoutSourceLines(text) {
    const kept = text.split("\n").filter((line) => !SOURCE_LINE.test(line));
    const result = kept.join("\n").trim();
    return result || text;
  }

  function feedbackButtons(entry) {
    const group = el("div", { class: "feedback", role: "group", "aria-label": `${t.helpful} / ${t.notHelpful}` });
    const up = el("button", { type: "button", class: "thumb", "data-rating": "up", "aria-label": t.helpful, "aria-pressed": "false" }, thumbIcon());
    const down = el("button", { type: "button", class: "thumb", "data-rating": "down", "aria-label": t.notHelpful, "aria-pressed": "false" }, thumbIcon());
    const thanks = el("span", { class: "thanks", role: "status" });
    const earlier = entry.id ? ratings.get(entry.id) : null;
    if (earlier) {
      group.dataset.sent = "1";
      (earlier === "up" ? up : down).setAttribute("aria-pressed", "true");
      up.disabled = true;
      down.disabled = true;
    }
    for (const button of [up, down]) {
      button.addEventListener("click", async () => {
        if (!state.sessionId || group.dataset.sent) return;
        group.dataset.sent = "1";
        button.setAttribute("aria-pressed", "true");
        up.disabled = true;
        down.disabled = true;
        const body = { session_id: state.sessionId, rating: button.dataset.rating };
        if (entry.id) body.message_id = entry.id;
        try {
          await api("v1/feedback", { method: "POST", body });
          thanks.textContent = t.feedbackThanks;
          if (entry.id) ratings.set(entry.id, button.dataset.rating);
        } catch (error) {
          delete group.dataset.sent;
          button.setAttribute("aria-pressed", "false");
          up.disabled = false;
          down.disabled = false;
          showError(error);
        }
      });
    }
    group.append(up, down, thanks);
    return group;
  }

  function showGreeting() {
    addMessage({ role: "bot", text: cfg.greeting || t.greeting }, { local: true }).node.classList.add("greeting");
  }

  function showError(error) {
    errorLine.textContent =
      error instanceof ApiError && error.status < 500 && error.body && error.body.detail
        ? `${t.errorRefused} ${error.body.detail}`
        : t.errorNetwork;
    errorLine.hidden = false;
  }

  function clearError() {
    errorLine.hidden = true;
    errorLine.textContent = "";
  }

  function setTyping(on) {
    typing.hidden = !on;
    if (on) scrollToEnd();
  }

  function setHandoff(human, ticket) {
    state.human = human;
    if (ticket !== undefined) state.ticket = ticket;
    const current = state.ticket;
    if (current && current.status === "resolved") {
      banner.textContent = t.resolved;
      banner.hidden = false;
      banner.dataset.state = "resolved";
    } else if (human) {
      banner.textContent = "";
      banner.append(el("strong", {}, t.handoff));
      if (current && current.expected_at) {
        banner.append(" ", el("span", { class: "eta" }, `${t.expected} ${formatTime(current.expected_at, dateTimeFormat)}`));
      }
      if (current && typeof current.id === "string") {
        banner.append(el("span", { class: "ref" }, `${t.reference} `, el("bdi", { dir: "ltr" }, current.id)));
      }
      banner.hidden = false;
      banner.dataset.state = "human";
    } else {
      banner.hidden = true;
      delete banner.dataset.state;
    }
    schedulePoll();
  }

  function setUnread(count) {
    state.unread = count;
    badge.textContent = count ? digits(count) : "";
    badge.hidden = !count;
    bubble.setAttribute("aria-label", count ? `${t.open} (${digits(count)} ${t.unread})` : t.open);
  }

  // ---------------------------------------------------------------- conversation
  function rememberSession(id) {
    state.sessionId = id;
    store.set("localStorage", store.key, id);
  }

  /** Merge the server's transcript (messages after state.lastId) into the log without duplicates. */
  async function sync({ initial = false } = {}) {
    if (!state.sessionId) return;
    const sessionId = state.sessionId;
    let payload;
    try {
      payload = await api(`v1/conversations/${encodeURIComponent(sessionId)}/messages?after=${state.lastId}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && sessionId === state.sessionId) {
        rememberSession(null); // the server no longer knows this conversation; start afresh
        if (initial && !state.messages.length) showGreeting();
      }
      return;
    }
    if (sessionId !== state.sessionId || !payload) return;
    let fresh = 0;
    for (const msg of Array.isArray(payload.messages) ? payload.messages : []) {
      if (state.messages.some((m) => m.id === msg.id)) continue;
      // The turn just sent is on screen without ids; the server's copy of the same turn gives them (its bot text
      // may differ slightly, e.g. without the ticket reference, so turns are paired by role and order).
      const pending = state.messages.find((m) => !m.id && !m.local && !m.failed && m.role === msg.role);
      if (pending) {
        pending.id = msg.id;
        pending.node.dataset.id = String(msg.id);
        state.lastId = Math.max(state.lastId, Number(msg.id) || 0);
        continue;
      }
      addMessage(msg);
      if (msg.role === "agent") fresh += 1;
    }
    if (fresh && (panel.hidden || document.hidden) && !initial) setUnread(state.unread + fresh);
    setHandoff(payload.state === "human", payload.ticket || null);
  }

  function schedulePoll() {
    const wanted = state.human && state.sessionId && !state.ended;
    if (wanted && !state.pollTimer) {
      state.pollTimer = setInterval(() => {
        if (!state.busy) sync();
      }, cfg.pollMs);
    } else if (!wanted && state.pollTimer) {
      clearInterval(state.pollTimer);
      state.pollTimer = null;
    }
  }

  async function send(raw) {
    const text = String(raw || "").trim();
    if (!text || state.busy) return;
    if (text.length > cfg.maxChars) {
      showError(new ApiError(422, { detail: t.tooLong }));
      return;
    }
    clearError();
    if (state.ended) resetConversation({ keepGreeting: true });
    state.busy = true;
    composer.setAttribute("aria-busy", "true");
    const mine = addMessage({ role: "customer", text });
    setTyping(true);
    try {
      let reply;
      try {
        reply = await api("v1/chat", { method: "POST", body: chatBody(text) });
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404 && state.sessionId)) throw error;
        rememberSession(null); // an expired conversation: continue in a new one
        reply = await api("v1/chat", { method: "POST", body: chatBody(text) });
      }
      rememberSession(reply.session_id);
      addMessage({ role: "bot", text: reply.reply, sources: reply.sources, related: reply.related });
      if (reply.handoff) setHandoff(true);
      await sync();
    } catch (error) {
      mine.failed = true;
      mine.node.classList.add("failed");
      if (!input.value) input.value = text;
      showError(error);
    } finally {
      setTyping(false);
      state.busy = false;
      composer.removeAttribute("aria-busy");
    }
  }

  function chatBody(text) {
    const body = { message: text, channel: "web" };
    if (state.sessionId) body.session_id = state.sessionId;
    return body;
  }

  function resetConversation({ keepGreeting = false } = {}) {
    rememberSession(null);
    state.messages = [];
    state.lastId = 0;
    state.ended = false;
    state.ticket = null;
    log.textContent = "";
    csat.hidden = true;
    csat.textContent = "";
    composer.hidden = false;
    setHandoff(false, null);
    if (keepGreeting || !panel.hidden) showGreeting();
  }

  // ---------------------------------------------------------------- end of chat and CSAT
  function endChat() {
    if (!state.sessionId) {
      close();
      return;
    }
    state.ended = true;
    schedulePoll();
    csat.textContent = "";
    const question = el("p", { id: "pasokh-csat-q", class: "csat-q" }, t.csatQuestion);
    const scale = el("div", { class: "scale", role: "group", "aria-labelledby": "pasokh-csat-q" });
    for (let score = 1; score <= 5; score += 1) {
      const button = el(
        "button",
        { type: "button", class: "score", "data-score": String(score), "aria-label": `${digits(score)} — ${t.csatScale[score - 1]}`, title: t.csatScale[score - 1] },
        digits(score),
      );
      button.addEventListener("click", () => rate(score));
      scale.append(button);
    }
    const skip = el("button", { type: "button", class: "link-button" }, t.skip);
    skip.addEventListener("click", finish);
    csat.append(question, scale, skip);
    csat.hidden = false;
    composer.hidden = true;
    scale.querySelector("button").focus();
  }

  async function rate(score) {
    try {
      await api("v1/feedback", { method: "POST", body: { session_id: state.sessionId, csat: score } });
    } catch (error) {
      showError(error);
      return;
    }
    finish(t.csatThanks);
  }

  function finish(message) {
    csat.textContent = "";
    if (typeof message === "string") csat.append(el("p", { class: "csat-thanks", role: "status" }, message));
    const again = el("button", { type: "button", class: "primary" }, t.newChat);
    again.addEventListener("click", () => {
      resetConversation({ keepGreeting: true });
      input.focus();
    });
    csat.append(again);
    csat.hidden = false;
    rememberSession(null); // the next message starts a new conversation
    again.focus();
  }

  // ---------------------------------------------------------------- open / close
  function open() {
    if (!panel.hidden) return;
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    store.set("sessionStorage", store.openKey, "1");
    if (!state.messages.length && !state.sessionId) showGreeting();
    setUnread(0);
    scrollToEnd();
    (composer.hidden ? csat.querySelector("button") || closeButton : input).focus();
  }

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    store.set("sessionStorage", store.openKey, null);
    bubble.focus();
  }

  bubble.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  endButton.addEventListener("click", endChat);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    input.style.height = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.human) sync();
  });

  // ---------------------------------------------------------------- start
  function start() {
    document.body.append(host);
    if (store.get("sessionStorage", store.openKey)) open();
    if (state.sessionId) sync({ initial: true });
  }

  window.Pasokh = Object.freeze({
    open,
    close,
    /** Forget this page's conversation and start a new one. */
    reset: () => resetConversation({ keepGreeting: !panel.hidden }),
    get sessionId() {
      return state.sessionId;
    },
  });

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
