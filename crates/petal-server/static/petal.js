// Petal's browser script: served from /static (the CSP allows no inline script). Pages are
// rendered on the server; this file only drives forms through the JSON API, so every rule
// lives in one place, the server.
"use strict";

// The session's CSRF token, kept where every tab of this origin can read it (a tab opened
// later has no sessionStorage of its own). Alone it is useless: requests also need the
// session cookie, which scripts cannot read. Signing out removes it.
const CSRF_KEY = "petal.csrf";
const tokens = window.localStorage;

/// Calls the API; state-changing calls carry the session's CSRF token. A `background` call
/// (a progress poll) does not count as the person's activity, so it cannot keep a session
/// alive past the idle timeout.
async function api(method, path, body, background) {
  const headers = { "Accept": "application/json" };
  if (background) headers["X-Petal-Background"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const csrf = tokens.getItem(CSRF_KEY);
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(data && data.error ? data.error.message : "Something went wrong.");
    error.code = data && data.error ? data.error.code : "";
    throw error;
  }
  return data;
}

function show(id, visible) {
  document.getElementById(id).hidden = !visible;
}

function fail(error) {
  const box = document.getElementById("error");
  box.textContent = error.message;
  box.hidden = false;
}

function signedIn(session) {
  tokens.setItem(CSRF_KEY, session.csrf_token);
}

/// WebAuthn speaks ArrayBuffers; the API speaks base64url (as webauthn-rs writes it).
function fromBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function toBase64Url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/// A `PublicKeyCredential` as JSON, with its `response` already encoded.
function credentialJson(credential, response) {
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: credential.type,
    extensions: credential.getClientExtensionResults(),
    response,
  };
}

/// Asks the browser for a passkey assertion for the server's `options` (from
/// `/auth/mfa/passkey/login/start`); the credential as the API takes it.
async function passkeyAssertion(options) {
  const publicKey = options.publicKey;
  publicKey.challenge = fromBase64Url(publicKey.challenge);
  for (const allowed of publicKey.allowCredentials || []) allowed.id = fromBase64Url(allowed.id);
  const credential = await navigator.credentials.get({ publicKey });
  const response = credential.response;
  return credentialJson(credential, {
    authenticatorData: toBase64Url(response.authenticatorData),
    clientDataJSON: toBase64Url(response.clientDataJSON),
    signature: toBase64Url(response.signature),
    userHandle: response.userHandle ? toBase64Url(response.userHandle) : null,
  });
}

/// Asks the browser to create a passkey for the server's `options` (from
/// `/auth/mfa/passkey/register/start`); the credential as the API takes it.
async function passkeyCreation(options) {
  const publicKey = options.publicKey;
  publicKey.challenge = fromBase64Url(publicKey.challenge);
  publicKey.user.id = fromBase64Url(publicKey.user.id);
  for (const excluded of publicKey.excludeCredentials || []) excluded.id = fromBase64Url(excluded.id);
  const credential = await navigator.credentials.create({ publicKey });
  return credentialJson(credential, {
    attestationObject: toBase64Url(credential.response.attestationObject),
    clientDataJSON: toBase64Url(credential.response.clientDataJSON),
  });
}

