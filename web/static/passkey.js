/*
 * monban — passkey ceremonies for the hub's pages (served as /pkg/passkey.js).
 *
 * No inline script anywhere (the Content-Security-Policy forbids it): the pages mark
 * buttons with data-passkey="signin|enroll|add|step-up" and this file, loaded with
 * `defer`, handles their clicks through one listener on `document`, so it works before
 * and after hydration and for buttons rendered later.
 *
 * Flow (see server/src/auth/ceremony.rs): POST JSON to /auth/…/start, answer
 * {ceremony, options: {publicKey}} → navigator.credentials.create/get → POST
 * {ceremony, credential} to /auth/…/finish → {ok, redirect}. Binary fields travel as
 * base64url. Errors ({"error": {"code", "message"}}) go to the nearest
 * [data-passkey-status] element.
 *
 * "signin-any" signs in without a name (a discoverable passkey names its user).
 * "add" takes three steps: start → get() (a fresh assertion with a passkey the user
 * has) → /auth/passkeys/verify → create() → finish.
 * "decide" confirms a maintenance decision (CONTRACT §10): the button carries
 * data-request, data-decision (approve|deny|cancel|confirm) and data-csrf; the note is
 * the scope's [name=note]. POST /api/v1/maintenance/{id}/decision/start →
 * navigator.credentials.get() → …/decision/finish with {ceremony, credential, decision,
 * note}, both with X-CSRF-Token (from data-csrf, else GET /api/v1/session).
 *
 * "review" confirms an account review (棚卸し, docs/ACCOUNTS.md): the button carries
 * data-system and data-csrf; each account of the scope is an element [data-review-mark]
 * with data-account holding [name=decision] (keep|remove|map), [name=person] and
 * [name=note]. The marks {system, marks: [{account, decision, person?, note?}]} go to
 * POST /api/v1/accounts/reviews/start → navigator.credentials.get() →
 * /api/v1/accounts/reviews/finish with {ceremony, credential, system, marks}. An
 * account without a decision, or a map without a person, is named before any passkey
 * is asked for.
 *
 * Also for the maintenance page: a form[data-maint-form] (a paper request) is posted as
 * JSON to POST /api/v1/maintenance, and a [data-print] button prints the page. After a
 * decision or a filing the page is told to fetch its data again: the event
 * "monban:refresh" on window (a page that is not hydrated is reloaded instead).
 *
 * And for the access-log import page (/imports): a form[data-import-upload="SYSTEM"]
 * posts its chosen file as the body of POST /api/v1/imports/SYSTEM?name=FILE (with the
 * form's _csrf as X-CSRF-Token), then opens /imports?result=ID: the import's figures or
 * its bad rows. A file over the limit (413) is said in the form's status.
 */
