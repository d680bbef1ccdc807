// The room's chat: every message gets a client id, is shown as "sending" at once, and
// stays on screen until the server acknowledges it (sent), the other side reads it
// (read), or it is refused (not sent, with the reason and a button to send it again).
// Messages typed while offline wait and go out on reconnect; a reconnect fetches what
// was missed, in order. Text is always inserted as text, never as HTML.

function uuid4() {
  // crypto.randomUUID needs a secure context; a school LAN may serve plain http.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const format = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key]);

export function setupChat({ room, log, form, input, counter, typing, strings, timeZone, limit = 2000 }) {
  const known = new Set([...log.querySelectorAll("[data-id]")].map((li) => Number(li.dataset.id)));
  let lastId = Number(log.dataset.lastId || 0); // every id up to this one is on screen
  const pending = new Map(); // client_id -> {body, li, state}
  let readSent = 0;
  let typingTimer = null;
  let lastTypingSent = 0;
  // "HH:MM" in the school's zone, as the server renders it.
  const timeFormat = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: timeZone || undefined,
  });

  const scrollDown = () => { log.scrollTop = log.scrollHeight; };

  function setStatus(li, status, text) {
    let span = li.querySelector(".chat-status");
    if (!span) {
      span = document.createElement("span");
      span.className = "chat-status";
      li.querySelector(".chat-meta").append(" · ", span);
    }
    span.dataset.status = status;
    span.textContent = text || strings[status] || status;
  }

  function bubble({ id = null, clientId, body, mine, sentAt = null }) {
    document.getElementById("chat-empty")?.remove();
    const li = document.createElement("li");
    li.className = `chat-message ${mine ? "mine" : "theirs"}`;
    if (id !== null) li.dataset.id = id;
    li.dataset.clientId = clientId;
    const text = document.createElement("div");
    text.className = "chat-body";
    text.textContent = body;
    const meta = document.createElement("div");
    meta.className = "chat-meta";
    const time = document.createElement("time");
    const when = sentAt ? new Date(sentAt) : new Date();
    time.dateTime = when.toISOString();
    time.textContent = timeFormat.format(when);
    meta.append(time);
    li.append(text, meta);
    place(li, id);
    return li;
  }

  function place(li, id) {
    // Keep the log in id order; unacknowledged messages stay at the end.
    const later = id === null ? null : [...log.querySelectorAll("[data-id]")].find((other) => other !== li && Number(other.dataset.id) > id);
    const firstPending = [...log.querySelectorAll(".chat-message:not([data-id])")].find((other) => other !== li);
    log.insertBefore(li, later || firstPending || null);
    scrollDown();
  }

  function advance() {
    while (known.has(lastId + 1)) lastId += 1;
  }

  function markRead() {
    if (document.visibilityState !== "visible") return;
    const theirs = [...log.querySelectorAll(".theirs[data-id]")].map((li) => Number(li.dataset.id));
    const newest = Math.max(0, ...theirs);
    if (newest > readSent && room.send({ type: "chat.read", up_to: newest })) readSent = newest;
  }

  function show(message) {
    if (known.has(message.id)) return;
    const waiting = message.mine ? pending.get(message.client_id) : null;
    let li = waiting ? waiting.li : log.querySelector(`[data-client-id="${message.client_id}"]`);
    if (li && li.dataset.id === undefined) {
      li.dataset.id = message.id;
      pending.delete(message.client_id);
      li.querySelector(".chat-retry")?.remove();
      place(li, message.id);
    } else {
      li = bubble({ id: message.id, clientId: message.client_id, body: message.body, mine: message.mine, sentAt: message.sent_at });
    }
    if (message.mine) setStatus(li, message.read ? "read" : "sent");
    known.add(message.id);
    const gap = message.id > lastId + 1;
    advance();
    if (gap) room.send({ type: "chat.sync", after: lastId });
    if (!message.mine) {
      typing.textContent = "";
      markRead();
    }
  }

  function transmit(clientId) {
    const entry = pending.get(clientId);
    if (!entry) return;
    entry.state = "sending";
    const sent = room.send({ type: "chat.send", client_id: clientId, body: entry.body });
    setStatus(entry.li, sent ? "sending" : "queued");
    if (!sent) entry.state = "queued";
  }

  function failed(clientId, message, code) {
    const entry = pending.get(clientId);
    if (!entry) return;
    if (code === "message_too_long" || code === "empty_message") {
      // Give the text back to edit; nothing is lost.
      if (!input.value.trim()) input.value = entry.body;
      entry.li.remove();
      pending.delete(clientId);
      showError(message);
      return;
    }
    entry.state = "failed";
    setStatus(entry.li, "failed", `${strings.failed}: ${message}`);
    if (!entry.li.querySelector(".chat-retry")) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn btn-link btn-sm p-0 ms-1 chat-retry";
      retry.textContent = strings.retry;
      retry.addEventListener("click", () => {
        retry.remove();
        transmit(clientId);
      });
      entry.li.querySelector(".chat-meta").append(retry);
    }
  }

  function showError(message) {
    counter.textContent = message;
    counter.classList.add("text-danger");
  }

  function updateCounter() {
    const left = limit - input.value.length;
    counter.classList.toggle("text-danger", left < 0);
    counter.textContent = left < 200 ? format(strings.chars_left, { count: left }) : "";
  }

  function setEnabled(enabled) {
    input.disabled = !enabled;
    form.querySelector("button[type=submit]").disabled = !enabled;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    if (body.length > limit) {
      showError(format(strings.too_long, { limit }));
      return;
    }
    const clientId = uuid4();
    const li = bubble({ clientId, body, mine: true });
    pending.set(clientId, { body, li, state: "new" });
    input.value = "";
    updateCounter();
    transmit(clientId);
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    const desktop = window.matchMedia("(pointer: fine)").matches;
    if (event.key === "Enter" && !event.shiftKey && desktop) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    updateCounter();
    const now = Date.now();
    if (now - lastTypingSent > 2000 && input.value.trim()) {
      lastTypingSent = now;
      room.send({ type: "typing" });
    }
  });

  document.addEventListener("visibilitychange", markRead);

  room.on("open", () => {
    room.send({ type: "chat.sync", after: lastId });
    for (const [clientId, entry] of pending) {
      if (entry.state !== "failed") transmit(clientId); // same client id: never stored twice
    }
  });
  room.on("offline", () => {
    for (const entry of pending.values()) {
      if (entry.state === "sending") {
        entry.state = "queued";
        setStatus(entry.li, "queued");
      }
    }
  });
  room.on("chat.ack", (ack) => {
    const entry = pending.get(ack.client_id);
    if (!entry) return;
    show({ id: ack.id, client_id: ack.client_id, body: entry.body, mine: true, sent_at: ack.sent_at, read: false });
  });
  room.on("chat.message", show);
  room.on("chat.history", (history) => {
    history.messages.forEach(show);
    if (!history.complete) room.send({ type: "chat.sync", after: lastId });
    markRead();
  });
  room.on("chat.read", (receipt) => {
    for (const li of log.querySelectorAll(".mine[data-id]")) {
      if (Number(li.dataset.id) <= receipt.up_to) setStatus(li, "read");
    }
  });
  room.on("typing", () => {
    typing.textContent = strings.typing;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typing.textContent = ""; }, 5000);
  });
  room.on("error", (error) => {
    if (error.client_id) failed(error.client_id, error.message, error.code);
  });
  room.on("room.state", (state) => {
    setEnabled(state.state === "open");
    if (state.state === "closed") {
      // Whatever could not go out before the end stays on screen, marked as not sent.
      for (const clientId of [...pending.keys()]) failed(clientId, state.reason, "room_closed");
    }
  });

  scrollDown();
  return { setEnabled, unsent: () => pending.size };
}