function loginPage() {
  // Whatever session this browser had is over (signed out, expired or ended elsewhere).
  tokens.removeItem(CSRF_KEY);
  let mfaToken = null;
  document.getElementById("password-step").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    try {
      const login = await api("POST", "/api/v1/auth/login", {
        email: document.getElementById("email").value,
        password: document.getElementById("password").value,
      });
      mfaToken = login.mfa_token;
      show("password-step", false);
      if (login.next === "enroll") {
        const setup = await api("POST", "/api/v1/auth/mfa/totp/setup", { mfa_token: mfaToken });
        const svg = new DOMParser().parseFromString(setup.qr_svg, "image/svg+xml").documentElement;
        document.getElementById("qr").replaceChildren(document.importNode(svg, true));
        document.getElementById("secret").textContent = setup.secret;
        show("passkey-enrol", login.methods.includes("passkey") && Boolean(window.PublicKeyCredential));
        show("enrol-step", true);
        document.getElementById("enrol-code").focus();
      } else {
        show("code-step", true);
        const has = (method) => login.methods.includes(method);
        show("sms-offer", has("sms"));
        show("passkey-offer", has("passkey") && Boolean(window.PublicKeyCredential));
        // A six-digit code is the authenticator's, unless the user has none but a phone.
        if (!has("totp") && has("sms")) sixDigits = "sms";
        const ways = [];
        if (has("totp")) ways.push("enter the six-digit code from your authenticator app");
        if (has("sms")) ways.push("ask for a code by text message");
        if (has("passkey")) ways.push("use your passkey");
        ways.push("enter one of your backup codes");
        const help = ways.join(", or ");
        document.getElementById("code-help").textContent = `${help[0].toUpperCase()}${help.slice(1)}.`;
        document.getElementById("code").focus();
      }
    } catch (error) { fail(error); }
  });
  // Once a text message is asked for, a six-digit code is that message's.
  let sixDigits = "totp";
  document.getElementById("send-sms").addEventListener("click", async () => {
    show("error", false);
    try {
      const sent = await api("POST", "/api/v1/auth/mfa/challenge", { mfa_token: mfaToken, method: "sms" });
      sixDigits = "sms";
      document.getElementById("sms-sent").textContent = `Sent to ${sent.to}; it expires in 5 minutes.`;
      document.getElementById("code").focus();
    } catch (error) { fail(error); }
  });
  document.getElementById("code-step").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const code = document.getElementById("code").value.trim();
    const method = /^\d{6}$/.test(code) ? sixDigits : "backup_code";
    try {
      signedIn(await api("POST", "/api/v1/auth/mfa/verify", { mfa_token: mfaToken, method, code }));
      window.location.assign("/jobs");
    } catch (error) { fail(error); }
  });
  document.getElementById("use-passkey").addEventListener("click", async () => {
    show("error", false);
    try {
      const options = await api("POST", "/api/v1/auth/mfa/passkey/login/start", { mfa_token: mfaToken });
      const credential = await passkeyAssertion(options);
      signedIn(await api("POST", "/api/v1/auth/mfa/passkey/login/finish", { mfa_token: mfaToken, credential }));
      window.location.assign("/jobs");
    } catch (error) { fail(error); }
  });
  const showBackupCodes = (session) => {
    const list = document.getElementById("backup-codes");
    for (const code of session.backup_codes || []) {
      const item = document.createElement("li");
      item.textContent = code;
      list.appendChild(item);
    }
    show("enrol-step", false);
    show("backup-step", true);
  };
  document.getElementById("register-passkey").addEventListener("click", async () => {
    show("error", false);
    try {
      const options = await api("POST", "/api/v1/auth/mfa/passkey/register/start", { mfa_token: mfaToken });
      const credential = await passkeyCreation(options);
      const session = await api("POST", "/api/v1/auth/mfa/passkey/register/finish", { mfa_token: mfaToken, credential });
      signedIn(session);
      showBackupCodes(session);
    } catch (error) { fail(error); }
  });
  document.getElementById("enrol-step").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    try {
      const session = await api("POST", "/api/v1/auth/mfa/totp/activate", {
        mfa_token: mfaToken, code: document.getElementById("enrol-code").value.trim(),
      });
      signedIn(session);
      showBackupCodes(session);
    } catch (error) { fail(error); }
  });
}

/// The invite link carries its token in the fragment, which never reaches a server log.
function invitePage() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  document.getElementById("accept-step").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    try {
      await api("POST", "/api/v1/invites/accept", {
        token,
        name: document.getElementById("name").value,
        password: document.getElementById("new-password").value,
      });
      history.replaceState(null, "", "/invite");
      show("accept-step", false);
      show("accepted-step", true);
    } catch (error) { fail(error); }
  });
}

/// A job's page: uploads (drag and drop or the file picker), one request per file so each has
/// its own progress bar and its own outcome, and live processing progress.
function jobPage() {
  const id = document.getElementById("job").dataset.job;
  const form = document.getElementById("upload");
  if (form) {
    form.addEventListener("dragover", (event) => { event.preventDefault(); form.classList.add("over"); });
    form.addEventListener("dragleave", () => form.classList.remove("over"));
    form.addEventListener("drop", (event) => {
      event.preventDefault();
      form.classList.remove("over");
      for (const file of event.dataTransfer.files) uploadOne(id, file);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      for (const file of document.getElementById("files").files) uploadOne(id, file);
      form.reset();
    });
  }
  followProgress(id, document.getElementById("job").dataset.status);
  bulkDecisions();
}

