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
 *
 * The conversation is in one of four states, as the server reports them (`state`): with the bot ("bot"),
 * waiting for a person ("waiting"), with an agent ("agent", the bot is silent) and closed by an agent
 * ("closed"; the next message goes back to the bot). The panel's data-state, the header's subtitle and the
 * banner always say the same one. Times are shown in the business's time zone, named, whatever the
 * visitor's own zone is (both come from GET v1/widget/config, read once at start).
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
    locale: lang === "fa" ? "fa-IR" : "en-GB",
    dir: lang === "fa" ? "rtl" : "ltr",
    position: data.position === "left" ? "left" : "right",
    color: /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(data.color || "") ? data.color : "#0f766e",
    greeting: data.greeting || null,
    title: data.title || null,
    pollMs: 4000,
    // From the server's widget configuration; these defaults hold until it arrives (or if it cannot be read).
    maxChars: 4000,
    timezone: null,
    zoneName: "",
    allowed: true,
    problem: null,
  };

  const STRINGS = {
    fa: {
      open: "گفتگو با پشتیبانی",
      close: "بستن گفتگو",
      title: "پشتیبانی",
      subtitle: {
        bot: "دستیار در چند ثانیه پاسخ می‌دهد",
        waitingSoon: "یکی از همکاران به‌زودی پاسخ می‌دهد",
        waitingAt: (when) => `یکی از همکاران از ${when} پاسخ می‌دهد`,
        agent: (name) => (name ? `${name} از تیم پشتیبانی پاسخگوی شماست` : "یکی از همکاران پشتیبانی پاسخگوی شماست"),
        closed: "این گفتگو بسته شد",
      },
      banner: {
        waitingSoon: "یکی از همکاران ما به‌زودی همین‌جا پاسخ می‌دهد…",
        waitingLater: "یکی از همکاران ما همین‌جا پاسخ می‌دهد.",
        waitingAsap: "یکی از همکاران ما در اولین فرصت همین‌جا پاسخ می‌دهد.",
        meanwhile: "تا آن موقع دستیار هم به سؤال‌هایتان پاسخ می‌دهد.",
        agent: (name) =>
          name ? `${name} از تیم پشتیبانی در گفتگوست و همین‌جا پاسخ می‌دهد.` : "یکی از همکاران پشتیبانی در گفتگوست و همین‌جا پاسخ می‌دهد.",
        closed: "همکار پشتیبانی این گفتگو را بست. هر وقت خواستید دوباره بنویسید؛ دستیار پاسخ می‌دهد.",
      },
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
      expected: "زمان تقریبی پاسخ:",
      reference: "شماره پیگیری:",
      endChat: "پایان گفتگو",
      csatQuestion: "از این گفتگو چقدر راضی بودید؟",
      csatScale: ["خیلی ناراضی", "ناراضی", "معمولی", "راضی", "خیلی راضی"],
      csatEnds: (low, high) => [`${low} = خیلی ناراضی`, `${high} = خیلی راضی`],
      csatThanks: "ممنون! نظر شما ثبت شد.",
      skip: "رد کردن",
      newChat: "شروع گفتگوی تازه",
      sending: "در حال ارسال…",
      sent: "ارسال شد",
      delivered: "به پشتیبانی رسید",
      notSent: "ارسال نشد",
      retry: "تلاش دوباره",
      errorNetwork: "ارتباط با پشتیبانی برقرار نشد. دوباره تلاش کنید.",
      errorBusy: "پیام‌ها خیلی پشت سر هم فرستاده شد. کمی صبر کنید و دوباره تلاش کنید.",
      errorRefused: "پیام فرستاده نشد. لطفاً آن را بررسی کنید و دوباره بفرستید.",
      tooLong: (count, max) =>
        `پیام شما ${count} نویسه دارد؛ حداکثر ${max} نویسه را می‌توان فرستاد. لطفاً کوتاهش کنید (متن شما حفظ شده است).`,
      counter: (count, max) => `${count} از ${max} نویسه`,
      unavailable: "گفتگوی پشتیبانی روی این سایت در دسترس نیست. لطفاً از راه دیگری با فروشگاه تماس بگیرید.",
      unavailableShort: "روی این سایت در دسترس نیست",
      unread: "پیام تازه",
    },
    en: {
      open: "Chat with support",
      close: "Close chat",
      title: "Support",
      subtitle: {
        bot: "The assistant answers in seconds",
        waitingSoon: "A person will reply here soon",
        waitingAt: (when) => `A person will reply from ${when}`,
        agent: (name) => (name ? `${name} from the support team is here` : "A support agent is here"),
        closed: "This conversation was closed",
      },
      banner: {
        waitingSoon: "A person will reply here soon…",
        waitingLater: "A person will reply here.",
        waitingAsap: "A person will reply here as soon as possible.",
        meanwhile: "Meanwhile, the assistant still answers your questions.",
        agent: (name) =>
          name ? `${name} from the support team is here and will reply in this chat.` : "A support agent is here and will reply in this chat.",
        closed: "A support agent closed this conversation. Write again any time; the assistant will answer.",
      },
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
      expected: "Expected reply:",
      reference: "Reference:",
      endChat: "End chat",
      csatQuestion: "How satisfied are you with this conversation?",
      csatScale: ["Very unsatisfied", "Unsatisfied", "Neutral", "Satisfied", "Very satisfied"],
      csatEnds: (low, high) => [`${low} = very unsatisfied`, `${high} = very satisfied`],
      csatThanks: "Thank you! Your rating was saved.",
      skip: "Skip",
      newChat: "Start a new conversation",
      sending: "Sending…",
      sent: "Sent",
      delivered: "Delivered to support",
      notSent: "Not sent",
      retry: "Retry",
      errorNetwork: "Could not reach support. Please try again.",
      errorBusy: "Too many messages at once. Please wait a moment, then retry.",
      errorRefused: "The message could not be sent. Please check it and retry.",
      tooLong: (count, max) =>
        `Your message has ${count} characters; at most ${max} can be sent. Please shorten it (your text is kept).`,
      counter: (count, max) => `${count} of ${max} characters`,
      unavailable: "Chat with support is not available on this website. Please contact the store another way.",
      unavailableShort: "Not available on this website",
      unread: "new message",
    },
  };
  const t = STRINGS[cfg.lang];
  const STATES = ["bot", "waiting", "agent", "closed"];

  // ---------------------------------------------------------------- small helpers
  const FA_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  /** Persian digits for interface text (never applied to customer or KB text). */
  const digits = (value) => (cfg.lang === "fa" ? String(value).replace(/[0-9]/g, (d) => FA_DIGITS[d]) : String(value));
  const numberFormat = new Intl.NumberFormat(cfg.locale);

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
  const CODE_RE = /[A-Za-z0-9]+(?:[-_]+[A-Za-z0-9]+)+[-_]*/g;

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

  /** An address as link text, with line-break opportunities after its slashes (it wraps there, not mid-word). */
  function addressText(address) {
    const fragment = document.createDocumentFragment();
    const parts = address.split(/(?<=[^/]\/|[?&])(?=[^/])/);
    parts.forEach((part, index) => {
      if (index) fragment.append(document.createElement("wbr"));
      fragment.append(document.createTextNode(part));
    });
    return fragment;
  }

  /**
   * Text with its web addresses turned into links, as text nodes and elements only.
   *
   * Each address is one left-to-right box (an isolated inline-block): right-to-left text around it cannot
   * reorder its parts, and when it wraps it wraps inside its own box, read left to right. An address in
   * brackets takes its brackets into the box, so they cannot come out reversed or on another line.
   */
  function richText(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      let address = match[0];
      const trailing = address.match(/[.,;:!?…]+$/);
      if (trailing) address = address.slice(0, -trailing[0].length);
      const href = safeHref(address);
      if (!href || match.index < last) continue;
      const end = match.index + address.length;
      const bracketed = match.index > last && text[match.index - 1] === "(" && text[end] === ")";
      appendPlain(fragment, text.slice(last, bracketed ? match.index - 1 : match.index));
      const anchor = link(href, addressText(address));
      anchor.setAttribute("dir", "ltr");
      anchor.classList.add("url");
      fragment.append(bracketed ? el("bdi", { class: "url-group", dir: "ltr" }, "(", anchor, ")") : anchor);
      last = bracketed ? end + 1 : end;
    }
    appendPlain(fragment, text.slice(last));
    return fragment;
  }

  // ---------------------------------------------------------------- times, in the business's zone
  /** A formatter in the business's time zone (the browser's own until the configuration says which). */
  function zoneFormat(options) {
    const base = { hourCycle: "h23", ...options };
    if (cfg.timezone) {
      try {
        return new Intl.DateTimeFormat(cfg.locale, { ...base, timeZone: cfg.timezone });
      } catch {
        /* an unknown zone name: fall back to the browser's zone rather than show nothing */
      }
    }
    return new Intl.DateTimeFormat(cfg.locale, base);
  }
  const formats = {};
  function makeFormats() {
    formats.time = zoneFormat({ hour: "2-digit", minute: "2-digit" });
    formats.when = zoneFormat({ weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit" });
  }
  makeFormats();

  const parseDate = (value) => {
    const date = value ? new Date(value) : new Date();
    return Number.isNaN(date.getTime()) ? null : date;
  };
  /** "14:05" for a message's timestamp (the zone is named in its title). */
  function formatTime(value) {
    const date = parseDate(value);
    return date ? digits(formats.time.format(date)) : "";
  }
  /** "Saturday 5 April at 8:00 Tehran time" for an expected reply. */
  function formatWhen(value) {
    const date = parseDate(value);
    if (!date) return "";
    const when = digits(formats.when.format(date));
    return cfg.zoneName ? `${when} ${cfg.zoneName}` : when;
  }
  function timeElement(value) {
    const iso = value || new Date().toISOString();
    const node = el("time", { class: "time", datetime: iso }, formatTime(iso));
    if (cfg.zoneName) node.title = `${formatTime(iso)} ${cfg.zoneName}`;
    return node;
  }
  /** Write every shown time again (after the configuration named the business's zone). */
  function refreshTimes() {
    for (const node of log.querySelectorAll("time.time")) {
      const iso = node.getAttribute("datetime");
      node.textContent = formatTime(iso);
      if (cfg.zoneName) node.title = `${formatTime(iso)} ${cfg.zoneName}`;
    }
  }

  /** Characters as the server counts them (code points, so an emoji is one). */
  const charCount = (text) => [...text].length;

  const store = {
    key: `pasokh:${cfg.siteKey}:session`,
    openKey: `pasokh:${cfg.siteKey}:open`,
    csatKey: `pasokh:${cfg.siteKey}:csat`,
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
    messages: [], // {id, role, text, node, local, status}
    lastId: 0,
    convo: "bot", // bot | waiting | agent | closed
    ticket: null,
    agentName: "",
    busy: false,
    pollTimer: null,
    unread: 0,
    ended: false,
    configured: null, // the promise of the server's widget configuration
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
  const subtitle = el("p", { class: "subtitle" }, t.subtitle.bot);
  const endButton = el("button", { type: "button", class: "end", "data-action": "end" }, t.endChat);
  const closeButton = el("button", { type: "button", class: "close", "aria-label": t.close, "data-action": "close" }, "×");
  const header = el("header", { class: "header" }, el("div", { class: "heading" }, title, subtitle), endButton, closeButton);
  const banner = el("div", { class: "banner", role: "status", hidden: true, "data-testid": "handoff-banner" });
  // The live region is the scrolling box; the messages inside it stay a real list (role=log on the <ol>
  // itself would take its list semantics away from the <li> items).
  const log = el("ol", { class: "messages", role: "list" });
  const logBox = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.log, tabindex: "0" }, log);
  const unavailable = el("p", { class: "unavailable", role: "alert", hidden: true }, t.unavailable);
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
    autocomplete: "off",
    "aria-describedby": "pasokh-counter",
  });
  // No maxlength on the field: the browser would cut pasted text silently. The counter says what is allowed.
  const counter = el("p", { id: "pasokh-counter", class: "counter", "aria-live": "polite", hidden: true });
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
    { id: "pasokh-panel", class: "panel", role: "dialog", "aria-labelledby": "pasokh-title", hidden: true, "data-state": "bot" },
    header,
    banner,
    logBox,
    unavailable,
    typing,
    errorLine,
    csat,
    counter,
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
    logBox.scrollTop = logBox.scrollHeight;
  }

  function roleLabel(role) {
    return role === "customer" ? t.you : role === "agent" ? t.agent : t.bot;
  }

  /** Whether a bot reply may be rated: the server says so (`feedback`); older servers: answered, no handoff. */
  function rateable(msg) {
    if (typeof msg.feedback === "boolean") return msg.feedback;
    return msg.answered === true && !msg.handoff && !msg.handoff_reason;
  }

  /** Add one message to the log and to state; `msg` is {id?, role, text, created_at?, sources?, related?, feedback?}. */
  function addMessage(msg, { local = false } = {}) {
    const role = ["customer", "bot", "agent"].includes(msg.role) ? msg.role : "bot";
    const text = typeof msg.text === "string" ? msg.text : "";
    const item = el("li", { class: `msg msg-${role}`, "data-role": role });
    if (msg.id) item.dataset.id = String(msg.id);
    if (msg.kind) item.dataset.kind = String(msg.kind);
    const sources = Array.isArray(msg.sources) ? msg.sources.slice(0, 5) : [];
    // The reply ends with "Source: title (address)" lines; the sources list below shows them as links instead.
    const shown = role === "bot" && sources.length ? withoutSourceLines(text) : text;
    const body = el("div", { class: "text", dir: textDir(shown) });
    body.append(richText(shown));
    const agentName = role === "agent" && typeof msg.agent === "string" ? msg.agent.trim().slice(0, 60) : "";
    if (agentName) state.agentName = agentName;
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
    // Related articles are shown as the server chose them (it picks them per reply and language).
    const related = Array.isArray(msg.related) ? msg.related.slice(0, 6) : [];
    if (role === "bot" && related.length) {
      const group = el("div", { class: "related", role: "group", "aria-label": t.related });
      for (const article of related) {
        const name = String(article.title || "");
        if (!name) continue;
        const chip = el("button", { type: "button", class: "chip", dir: "auto" }, name);
        chip.addEventListener("click", () => send(name));
        group.append(chip);
      }
      if (group.childElementCount) item.append(group);
    }
    const entry = { id: msg.id || null, role, text, node: item, local, status: null };
    if (role === "bot" && !local && rateable(msg)) item.append(feedbackButtons(entry));
    const meta = el("div", { class: "meta" }, timeElement(msg.created_at));
    item.append(meta);
    log.append(item);
    state.messages.push(entry);
    if (msg.id) state.lastId = Math.max(state.lastId, Number(msg.id) || 0);
    // A long answer is shown from its beginning; anything shorter than the log just scrolls into view.
    if (role !== "customer" && item.offsetHeight > logBox.clientHeight) logBox.scrollTop = item.offsetTop - 8;
    else scrollToEnd();
    return entry;
  }

  /** Say on a customer's message whether it went: sending, sent (or delivered to people), or not sent + Retry. */
  function setStatus(entry, status) {
    entry.status = status;
    entry.failed = status === "failed";
    entry.node.dataset.status = status;
    entry.node.classList.toggle("failed", status === "failed");
    const meta = entry.node.querySelector(".meta");
    let line = meta.querySelector(".status");
    if (!line) {
      line = el("span", { class: "status" });
      meta.append(line);
    }
    line.textContent = "";
    if (status === "failed") {
      const retry = el("button", { type: "button", class: "retry", "data-action": "retry" }, t.retry);
      retry.addEventListener("click", () => send(entry.text, { entry }));
      line.append(el("strong", { class: "not-sent" }, t.notSent), " ", retry);
    } else {
      line.textContent = { sending: t.sending, sent: t.sent, delivered: t.delivered }[status] || "";
    }
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
    if (!cfg.allowed) return;
    addMessage({ role: "bot", text: cfg.greeting || t.greeting }, { local: true }).node.classList.add("greeting");
  }

  /** Tell the customer what went wrong in their language; the server's own words go to the developer console. */
  function showError(error) {
    let message = t.errorNetwork;
    if (error instanceof ApiError) {
      const detail = error.body && error.body.detail ? error.body.detail : `HTTP ${error.status}`;
      console.warn(`Pasokh: the server refused a request (${error.status}): ${detail}`);
      if (error.status === 403) {
        block(error.body && /origin|may not be used from/i.test(detail) ? "origin_not_allowed" : "unknown_site_key");
        return;
      }
      if (error.status === 429) message = t.errorBusy;
      else if (error.status < 500) message = t.errorRefused;
    }
    errorLine.textContent = message;
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

  // ---------------------------------------------------------------- conversation states
  /** The four states; a server from before them says "human" for any open or resolved handoff. */
  function normalState(value, ticket) {
    if (STATES.includes(value)) return value;
    if (value === "human") {
      if (ticket && ticket.status === "resolved") return "closed";
      if (ticket && (ticket.status === "claimed" || ticket.agent)) return "agent";
      return "waiting";
    }
    return "bot";
  }

  /** When a person is expected, if that is later than "about now" (the team is away); else null. */
  function expectedLater() {
    const expected = state.ticket && parseDate(state.ticket.expected_at);
    if (!state.ticket || !state.ticket.expected_at || !expected) return null;
    return expected.getTime() > Date.now() + 60_000 ? state.ticket.expected_at : null;
  }

  /** Show `value` (bot | waiting | agent | closed) in the panel, the header and the banner; poll while people are involved. */
  function applyState(value, ticket) {
    if (!cfg.allowed) return;
    if (ticket !== undefined) state.ticket = ticket;
    const previous = state.convo;
    const next = normalState(value, state.ticket);
    state.convo = next;
    panel.dataset.state = next;
    const name = (state.ticket && typeof state.ticket.agent === "string" && state.ticket.agent.trim().slice(0, 60)) || state.agentName;
    const later = next === "waiting" ? expectedLater() : null;
    const open = state.ticket && "expected_at" in state.ticket && !state.ticket.expected_at ? "asap" : later ? "later" : "soon";

    subtitle.textContent =
      next === "waiting"
        ? later
          ? t.subtitle.waitingAt(formatWhen(later))
          : t.subtitle.waitingSoon
        : next === "agent"
          ? t.subtitle.agent(name)
          : next === "closed"
            ? t.subtitle.closed
            : t.subtitle.bot;

    banner.textContent = "";
    banner.dataset.state = next;
    if (next === "bot") {
      banner.hidden = true;
    } else {
      if (next === "waiting") {
        const lead = { later: t.banner.waitingLater, asap: t.banner.waitingAsap, soon: t.banner.waitingSoon }[open];
        banner.append(el("strong", {}, lead));
        if (later) banner.append(" ", el("span", { class: "eta" }, `${t.expected} `, el("bdi", {}, formatWhen(later))));
        if (open !== "soon") banner.append(el("span", { class: "meanwhile" }, t.banner.meanwhile));
      } else if (next === "agent") {
        banner.append(el("strong", {}, t.banner.agent(name)));
      } else {
        banner.append(el("strong", {}, t.banner.closed));
      }
      if (next !== "closed" && state.ticket && typeof state.ticket.id === "string") {
        banner.append(" ", el("span", { class: "ref" }, `${t.reference} `, el("bdi", { dir: "ltr" }, state.ticket.id)));
      }
      banner.hidden = false;
    }
    if (next === "closed" && previous !== "closed") offerCsat();
    if (next !== "closed" && previous === "closed" && !state.ended) hideCsat();
    schedulePoll();
  }

  function setUnread(count) {
    state.unread = count;
    badge.textContent = count ? digits(count) : "";
    badge.hidden = !count;
    bubble.setAttribute("aria-label", count ? `${t.open} (${digits(count)} ${t.unread})` : t.open);
  }

  // ---------------------------------------------------------------- the server's widget configuration
  function block(problem) {
    if (!cfg.allowed) return;
    cfg.allowed = false;
    cfg.problem = problem || "unknown_site_key";
    panel.dataset.unavailable = cfg.problem;
    state.messages = [];
    log.textContent = "";
    unavailable.hidden = false;
    subtitle.textContent = t.unavailableShort;
    banner.hidden = true;
    composer.hidden = true;
    counter.hidden = true;
    endButton.hidden = true;
    typing.hidden = true;
    clearError();
    schedulePoll();
    const where = location.origin && location.origin !== "null" ? location.origin : location.href;
    console.warn(
      cfg.problem === "origin_not_allowed"
        ? `Pasokh: the site key "${cfg.siteKey}" may not be used from ${where}; add this origin to its entry in ` +
            "the server's PASOKH_SITE_KEYS (and PASOKH_CORS_ORIGINS). The chat is disabled on this page."
        : `Pasokh: the server does not know the site key "${cfg.siteKey}" (data-site-key); add it to the ` +
            "server's PASOKH_SITE_KEYS or fix the attribute. The chat is disabled on this page.",
    );
  }

  /**
   * Read GET v1/widget/config once: whether this page may chat, the business's time zone, the length limit.
   *
   * Asked as a plain request (the site key in the query, no header of our own): a custom header makes the
   * browser ask the server first (a CORS preflight), which a server refuses for an origin it does not allow,
   * and then the widget could not tell the customer why it cannot chat here.
   */
  async function loadConfig() {
    let config = null;
    try {
      const url = new URL("v1/widget/config", cfg.base);
      url.searchParams.set("site_key", cfg.siteKey);
      const response = await fetch(url, { credentials: "omit", headers: { Accept: "application/json" } });
      if (response.ok) config = await response.json();
      else console.warn(`Pasokh: the widget configuration answered HTTP ${response.status}`);
    } catch (error) {
      // A server without the endpoint, or unreachable: keep the defaults; sending will say what is wrong.
      console.warn(`Pasokh: could not read the widget configuration (${error.message || error})`);
    }
    if (!config || typeof config !== "object") return;
    if (typeof config.timezone === "string" && config.timezone) cfg.timezone = config.timezone;
    const names = config.zone_name && typeof config.zone_name === "object" ? config.zone_name : {};
    if (typeof names[cfg.lang] === "string") cfg.zoneName = names[cfg.lang].slice(0, 60);
    if (Number.isInteger(config.max_message_chars) && config.max_message_chars > 0) cfg.maxChars = config.max_message_chars;
    makeFormats();
    refreshTimes();
    applyState(state.convo);
    updateCounter();
    if (config.allowed === false) block(config.problem);
  }

  // ---------------------------------------------------------------- conversation
  function rememberSession(id) {
    state.sessionId = id;
    store.set("localStorage", store.key, id);
  }

  /** Merge the server's transcript (messages after state.lastId) into the log without duplicates. */
  async function sync({ initial = false } = {}) {
    if (!state.sessionId || !cfg.allowed) return;
    const sessionId = state.sessionId;
    let payload;
    try {
      payload = await api(`v1/conversations/${encodeURIComponent(sessionId)}/messages?after=${state.lastId}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && sessionId === state.sessionId) {
        rememberSession(null); // the server no longer knows this conversation; start afresh
        if (initial && !state.messages.length && !panel.hidden) showGreeting();
      } else if (error instanceof ApiError && error.status === 403) {
        showError(error);
      }
      return;
    }
    if (sessionId !== state.sessionId || !payload) return;
    let fresh = 0;
    for (const msg of Array.isArray(payload.messages) ? payload.messages : []) {
      if (state.messages.some((m) => m.id === msg.id)) continue;
      // A turn sent while the database was down has no ids on screen; the server's copy of it gives them (its
      // text may differ slightly, e.g. without the ticket reference, so turns are paired by role and order).
      const pending = state.messages.find((m) => !m.id && !m.local && !m.failed && m.status !== "sending" && m.role === msg.role);
      if (pending) {
        pending.id = msg.id;
        pending.node.dataset.id = String(msg.id);
        state.lastId = Math.max(state.lastId, Number(msg.id) || 0);
        continue;
      }
      const entry = addMessage(msg);
      if (msg.role === "customer") setStatus(entry, state.convo === "agent" ? "delivered" : "sent");
      if (msg.role === "agent") fresh += 1;
    }
    if (fresh && (panel.hidden || document.hidden) && !initial) setUnread(state.unread + fresh);
    applyState(payload.state, payload.ticket || null);
    if (initial && state.convo === "closed" && store.get("localStorage", store.csatKey) === closedKey()) hideCsat();
  }

  function schedulePoll() {
    const wanted = (state.convo === "waiting" || state.convo === "agent") && state.sessionId && !state.ended && cfg.allowed;
    if (wanted && !state.pollTimer) {
      state.pollTimer = setInterval(() => {
        if (!state.busy) sync();
      }, cfg.pollMs);
    } else if (!wanted && state.pollTimer) {
      clearInterval(state.pollTimer);
      state.pollTimer = null;
    }
  }

  function tooLongMessage(count) {
    return t.tooLong(numberFormat.format(count), numberFormat.format(cfg.maxChars));
  }

  /** Show the length while it is near or over the limit; over it, say so and keep the text. */
  function updateCounter() {
    const count = charCount(input.value.trim());
    const over = count > cfg.maxChars;
    counter.hidden = !cfg.allowed || count < cfg.maxChars * 0.9;
    counter.textContent = over ? tooLongMessage(count) : t.counter(numberFormat.format(count), numberFormat.format(cfg.maxChars));
    counter.classList.toggle("over", over);
    input.setAttribute("aria-invalid", over ? "true" : "false");
  }

  /** Send `raw`; `entry` is a customer message shown before whose send failed (Retry sends it again). */
  async function send(raw, { entry = null } = {}) {
    const text = String(raw || "").trim();
    if (!text || state.busy) return false;
    if (state.configured) await state.configured;
    if (!cfg.allowed) return false; // the unavailable notice is showing; nothing is sent
    if (charCount(text) > cfg.maxChars) {
      updateCounter();
      counter.hidden = false;
      return false;
    }
    clearError();
    if (state.ended) resetConversation({ keepGreeting: true });
    state.busy = true;
    composer.setAttribute("aria-busy", "true");
    const mine = entry || addMessage({ role: "customer", text });
    setStatus(mine, "sending");
    const withPeople = state.convo === "agent";
    setTyping(!withPeople); // an agent types for themselves; the bot stays silent then
    let sent = false;
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
      const next = typeof reply.state === "string" ? reply.state : reply.handoff ? "waiting" : state.convo === "closed" ? "bot" : state.convo;
      if (reply.customer_message_id) {
        mine.id = reply.customer_message_id;
        mine.node.dataset.id = String(mine.id);
        state.lastId = Math.max(state.lastId, mine.id);
      }
      setStatus(mine, normalState(next) === "agent" ? "delivered" : "sent");
      // With an agent the bot says nothing (an empty reply): the message is only delivered.
      if (typeof reply.reply === "string" && reply.reply.trim()) {
        addMessage({
          id: reply.message_id || null,
          role: "bot",
          text: reply.reply,
          kind: reply.kind,
          sources: reply.sources,
          related: reply.related,
          feedback: reply.feedback,
          answered: reply.answered,
          handoff: reply.handoff,
        });
      }
      setTyping(false);
      applyState(next);
      sent = true;
    } catch (error) {
      setStatus(mine, "failed");
      showError(error);
    } finally {
      setTyping(false);
      state.busy = false;
      composer.removeAttribute("aria-busy");
    }
    // Catch up with the transcript once the composer is free again: a customer who answers at once is not
    // ignored while this read is under way.
    if (sent) await sync();
    return sent;
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
    state.agentName = "";
    log.textContent = "";
    hideCsat();
    composer.hidden = !cfg.allowed;
    applyState("bot", null);
    if (keepGreeting || !panel.hidden) showGreeting();
  }

  // ---------------------------------------------------------------- end of chat and CSAT
  /** The rating scale: 1 to 5 with both ends named on screen and on each button. */
  function csatScale() {
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
    const [low, high] = t.csatEnds(digits(1), digits(5));
    const ends = el("p", { class: "scale-ends", "aria-hidden": "true" }, el("span", { class: "low" }, low), el("span", { class: "high" }, high));
    const skip = el("button", { type: "button", class: "link-button", "data-action": "skip" }, t.skip);
    return { question, scale, ends, skip };
  }

  /** The customer ends the chat: rate it, then the next message starts a new conversation. */
  function endChat() {
    if (!state.sessionId) {
      close();
      return;
    }
    state.ended = true;
    schedulePoll();
    csat.textContent = "";
    const parts = csatScale();
    parts.skip.addEventListener("click", () => finish());
    csat.append(parts.question, parts.scale, parts.ends, parts.skip);
    csat.hidden = false;
    csat.dataset.mode = "end";
    composer.hidden = true;
    counter.hidden = true;
    parts.scale.querySelector("button").focus();
  }

  /** An agent closed the conversation: ask for a rating, and leave the composer so they can write again. */
  function offerCsat() {
    if (!state.sessionId || state.ended) return;
    csat.textContent = "";
    const parts = csatScale();
    parts.skip.addEventListener("click", () => {
      store.set("localStorage", store.csatKey, closedKey());
      hideCsat();
    });
    csat.append(parts.question, parts.scale, parts.ends, parts.skip);
    csat.hidden = false;
    csat.dataset.mode = "closed";
  }

  function hideCsat() {
    csat.hidden = true;
    csat.textContent = "";
    delete csat.dataset.mode;
  }

  /** Which closing a rating answered (so a reload does not ask again). */
  function closedKey() {
    return `${state.sessionId}:${state.ticket && state.ticket.id ? state.ticket.id : ""}`;
  }

  async function rate(score) {
    try {
      await api("v1/feedback", { method: "POST", body: { session_id: state.sessionId, csat: score } });
    } catch (error) {
      showError(error);
      return;
    }
    if (csat.dataset.mode === "closed") {
      store.set("localStorage", store.csatKey, closedKey());
      csat.textContent = "";
      csat.append(el("p", { class: "csat-thanks", role: "status" }, t.csatThanks));
      input.focus();
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

  // ---------------------------------------------------------------- phone layout
  // On a phone the panel covers the screen: the bubble hides, the page behind stops scrolling, and the panel
  // follows the visual viewport so the on-screen keyboard does not hide the messages or the composer.
  const phone = window.matchMedia("(max-width: 480px)");
  const pageScroll = { locked: false, html: "", body: "" };

  function lockPage(on) {
    const html = document.documentElement;
    if (on && !pageScroll.locked) {
      pageScroll.html = html.style.overflow;
      pageScroll.body = document.body.style.overflow;
      html.style.overflow = "hidden";
      document.body.style.overflow = "hidden";
      pageScroll.locked = true;
    } else if (!on && pageScroll.locked) {
      html.style.overflow = pageScroll.html;
      document.body.style.overflow = pageScroll.body;
      pageScroll.locked = false;
    }
  }

  function fitPhone() {
    const full = phone.matches && !panel.hidden;
    lockPage(full);
    root.toggleAttribute("data-full", full);
    const view = window.visualViewport;
    if (full && view) {
      panel.style.height = `${Math.round(view.height)}px`;
      panel.style.top = `${Math.round(view.offsetTop)}px`;
    } else {
      panel.style.removeProperty("height");
      panel.style.removeProperty("top");
    }
  }

  // ---------------------------------------------------------------- open / close
  function open() {
    if (!panel.hidden) return;
    panel.hidden = false;
    root.setAttribute("data-open", "");
    bubble.setAttribute("aria-expanded", "true");
    store.set("sessionStorage", store.openKey, "1");
    if (!state.messages.length && !state.sessionId) showGreeting();
    setUnread(0);
    fitPhone();
    scrollToEnd();
    const target = !cfg.allowed ? closeButton : composer.hidden ? csat.querySelector("button") || closeButton : input;
    target.focus();
  }

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    root.removeAttribute("data-open");
    bubble.setAttribute("aria-expanded", "false");
    store.set("sessionStorage", store.openKey, null);
    fitPhone();
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
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() || state.busy) return;
    if (charCount(text.trim()) > cfg.maxChars) {
      updateCounter(); // the text stays in the field, with how many characters are allowed
      counter.hidden = false;
      return;
    }
    input.value = "";
    input.style.height = "";
    updateCounter();
    await send(text);
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
    updateCounter();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && (state.convo === "waiting" || state.convo === "agent")) sync();
  });
  if (phone.addEventListener) phone.addEventListener("change", fitPhone);
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitPhone);
    window.visualViewport.addEventListener("scroll", fitPhone);
  }

  // ---------------------------------------------------------------- start
  function start() {
    document.body.append(host);
    state.configured = loadConfig();
    if (store.get("sessionStorage", store.openKey)) open();
    state.configured.then(() => {
      if (state.sessionId) sync({ initial: true });
    });
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
