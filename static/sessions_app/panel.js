// What the video panel shows (templates/sessions_app/fragment_video.html): the controls of
// the call's phase, the state line (#video-state), the message area (#video-error) and the
// remote video's overlay. It reads the call's state and never changes it.

export class VideoPanel {
  constructor(panel, call) {
    this.call = call;
    this.root = panel.querySelector("#video-call");
    // el.videoStart is #video-start, and so on.
    this.el = new Proxy({}, { get: (_, id) => panel.querySelector(`#${id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`) });
    this.mode = panel.dataset.mode === "chat" ? "chat" : "video";
    this.el.videoIntroVideo?.classList.toggle("d-none", this.mode !== "video");
    this.el.videoIntroChat?.classList.toggle("d-none", this.mode !== "chat");
  }

  // The sentence in the root's data-msg-<key> attribute.
  msg(key) {
    return this.root.dataset["msg" + key.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase())] || "";
  }

  show(element, visible) {
    element?.classList.toggle("d-none", !visible);
  }

  render() {
    const call = this.call;
    const { phase } = call;
    const el = this.el;
    this.root.dataset.phase = phase;
    this.show(el.videoIdle, phase === "idle");
    this.show(el.videoPrecheck, phase === "precheck");
    this.show(el.videoStage, phase !== "idle");
    this.show(el.videoRemote, call.inCall());
    this.show(el.videoControls, call.inCall());
    el.videoStage?.classList.toggle("is-call", call.inCall());
    this.show(el.videoLocal, phase !== "idle" && call.hasVideo());
    this.show(el.videoPeerWaiting, call.peer.joined && (phase === "idle" || phase === "precheck"));
    if (phase !== "call") this.show(el.videoSuggestAudio, false);
    if (el.videoStart) el.videoStart.textContent = call.peer.joined ? this.msg("start-rejoin") : this.msg(`start-${this.mode}`);
    el.videoStart?.classList.toggle("btn-lg", this.mode === "video" || call.peer.joined);
    el.videoStart?.classList.toggle("btn-primary", this.mode === "video" || call.peer.joined);
    el.videoStart?.classList.toggle("btn-outline-primary", this.mode === "chat" && !call.peer.joined);
    this.renderAvailability();
    this.renderToggles();
    this.renderRemote();
    if (phase === "idle") this.setState("idle");
    else if (phase === "precheck") this.setState("idle", this.msg("state-precheck"));
  }

  // The start and join buttons, enabled only while the room is open.
  renderAvailability() {
    const call = this.call;
    const state = call.room.roomState;
    const open = state === "open";
    let reason = "";
    if (!open) {
      if (!state) reason = this.msg("reason-connecting");
      else if (state === "closed") reason = this.msg("reason-closed");
      else reason = call.lastReason || this.msg("reason-not-open");
    }
    const el = this.el;
    if (el.videoStart) el.videoStart.disabled = !open || call.phase !== "idle";
    if (el.videoStartReason) el.videoStartReason.textContent = reason;
    const hasMedia = Boolean(call.local.audioTrack());
    if (el.videoJoin) el.videoJoin.disabled = !open || !hasMedia || !call.hasVideo();
    if (el.videoJoinAudio) el.videoJoinAudio.disabled = !open || !hasMedia;
    if (el.videoJoinReason) el.videoJoinReason.textContent = reason;
  }

  renderToggles() {
    const video = this.call.local.videoTrack();
    const audio = this.call.local.audioTrack();
    const set = (button, pressed, disabled) => {
      if (!button) return;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
      button.disabled = disabled;
    };
    set(this.el.videoCamera, Boolean(video && video.enabled), !video);
    set(this.el.videoMicrophone, Boolean(audio && audio.enabled), !audio);
    if (this.el.videoAudioOnly) this.el.videoAudioOnly.disabled = !video;
  }

  // The text over the remote video when it shows nothing (waiting, audio only, camera off).
  renderRemote() {
    const overlay = this.el.remoteOverlay;
    if (!overlay) return;
    const call = this.call;
    const { pc, remoteStream } = call.peer;
    let text = "";
    if (call.phase === "failed") {
      text = this.msg("state-failed");
    } else if (call.inCall()) {
      const hasRemoteVideo = Boolean(remoteStream?.getVideoTracks().some((t) => t.readyState === "live" && !t.muted));
      if (!pc || !remoteStream) text = this.msg("remote-waiting");
      else if (call.audioOnly || call.peer.audioOnly) text = this.msg("remote-audio-only");
      else if (!call.peer.cameraOn) text = this.msg("remote-camera-off");
      else if (!hasRemoteVideo) text = this.msg(pc.connectionState === "connected" ? "remote-camera-off" : "remote-waiting");
    }
    overlay.textContent = text;
    this.show(overlay, Boolean(text));
  }

  // #video-state: data-state for the tests and the styles, the sentence for people.
  setState(state, text) {
    const box = this.el.videoState;
    if (!box) return;
    box.dataset.state = state;
    box.textContent = text ?? this.msg(`state-${state}`);
  }

  // Shows msg(key) (or `text`) in #video-error, data-message=key; message(null) hides it.
  message(key, { tone = "danger", retry = false, retryAudio = false, text = null } = {}) {
    const box = this.el.videoError;
    if (!box) return;
    const body = text ?? (key ? this.msg(key) : "");
    box.className = `alert alert-${tone}${body ? "" : " d-none"}`;
    box.dataset.message = body ? key || "server" : "";
    if (this.el.videoErrorText) this.el.videoErrorText.textContent = body;
    this.show(this.el.videoRetry, retry);
    this.show(this.el.videoRetryAudio, retryAudio);
    this.show(this.el.videoErrorActions, retry || retryAudio);
  }

  clearMessage() {
    this.message(null);
  }

  isShowing(key) {
    return this.el.videoError?.dataset.message === key;
  }
}