/// Records one decision for every selected candidate: one request each, as on a candidate's
/// page, so each is checked and audited on its own.
function bulkDecisions() {
  const form = document.getElementById("bulk");
  if (!form) return;
  const picks = () => [...document.querySelectorAll("#results .pick")];
  document.getElementById("pick-all").addEventListener("change", (event) => {
    for (const pick of picks()) pick.checked = event.target.checked;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const chosen = picks().filter((pick) => pick.checked).map((pick) => pick.value);
    const status = document.getElementById("bulk-status");
    if (chosen.length === 0) { status.textContent = "Select candidates first."; return; }
    const decision = document.getElementById("bulk-decision").value;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    let recorded = 0;
    try {
      for (const id of chosen) {
        // No note: each candidate's recorded note stays as it is.
        await api("PUT", `/api/v1/documents/${id}/decision`, { decision });
        recorded += 1;
        status.textContent = `Recorded ${recorded} of ${chosen.length}…`;
      }
      window.location.reload();
    } catch (error) {
      status.textContent = `Recorded ${recorded} of ${chosen.length}.`;
      button.disabled = false;
      fail(error);
    }
  });
}

function uploadOne(id, file) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const outcome = document.createElement("span");
  outcome.className = "outcome";
  item.append(name, bar, outcome);
  document.getElementById("upload-list").append(item);
  const request = new XMLHttpRequest();
  request.open("POST", `/api/v1/jobs/${id}/documents`);
  const csrf = tokens.getItem(CSRF_KEY);
  if (csrf) request.setRequestHeader("X-CSRF-Token", csrf);
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) bar.value = (100 * event.loaded) / event.total;
  });
  request.addEventListener("load", () => {
    let body = null;
    try { body = JSON.parse(request.responseText); } catch (error) { body = null; }
    if (request.status === 201 && body && body.rejected.length === 0) {
      bar.value = 100;
      outcome.textContent = "uploaded";
      item.classList.add("ok");
    } else if (request.status === 201 && body) {
      outcome.textContent = "refused: " + body.rejected.map((r) => r.message || r.code).join("; ");
      item.classList.add("error");
    } else {
      outcome.textContent = body && body.error ? body.error.message : "upload failed";
      item.classList.add("error");
    }
    followProgress(id, "processing");
  });
  request.addEventListener("error", () => { outcome.textContent = "upload failed"; item.classList.add("error"); });
  const data = new FormData();
  data.append("file", file, file.name);
  request.send(data);
}

let following = false;

/// Polls the job while it is processing. When it finishes the page reloads to show the
/// ranking, unless uploads were made here, whose outcomes the person may still be reading: then
/// a link offers the ranking instead.
function followProgress(id, status) {
  if (following || status !== "processing") return;
  following = true;
  const poll = async () => {
    try {
      const job = await api("GET", `/api/v1/jobs/${id}`, undefined, true);
      document.getElementById("job-status").textContent = job.status;
      document.getElementById("job-progress").textContent =
        `${job.progress.done} of ${job.progress.total} screened`;
      following = job.status === "processing";
      if (following) { setTimeout(poll, 1000); return; }
      if (document.querySelector("#upload-list li")) show("refresh", true);
      else window.location.reload();
    } catch (error) { setTimeout(poll, 5000); }
  };
  poll();
}

/// What the value field of each criterion type asks for.
const VALUE_HINTS = {
  skill: { placeholder: "e.g. Rust" },
  years_experience: { placeholder: "years, then an area: 3 litigation" },
  degree_class: { placeholder: "e.g. upper_second", list: "degree-classes" },
  legal_qualification: { placeholder: "e.g. sqe1, sqe2", list: "qualifications" },
  language: { placeholder: "e.g. French" },
};

