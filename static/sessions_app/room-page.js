// The session room page: wires the socket to the chat, the video call, the presence and
// connection badges, the counselor's controls and the note's autosave.
import { RoomSocket } from "./room.js";
import { setupChat } from "./chat.js";

const root = document.getElementById("room");
const strings = JSON.parse(document.getElementById("room-strings").textContent);
const room = new RoomSocket(root.dataset.wsPath);
const initialState = root.dataset.state;
const byId = (id) => document.getElementById(id);

function setConnection(state, text) {
  const badge = byId("connection-state");
  badge.dataset.state = state;
  badge.textContent = text;
  badge.className = `badge ${state === "online" ? "text-bg-success" : state === "offline" ? "text-bg-warning" : "text-bg-light border"}`;
}

function setPresence(online) {
  const badge = byId("peer-presence");
  badge.dataset.online = online ? "1" : "0";
  badge.textContent = online ? strings.peer_online : strings.peer_offline;
  badge.className = `badge ${online ? "text-bg-success" : "text-bg-secondary"}`;
  const waiting = byId("waiting-for-counselor");
  if (waiting) waiting.classList.toggle("d-none", online || room.roomState !== "open");
}

function showError(message) {
  const box = byId("room-error");
  box.textContent = message;
  box.classList.toggle("d-none", !message);
}

let stateTimer = null;
function scheduleStateCheck(state) {
  // Ask again when the room should open or close by the clock.
  clearTimeout(stateTimer);
  const at = state.state === "waiting" || state.state === "consent_missing" ? state.opens_at : state.closes_at;
  if (!at || state.state === "closed") return;
  const delay = Math.min(2 ** 31 - 1, Math.max(1000, new Date(at) - Date.now() + 1000));
  stateTimer = setTimeout(() => room.send({ type: "room.state" }), delay);
}

let flushNote = () => Promise.resolve();

async function showEndedRoom() {
  // The ended room (the outcome form, the questionnaires) comes from the server; first
  // make sure nothing typed is lost by the reload.
  await flushNote();
  if (chat && chat.unsent() > 0) {
    showError(strings.ended_unsent);
    byId("room-reload")?.classList.remove("d-none");
    return;
  }
  location.reload();
}

function applyRoomState(state) {
  if (state.state === "closed" && initialState !== "closed") {
    showEndedRoom();
    return;
  }
  const waiting = byId("room-waiting");
  waiting.classList.toggle("d-none", state.state === "open");
  if (state.reason) byId("room-reason").textContent = state.reason;
  root.dataset.state = state.state;
  root.dataset.status = state.status;
  byId("room-start")?.classList.toggle("d-none", state.status !== "confirmed");
  byId("room-end")?.classList.toggle("d-none", state.status !== "in_progress");
  const phase = byId("room-phase");
  if (phase) {
    phase.disabled = state.status !== "in_progress";
    if (state.phase !== undefined) phase.value = state.phase;
  }
  setPresence(room.peerOnline);
  scheduleStateCheck(state);
}

const chatForm = byId("chat-form");
let chat = null;
if (chatForm) {
  chat = setupChat({
    room,
    log: byId("chat-log"),
    form: chatForm,
    input: byId("chat-input"),
    counter: byId("chat-counter"),
    typing: byId("typing"),
    strings,
    timeZone: root.dataset.timeZone,
  });
}

room.on("open", () => {
  setConnection("online", strings.online);
  showError("");
});
room.on("offline", () => {
  setConnection("offline", strings.offline);
  setPresence(false);
});
room.on("stopped", (event) => setConnection("offline", event.code === 4401 ? strings.signed_out : strings.forbidden));
room.on("presence", (frame) => setPresence(frame.online));
room.on("room.state", applyRoomState);
room.on("error", (error) => {
  // Chat refusals show on their message, call refusals in the video panel.
  if (!error.client_id && error.ref !== "signal") showError(error.message);
});

byId("room-reload")?.addEventListener("click", () => location.reload());
byId("room-start")?.addEventListener("click", () => room.send({ type: "session.start" }));
byId("room-end")?.addEventListener("click", () => {
  if (window.confirm(strings.confirm_end)) room.send({ type: "session.end" });
});
byId("room-phase")?.addEventListener("change", (event) => {
  if (event.target.value) room.send({ type: "phase.set", phase: event.target.value });
});

// The note saves itself a moment after typing stops; the plain form still works. One
// save at a time: a slow earlier save must not land after (and over) a later one.
const noteForm = byId("note-form");
if (noteForm) {
  const status = byId("note-status");
  const text = noteForm.querySelector("textarea");
  let timer = null;
  let running = null;
  let again = false;
  const saveOnce = async () => {
    status.textContent = strings.note_saving;
    try {
      const response = await fetch(noteForm.action, {
        method: "POST",
        body: new FormData(noteForm),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const result = await response.json();
      if (!response.ok || !result.ok) throw new Error("not saved");
      status.textContent = strings.note_saved.replace("%(time)s", result.saved_at);
    } catch {
      status.textContent = strings.note_failed;
    }
  };
  const save = () => {
    clearTimeout(timer);
    timer = null;
    if (running) {
      again = true; // the newest text goes out when the running save is done
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await saveOnce();
      } while (again);
      running = null;
    })();
    return running;
  };
  text.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
  // Save what is typed now (a timer still waiting included) and wait for it.
  flushNote = () => (timer !== null || running ? save() : Promise.resolve());
  noteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  window.addEventListener("pagehide", () => {
    // Leaving before the autosave: send the text anyway (the view answers a redirect).
    if (timer !== null) navigator.sendBeacon?.(noteForm.action, new FormData(noteForm));
  });
}

// The video call is optional: if its module fails, the chat still works.
const videoPanel = byId("video-panel");
const videoReady = videoPanel
  ? import("./video.js").then((video) => video.setupVideo({ room, panel: videoPanel })).catch((error) => console.error(error))
  : Promise.resolve();
videoReady.finally(() => room.connect());
