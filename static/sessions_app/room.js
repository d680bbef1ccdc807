// The session room's websocket (docs/realtime-protocol.md): connects, reconnects by
// itself with backoff, notices a dead connection with a heartbeat, and hands each frame
// to the handlers registered for its type.
const HEARTBEAT_MS = 20000;
const HEARTBEAT_TIMEOUT_MS = 10000;
const FINAL_CLOSE_CODES = new Set([4401, 4403]);

export class RoomSocket {
  constructor(path) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.handlers = new Map();
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.retryTimer = null;
    this.heartbeat = null;
    this.lastPong = 0;
    this._hello = null;
    this._peerOnline = false;
    this._roomState = null;
    window.addEventListener("online", () => this.reconnectNow());
    // The browser knows the network is gone before the socket does: say so at once.
    window.addEventListener("offline", () => this.ws?.close());
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
  }

  emit(type, frame) {
    for (const handler of this.handlers.get(type) || []) {
      try {
        handler(frame);
      } catch (error) {
        console.error(error); // one broken handler must not stop the others
      }
    }
  }

  get role() { return this._hello ? this._hello.role : null; }
  get hello() { return this._hello; }
  get peerOnline() { return this._peerOnline; }
  get roomState() { return this._roomState; }
  get connected() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this._hello !== null; }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this._hello = null;
    ws.addEventListener("message", (event) => this.receive(ws, event));
    ws.addEventListener("close", (event) => this.closed(ws, event));
  }

  receive(ws, event) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      this.attempt = 0;
      this._hello = frame;
      this._roomState = frame.room.state;
      this._peerOnline = frame.peer_online;
      this.startHeartbeat();
      this.emit("hello", frame);
      this.emit("room.state", frame.room);
      this.emit("open", frame);
      return;
    }
    if (frame.type === "pong") this.lastPong = Date.now();
    if (frame.type === "presence") this._peerOnline = frame.online;
    if (frame.type === "room.state") {
      this._roomState = frame.state;
      // TURN credentials come only while the room is open: keep the newest.
      if (frame.ice_servers && this._hello) this._hello.ice_servers = frame.ice_servers;
    }
    this.emit(frame.type, frame);
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this._hello = null;
    clearInterval(this.heartbeat);
    this._peerOnline = false; // unknown until the next hello; a call in progress may go on
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.stopped = true;
      this.emit("stopped", { code: event.code });
      return;
    }
    this.emit("offline", { code: event.code });
    const delay = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay / 2 + (Math.random() * delay) / 2);
  }

  reconnectNow() {
    if (this.stopped || this.connected) return;
    this.attempt = 0;
    if (this.ws) this.ws.close();
    else this.connect();
  }

  startHeartbeat() {
    clearInterval(this.heartbeat);
    this.lastPong = Date.now();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastPong > HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS && this.ws) {
        this.ws.close(); // no answer: the connection is dead even if the browser has not noticed
        return;
      }
      this.send({ type: "ping", t: Date.now() });
    }, HEARTBEAT_MS);
  }

  send(frame) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