/// A typed requirement as the API takes it, from the type and the value typed; the API checks
/// it and says what is wrong.
function requirement(type, value) {
  if (type === "skill") return { type, skill: value };
  if (type === "language") return { type, language: value };
  if (type === "degree_class") return { type, minimum: value };
  if (type === "legal_qualification") {
    return { type, qualifications: value.split(",").map((q) => q.trim()).filter((q) => q) };
  }
  if (type === "years_experience") {
    const [years, ...area] = value.split(/\s+/);
    if (!/^\d+$/.test(years)) throw new Error("Years of experience: start the value with a whole number of years, e.g. 3 litigation.");
    const typed = { type, minimum: Number(years) };
    if (area.length) typed.area = area.join(" ");
    return typed;
  }
  return { type };
}

/// One row of the criteria editor as the API takes it.
function criterionOf(row) {
  const criterion = {
    text: row.querySelector(".c-text").value.trim(),
    kind: row.querySelector(".c-kind").value,
    weight: Number(row.querySelector(".c-weight").value),
  };
  const type = row.querySelector(".c-type").value;
  if (type) criterion.requirement = requirement(type, row.querySelector(".c-value").value.trim());
  return criterion;
}

/// The new-job form: criteria rows added and removed in the page, sent as one request.
function newJobPage() {
  const rows = document.querySelector("#criteria-editor tbody");
  const template = document.getElementById("criterion-row");
  const addRow = () => {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".c-remove").addEventListener("click", () => row.remove());
    const type = row.querySelector(".c-type");
    const value = row.querySelector(".c-value");
    type.addEventListener("change", () => {
      const hint = VALUE_HINTS[type.value];
      value.disabled = hint === undefined;
      value.placeholder = hint ? hint.placeholder : "";
      if (hint && hint.list) value.setAttribute("list", hint.list); else value.removeAttribute("list");
    });
    rows.append(row);
    return row;
  };
  for (let i = 0; i < 3; i += 1) addRow();
  // As the recruiter types, the criteria are checked as the job would check them: wording that
  // stands in for a protected characteristic is noted under its row, a refusal shown at once.
  let pending;
  const check = async () => {
    const filled = [...rows.querySelectorAll("tr")].filter((row) => row.querySelector(".c-text").value.trim() !== "");
    for (const row of rows.querySelectorAll("tr")) {
      const note = row.querySelector(".c-note");
      note.textContent = "";
      note.hidden = true;
    }
    show("error", false);
    let criteria;
    // A value still being typed (a type chosen, its value not yet) is checked on submit.
    try { criteria = filled.map(criterionOf); } catch (unfinished) { return; }
    if (criteria.length === 0) return;
    try {
      const checked = await api("POST", "/api/v1/criteria/check", { criteria });
      for (const warning of checked.warnings) {
        const row = filled[Number(warning.criterion_id.slice(1)) - 1];
        if (!row) continue;
        const note = row.querySelector(".c-note");
        note.textContent = `“${warning.term}”: ${warning.message}`;
        note.hidden = false;
      }
    } catch (error) { fail(error); }
  };
  rows.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(check, 400); });
  rows.addEventListener("change", () => { clearTimeout(pending); pending = setTimeout(check, 100); });
  document.getElementById("add-criterion").addEventListener("click", () => {
    addRow().querySelector(".c-text").focus();
  });
  document.getElementById("new-job").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    try {
      const criteria = [...rows.querySelectorAll("tr")]
        .filter((row) => row.querySelector(".c-text").value.trim() !== "")
        .map(criterionOf);
      const job = await api("POST", "/api/v1/jobs", {
        title: document.getElementById("title").value,
        description: document.getElementById("description").value,
        criteria,
      });
      window.location.assign(`/jobs/${job.id}`);
    } catch (error) { fail(error); }
  });
}

/// A candidate's page: opening the original through a signed link (the API refuses those
/// who may not), and recording a decision.
function candidatePage() {
  const id = document.getElementById("candidate").dataset.document;
  const open = document.getElementById("open-original");
  if (open) {
    open.addEventListener("click", async () => {
      show("error", false);
      try {
        const link = await api("POST", `/api/v1/documents/${id}/url`);
        // The server sends it as an attachment: the browser saves it and the page stays.
        window.location.assign(link.url);
      } catch (error) { fail(error); }
    });
  }
  const form = document.getElementById("decide");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      show("error", false);
      try {
        await api("PUT", `/api/v1/documents/${id}/decision`, {
          decision: document.getElementById("decision").value,
          note: document.getElementById("note").value,
        });
        window.location.reload();
      } catch (error) { fail(error); }
    });
  }
}