(function () {
  "use strict";

  function b64urlToBuf(s) {
    var b64 = String(s).replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function bufToB64url(buf) {
    if (!buf) return null;
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function en() {
    return document.documentElement.getAttribute("lang") === "en" ||
      /[?&]lang=en(&|$)/.test(window.location.search);
  }

  function say(status, text, tone) {
    if (!status) return;
    status.textContent = text;
    status.setAttribute("data-tone", tone || "info");
  }

  function container(button) {
    return button.closest("form, [data-passkey-scope]") || button.parentElement || document.body;
  }

  function field(scope, name) {
    var el = scope.querySelector('[name="' + name + '"]');
    return el ? el.value : "";
  }

  function statusOf(button, scope) {
    return scope.querySelector("[data-passkey-status]") ||
      document.querySelector("[data-passkey-status]");
  }

  async function post(url, body, csrf) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    var res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(body)
    });
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      var message = data && data.error && data.error.message ? data.error.message : ("HTTP " + res.status);
      var err = new Error(message);
      err.code = data && data.error ? data.error.code : "http_" + res.status;
      throw err;
    }
    return data || {};
  }

  async function sessionCsrf() {
    var res = await fetch("/api/v1/session", {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    });
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return data && data.csrf ? data.csrf : null;
  }

  // The page's data changed: a hydrated page refetches, a static one reloads.
  function refresh() {
    if (document.querySelector("[data-hydrated='true']")) {
      window.dispatchEvent(new Event("monban:refresh"));
    } else {
      window.location.reload();
    }
  }

  function creationOptions(pk) {
    pk.challenge = b64urlToBuf(pk.challenge);
    if (pk.user && pk.user.id) pk.user.id = b64urlToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return pk;
  }

  function requestOptions(pk) {
    pk.challenge = b64urlToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return pk;
  }

  function encodeRegistration(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: bufToB64url(r.attestationObject),
        clientDataJSON: bufToB64url(r.clientDataJSON)
      },
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (typeof r.getTransports === "function") {
      try { out.response.transports = r.getTransports(); } catch (e) { /* optional */ }
    }
    return out;
  }

  function encodeAssertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: bufToB64url(r.authenticatorData),
        clientDataJSON: bufToB64url(r.clientDataJSON),
        signature: bufToB64url(r.signature),
        userHandle: r.userHandle ? bufToB64url(r.userHandle) : null
      },
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function explain(e) {
    if (e && e.name === "NotAllowedError") {
      return en()
        ? "The passkey request was cancelled or timed out. Try again."
        : "パスキーの操作が取り消されたか、時間切れになりました。もう一度お試しください。";
    }
    if (e && e.name === "SecurityError") {
      return en()
        ? "Passkeys work only at the hub's own address (https, or localhost). Open the dashboard at the address your administrator gave you."
        : "パスキーは門番の正しいアドレス（https または localhost）でのみ使えます。管理者から案内されたアドレスで開いてください。";
    }
    if (e && e.name === "InvalidStateError") {
      return en()
        ? "This authenticator already holds a passkey for this account."
        : "この認証器には、このアカウントのパスキーがすでに登録されています。";
    }
    return (e && e.message) ? e.message : String(e);
  }

  async function run(kind, button) {
    var scope = container(button);
    var status = statusOf(button, scope);
    if (!window.isSecureContext) {
      say(status, en()
        ? "Passkeys need a secure address: open the hub over https (or at localhost)."
        : "パスキーには安全な接続が必要です。https（または localhost）で門番を開いてください。", "error");
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(status, en()
        ? "This browser does not support passkeys."
        : "このブラウザはパスキーに対応していません。", "error");
      return;
    }
    var start, finish, body = {}, csrf = null, register = false, verifyFirst = null;
    if (kind === "signin-any") {
      start = "/auth/signin/start"; finish = "/auth/signin/finish";
      var nextAny = field(scope, "next");
      if (nextAny) body.next = nextAny;
    } else if (kind === "signin") {
      start = "/auth/signin/start"; finish = "/auth/signin/finish";
      body.name = field(scope, "name").trim();
      var next = field(scope, "next");
      if (next) body.next = next;
      if (!body.name) {
        say(status, en() ? "Enter your user name." : "ユーザー名を入力してください。", "error");
        return;
      }
    } else if (kind === "enroll") {
      start = "/auth/enroll/start"; finish = "/auth/enroll/finish"; register = true;
      body.token = field(scope, "token");
      body.passkey_name = field(scope, "passkey_name");
    } else if (kind === "add") {
      start = "/auth/passkeys/start"; finish = "/auth/passkeys/finish"; register = true;
      verifyFirst = "/auth/passkeys/verify";
      body.passkey_name = field(scope, "passkey_name");
      csrf = button.getAttribute("data-csrf");
    } else if (kind === "decide") {
      var rid = encodeURIComponent(button.getAttribute("data-request") || "");
      start = "/api/v1/maintenance/" + rid + "/decision/start";
      finish = "/api/v1/maintenance/" + rid + "/decision/finish";
      csrf = button.getAttribute("data-csrf") || await sessionCsrf();
    } else if (kind === "review") {
      start = "/api/v1/accounts/reviews/start";
      finish = "/api/v1/accounts/reviews/finish";
      var review = reviewBody(button, scope);
      if (review.missing) {
        say(status, en()
          ? "Choose a decision for every account (map needs a person): " + review.missing
          : "すべてのアカウントの判断を選んでください（登録には対応者が必要です）: " + review.missing, "error");
        return;
      }
      body = { system: review.system, marks: review.marks };
      csrf = button.getAttribute("data-csrf") || await sessionCsrf();
    } else if (kind === "step-up") {
      var id = encodeURIComponent(button.getAttribute("data-step-up") || "");
      start = "/auth/step-up/" + id + "/start"; finish = "/auth/step-up/" + id + "/finish";
    } else {
      return;
    }
    button.disabled = true;
    say(status, en() ? "Follow your device's prompt…" : "端末の案内に従ってください…", "info");
    try {
      var begun = await post(start, body, csrf);
      var pk = begun.options && begun.options.publicKey ? begun.options.publicKey : begun.options;
      if (verifyFirst) {
        // Prove it is still you with a passkey you have, then register the new one.
        say(status, en() ? "First confirm with a passkey you already have…" : "まず、登録済みのパスキーで本人確認してください…", "info");
        var proof = encodeAssertion(await navigator.credentials.get({ publicKey: requestOptions(pk) }));
        begun = await post(verifyFirst, { ceremony: begun.ceremony, credential: proof }, csrf);
        pk = begun.options && begun.options.publicKey ? begun.options.publicKey : begun.options;
        say(status, en() ? "Now register the new passkey…" : "次に、新しいパスキーを登録してください…", "info");
      }
      var credential;
      if (register) {
        credential = encodeRegistration(await navigator.credentials.create({ publicKey: creationOptions(pk) }));
      } else {
        credential = encodeAssertion(await navigator.credentials.get({ publicKey: requestOptions(pk) }));
      }
      var finishBody = { ceremony: begun.ceremony, credential: credential };
      if (kind === "review") {
        finishBody.system = body.system;
        finishBody.marks = body.marks;
      }
      if (kind === "decide") {
        finishBody.decision = button.getAttribute("data-decision") || "";
        finishBody.note = field(scope, "note");
      }
      var done = await post(finish, finishBody, csrf);
      if (done.redirect) {
        say(status, en() ? "Done." : "完了しました。", "ok");
        window.location.assign(done.redirect);
        return;
      }
      var text;
      if (kind === "decide") {
        var what = button.textContent.trim();
        text = en()
          ? what + ": done for request " + (done.request_id || "") + "."
          : "申請 " + (done.request_id || "") + " を「" + what + "」としました。";
        say(status, text, "ok");
        refresh();
        return;
      }
      if (kind === "review") {
        var c = done.counts || {};
        text = en()
          ? "Review completed: keep " + c.keep + ", remove " + c.remove + ", map " + c.map + "."
          : "棚卸しを確定しました（継続 " + c.keep + "・削除 " + c.remove + "・登録 " + c.map + "）。";
        say(status, text, "ok");
        refresh();
        return;
      }
      if (kind === "step-up") {
        text = en()
          ? "Verified. Return to the terminal to continue signing in."
          : "本人確認ができました。端末に戻ってログインを続けてください。";
      } else {
        text = en()
          ? "The passkey is registered. You can close this page."
          : "パスキーを登録しました。このページを閉じてかまいません。";
      }
      say(status, text, "ok");
      scope.setAttribute("data-passkey-done", "true");
    } catch (e) {
      say(status, explain(e), "error");
      button.disabled = false;
    }
  }

  // The marks of an account review: one per [data-review-mark] of the scope; `missing`
  // names the accounts without a decision (or a map without a person).
  function reviewBody(button, scope) {
    var marks = [], missing = [];
    scope.querySelectorAll("[data-review-mark]").forEach(function (row) {
      var account = row.getAttribute("data-account") || "";
      var decision = field(row, "decision");
      var person = field(row, "person");
      var note = field(row, "note");
      if (!decision || (decision === "map" && !person)) {
        missing.push(account);
        return;
      }
      var mark = { account: account, decision: decision };
      if (decision === "map") mark.person = person;
      if (note) mark.note = note;
      marks.push(mark);
    });
    return {
      system: button.getAttribute("data-system") || "",
      marks: marks,
      missing: missing.length ? missing.join(", ") : ""
    };
  }

  // A paper maintenance request (紙の申請): the form's fields as the API's JSON. The
  // window's local times are the site's (data-offset, e.g. "+09:00").
  async function fileRequest(form) {
    var status = form.querySelector("[data-passkey-status]") ||
      document.querySelector("[data-passkey-status]");
    var offset = form.getAttribute("data-offset") || "+09:00";
    function when(name) {
      var v = field(form, name);
      if (!v) return v;
      if (v.length === 16) v += ":00";
      return v + offset;
    }
    var people = [];
    form.querySelectorAll('[name="people"]:checked').forEach(function (c) { people.push(c.value); });
    var body = {
      request_id: field(form, "request_id").trim(),
      vendor: field(form, "vendor"),
      system: field(form, "system"),
      people: people,
      work_plan: field(form, "work_plan").trim(),
      purpose: field(form, "purpose"),
      start: when("start"),
      end: when("end"),
      remote: !!(form.querySelector('[name="remote"]') || {}).checked,
      emergency: !!(form.querySelector('[name="emergency"]') || {}).checked
    };
    var submit = form.querySelector("[type=submit]");
    if (submit) submit.disabled = true;
    try {
      var csrf = form.getAttribute("data-csrf") || await sessionCsrf();
      var done = await post("/api/v1/maintenance", body, csrf);
      say(status, en()
        ? "Registered request " + done.request_id + " (" + done.status + ")."
        : "申請 " + done.request_id + " を登録しました。", "ok");
      form.reset();
      refresh();
    } catch (e) {
      say(status, explain(e), "error");
    }
    if (submit) submit.disabled = false;
  }

  async function uploadLog(form) {
    var status = form.querySelector("[data-passkey-status]");
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file) return;
    var submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    say(status, en() ? "Checking every row…" : "すべての行を検査しています…", "info");
    try {
      var csrf = form.querySelector("[name=_csrf]");
      var system = form.getAttribute("data-import-upload");
      var res = await fetch("/api/v1/imports/" + encodeURIComponent(system) +
        "?name=" + encodeURIComponent(file.name), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "text/csv", "X-CSRF-Token": csrf ? csrf.value : ""},
        body: file
      });
      var body = await res.json().catch(function () { return {}; });
      var id = body.id || (body.error && body.error.import_id);
      if (id) {
        window.location.assign("/imports?result=" + id + (en() ? "&lang=en" : ""));
        return;
      }
      var message = body.error && body.error.message ? body.error.message : res.statusText;
      if (res.status === 413) {
        message = en()
          ? "The file is too large for an upload: split it, or use `monban import logins`."
          : "ファイルが大きすぎます。分割するか、monban import logins をお使いください。";
      }
      say(status, message, "error");
    } catch (e) {
      say(status, explain(e), "error");
    }
    if (submit) submit.disabled = false;
  }

  document.addEventListener("click", function (ev) {
    var printer = ev.target && ev.target.closest ? ev.target.closest("[data-print]") : null;
    if (printer) {
      ev.preventDefault();
      window.print();
      return;
    }
    var button = ev.target && ev.target.closest ? ev.target.closest("[data-passkey]") : null;
    if (!button) return;
    ev.preventDefault();
    run(button.getAttribute("data-passkey"), button);
  });

  // Enter in a sign-in or enrollment form runs its passkey button, not a form post.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form && form.hasAttribute && form.hasAttribute("data-import-upload")) {
      ev.preventDefault();
      uploadLog(form);
      return;
    }
    if (form && form.hasAttribute && form.hasAttribute("data-maint-form")) {
      ev.preventDefault();
      fileRequest(form);
      return;
    }
    var button = form && form.querySelector
      ? (form.querySelector("[data-passkey-default]") || form.querySelector("[data-passkey]"))
      : null;
    if (!button) return;
    ev.preventDefault();
    if (!button.disabled) run(button.getAttribute("data-passkey"), button);
  });
})();