/// Runs `action`; if the server asks for a recent password and code first, asks for them,
/// confirms them (`POST /api/v1/auth/reauth`) and runs it again.
async function withStepUp(action) {
  try {
    return await action();
  } catch (error) {
    if (error.code !== "reauthentication_required") throw error;
    await new Promise((resolve) => {
      const form = document.getElementById("reauth");
      show("reauth", true);
      document.getElementById("reauth-password").focus();
      // Once a text message is asked for, a six-digit code is that message's.
      let sixDigits = "totp";
      const passkey = document.getElementById("reauth-passkey");
      if (passkey) {
        passkey.onclick = async () => {
          show("error", false);
          try {
            const options = await api("POST", "/api/v1/auth/reauth/passkey/start", {
              password: document.getElementById("reauth-password").value,
            });
            const credential = await passkeyAssertion(options);
            await api("POST", "/api/v1/auth/reauth/passkey/finish", { credential });
            form.reset();
            show("reauth", false);
            resolve();
          } catch (failure) { fail(failure); }
        };
      }
      const sms = document.getElementById("reauth-sms");
      if (sms) {
        sms.onclick = async () => {
          show("error", false);
          try {
            const sent = await api("POST", "/api/v1/me/sms-code");
            sixDigits = "sms";
            document.getElementById("reauth-sms-sent").textContent = `Sent to ${sent.to}.`;
          } catch (failure) { fail(failure); }
        };
      }
      form.onsubmit = async (event) => {
        event.preventDefault();
        show("error", false);
        const code = document.getElementById("reauth-code").value.trim();
        try {
          await api("POST", "/api/v1/auth/reauth", {
            password: document.getElementById("reauth-password").value,
            method: /^\d{6}$/.test(code) ? sixDigits : "backup_code",
            code,
          });
          form.reset();
          show("reauth", false);
          resolve();
        } catch (failure) { fail(failure); }
      };
    });
    return await action();
  }
}

function done(message) {
  const box = document.getElementById("done");
  box.textContent = message;
  box.hidden = false;
}

/// The organisation page: settings, export and erasure, each behind a step-up.
function settingsPage() {
  document.getElementById("settings").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const change = {
      retention_days: Number(document.getElementById("retention").value),
      screening_engine: document.getElementById("engine").value,
      blind_review: document.getElementById("blind").checked,
    };
    try {
      await withStepUp(() => api("PATCH", "/api/v1/org/settings", change));
      done("Settings saved.");
    } catch (error) { fail(error); }
  });
  document.getElementById("export").addEventListener("click", async () => {
    show("error", false);
    const status = document.getElementById("export-status");
    try {
      let exported = await withStepUp(() => api("POST", "/api/v1/org/export"));
      while (exported.status === "running") {
        status.textContent = `Building: ${exported.documents_done} of ${exported.documents_total} documents`;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        exported = await api("GET", `/api/v1/exports/${exported.id}`, undefined, true);
      }
      if (exported.status !== "ready") throw new Error(`The export ${exported.status}.`);
      status.textContent = "Ready.";
      const link = document.getElementById("export-link");
      link.href = exported.download.url;
      link.hidden = false;
    } catch (error) { status.textContent = ""; fail(error); }
  });
  document.getElementById("erase").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const email = document.getElementById("erase-email").value;
    try {
      const erased = await withStepUp(() => api("POST", "/api/v1/candidates/erase", { email }));
      done(`Erased ${erased.documents.length} document(s) in ${erased.jobs.length} job(s).`);
      document.getElementById("erase").reset();
    } catch (error) { fail(error); }
  });
}

/// The team page: invitations, role changes, second-factor resets and deactivation.
function teamPage() {
  for (const row of document.querySelectorAll("#team tbody tr")) {
    const id = row.dataset.user;
    const act = async (method, path, body, message) => {
      show("error", false);
      try { await api(method, path, body); done(message); } catch (error) { fail(error); }
    };
    const role = row.querySelector(".role");
    if (role) role.addEventListener("change", () => act("PATCH", `/api/v1/users/${id}`, { role: role.value }, "Role changed; their sessions ended."));
    const reset = row.querySelector(".reset-mfa");
    if (reset) reset.addEventListener("click", () => act("POST", `/api/v1/users/${id}/mfa/reset`, undefined, "Second factor reset: they enrol again at their next sign-in."));
    const deactivate = row.querySelector(".deactivate");
    if (deactivate) deactivate.addEventListener("click", async () => {
      await act("DELETE", `/api/v1/users/${id}`, undefined, "Deactivated.");
      window.location.reload();
    });
  }
  document.getElementById("invite").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    try {
      const invite = await api("POST", "/api/v1/invites", {
        email: document.getElementById("invite-email").value,
        role: document.getElementById("invite-role").value,
      });
      document.getElementById("invite-url").textContent = invite.invite_url;
      show("invite-link", true);
    } catch (error) { fail(error); }
  });
}

/// The security page: ending sessions and making new backup codes (behind a step-up).
function securityPage() {
  for (const row of document.querySelectorAll("#sessions tbody tr")) {
    row.querySelector(".end-session").addEventListener("click", async () => {
      show("error", false);
      try {
        await api("DELETE", `/api/v1/me/sessions/${row.dataset.session}`);
        if (row.dataset.current) {
          tokens.removeItem(CSRF_KEY);
          window.location.assign("/login");
        } else {
          row.remove();
          done("Session ended.");
        }
      } catch (error) { fail(error); }
    });
  }
  document.getElementById("new-codes").addEventListener("click", async () => {
    show("error", false);
    try {
      const fresh = await withStepUp(() => api("POST", "/api/v1/me/backup-codes"));
      const list = document.getElementById("backup-codes");
      list.replaceChildren(...fresh.backup_codes.map((code) => {
        const item = document.createElement("li");
        item.textContent = code;
        return item;
      }));
      document.getElementById("codes-left").textContent = `${fresh.backup_codes.length} left`;
      show("new-codes-shown", true);
    } catch (error) { fail(error); }
  });
}

/// The audit log's verify button.
function auditPage() {
  document.getElementById("verify").addEventListener("click", async () => {
    const result = document.getElementById("verify-result");
    result.textContent = "Verifying…";
    try {
      const report = await api("GET", "/api/v1/audit/verify");
      result.textContent = report.ok
        ? `Intact: ${report.events_checked} events and ${report.checkpoints_checked} signed checkpoints checked.`
        : `Broken at event ${report.first_bad_event.seq} (${report.first_bad_event.reason.kind}).`;
      result.className = report.ok ? "ok" : "error";
    } catch (error) { result.textContent = error.message; result.className = "error"; }
  });
}

/// Warns two minutes before the idle timeout and leaves when it passes (the server refuses the
/// session by then anyway).
function idleTimer() {
  const seconds = Number(document.body.dataset.idleSeconds || 0);
  if (!seconds || !document.getElementById("sign-out")) return;
  let warn, leave;
  const arm = () => {
    clearTimeout(warn); clearTimeout(leave);
    show("idle-warning", false);
    warn = setTimeout(() => show("idle-warning", true), Math.max(0, seconds - 120) * 1000);
    leave = setTimeout(() => window.location.assign("/login?expired=1"), seconds * 1000);
  };
  document.getElementById("stay").addEventListener("click", async () => {
    try { await api("GET", "/api/v1/me"); arm(); } catch (error) { window.location.assign("/login?expired=1"); }
  });
  arm();
}

function signOut() {
  const button = document.getElementById("sign-out");
  if (!button) return;
  button.addEventListener("click", async () => {
    try { await api("POST", "/api/v1/auth/logout"); } catch (error) { /* signed out anyway */ }
    tokens.removeItem(CSRF_KEY);
    window.location.assign("/login");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "login") loginPage();
  if (document.body.dataset.page === "invite") invitePage();
  if (document.body.dataset.page === "job") jobPage();
  if (document.body.dataset.page === "candidate") candidatePage();
  if (document.body.dataset.page === "new-job") newJobPage();
  if (document.body.dataset.page === "audit") auditPage();
  if (document.body.dataset.page === "settings") settingsPage();
  if (document.body.dataset.page === "team") teamPage();
  if (document.body.dataset.page === "security") securityPage();
  idleTimer();
  signOut();
});
