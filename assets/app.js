/* Posthaste — small progressive enhancements. The site works without this file.
   No dependencies; cooperates with htmx when it is present. */
(function () {
  "use strict";

  var DRAFT_PREFIX = "posthaste:draft:";
  var PENDING_KEY = "posthaste:pending-submit";
  var NEW_POST_MS = 2400;

  /* ---------- small helpers ---------- */

  function store(kind) {
    // localStorage/sessionStorage can throw (privacy modes, quota): treat as absent.
    try {
      var s = window[kind];
      var probe = "posthaste:probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null;
    }
  }
  var local = store("localStorage");
  var session = store("sessionStorage");

  function get(s, key) { try { return s ? s.getItem(key) : null; } catch (e) { return null; } }
  function set(s, key, value) { try { if (s) { s.setItem(key, value); } } catch (e) { /* full: ignore */ } }
  function del(s, key) { try { if (s) { s.removeItem(key); } } catch (e) { /* ignore */ } }

  function composerOf(el) {
    return el && el.closest ? el.closest("form.composer") : null;
  }
  function bodyOf(form) {
    return form.querySelector("textarea[name=body]") || form.querySelector("textarea");
  }
  function errorBoxOf(form) {
    return form.querySelector(".form-error");
  }
  function draftKey(form) {
    return form.id ? DRAFT_PREFIX + location.pathname + ":" + form.id : null;
  }
  function isOk(status) { return status >= 200 && status < 300; }

  /* ---------- Ctrl/Cmd+Enter submits a composer ---------- */

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter" || !(evt.ctrlKey || evt.metaKey) || evt.isComposing) { return; }
    var target = evt.target;
    if (!target || target.tagName !== "TEXTAREA") { return; }
    var form = composerOf(target);
    if (!form) { return; }
    evt.preventDefault();
    if (form.classList.contains("htmx-request")) { return; } // already sending
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(); // fires "submit" so htmx (and validation) take part
    } else {
      var button = form.querySelector("[type=submit]");
      if (button) { button.click(); }
    }
  });

  /* ---------- Drafts survive a reload; leaving with unsaved text asks first ---------- */

  var lastSubmitted = null; // text of the composer submit in flight (or just done)

  function initComposer(form) {
    var textarea = bodyOf(form);
    var key = draftKey(form);
    if (!textarea || !key || form.dataset.phInit) { return; }
    form.dataset.phInit = "1";

    // A plain (non-htmx) submit reloads the page. If it succeeded the server renders an
    // empty box with no error: the draft was posted, so drop it.
    if (get(session, PENDING_KEY) === key) {
      del(session, PENDING_KEY);
      var errorBox = errorBoxOf(form);
      var hasError = errorBox && errorBox.textContent.trim() !== "";
      if (textarea.value === "" && !hasError) {
        del(local, key);
        return;
      }
    }

    var draft = get(local, key);
    if (draft && textarea.value === "") {
      textarea.value = draft;
    }
  }

  function initComposers(root) {
    var forms = (root || document).querySelectorAll("form.composer");
    for (var i = 0; i < forms.length; i++) { initComposer(forms[i]); }
  }

  document.addEventListener("input", function (evt) {
    var form = composerOf(evt.target);
    if (!form || evt.target.tagName !== "TEXTAREA") { return; }
    var key = draftKey(form);
    if (!key) { return; }
    if (evt.target.value.trim() === "") {
      del(local, key);
    } else {
      set(local, key, evt.target.value);
    }
  });

  document.addEventListener("submit", function (evt) {
    var form = composerOf(evt.target);
    if (!form) { return; }
    var textarea = bodyOf(form);
    lastSubmitted = textarea ? textarea.value : null;
    var key = draftKey(form);
    if (key) { set(session, PENDING_KEY, key); }
  });

  window.addEventListener("beforeunload", function (evt) {
    var forms = document.querySelectorAll("form.composer");
    for (var i = 0; i < forms.length; i++) {
      var textarea = bodyOf(forms[i]);
      if (!textarea) { continue; }
      var value = textarea.value;
      if (value.trim() !== "" && value !== lastSubmitted) {
        evt.preventDefault();
        evt.returnValue = ""; // older browsers need this to show the prompt
        return "";
      }
    }
    return undefined;
  });

  /* ---------- htmx integration ---------- */

  function requestElt(detail) {
    return (detail && detail.requestConfig && detail.requestConfig.elt) || (detail && detail.elt) || null;
  }

  function showError(form, message) {
    var box = errorBoxOf(form);
    if (box) { box.textContent = message; }
  }

  // Send the CSRF token as a header too, for htmx requests that are not forms.
  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content && evt.detail && evt.detail.headers) {
      evt.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  // 422 from a composer = validation message; the server retargets it to the error box.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var detail = evt.detail;
    if (!detail || !detail.xhr || detail.xhr.status !== 422) { return; }
    if (!composerOf(requestElt(detail))) { return; }
    detail.shouldSwap = true;
    detail.isError = false;
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var detail = evt.detail;
    var elt = requestElt(detail);
    var form = elt && elt.matches && elt.matches("form.composer") ? elt : null;
    if (!form || evt.target !== form) { return; } // once per request, from the form itself
    var status = detail.xhr ? detail.xhr.status : 0;
    var textarea = bodyOf(form);
    var key = draftKey(form);
    del(session, PENDING_KEY); // no page reload happens on the htmx path

    if (isOk(status)) {
      if (textarea) { textarea.value = ""; }
      if (key) { del(local, key); }
      showError(form, "");
      lastSubmitted = null;
      markNewPost(detail.target);
      relativeTimes();
      return;
    }

    lastSubmitted = null; // the text was not saved: asking before leaving applies again
    if (status === 422) { return; } // the server's message is already in the error box
    if (status === 0) {
      showError(form, "Could not reach the server. Your text is still here, try again in a moment.");
    } else if (status >= 500) {
      showError(form, "Something went wrong on the server (" + status + "). Your text is still here, please try again.");
    } else if (status === 401 || status === 403) {
      showError(form, "Your session may have expired. Reload the page and sign in again; your text is kept as a draft.");
    } else {
      showError(form, "Could not post (error " + status + "). Your text is still here.");
    }
  });

  function markNewPost(container) {
    if (!container || !container.querySelector) { return; }
    var post = container.querySelector(".post");
    if (!post) { return; }
    post.classList.add("is-new");
    window.setTimeout(function () { post.classList.remove("is-new"); }, NEW_POST_MS);
  }

  // Content added by htmx later (e.g. inline reply forms) gets the same treatment.
  document.addEventListener("htmx:load", function (evt) {
    if (evt.target && evt.target.querySelectorAll) { initComposers(evt.target); }
  });

  /* ---------- Relative times ---------- */

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  function relative(date, now) {
    var seconds = (now.getTime() - date.getTime()) / 1000;
    if (seconds < 60) { return "just now"; } // also covers small clock skew into the future
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + " min ago"; }
    var hours = Math.floor(minutes / 60);
    if (hours < 24) { return hours + " h ago"; }
    var yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (sameDay(date, yesterday)) { return "yesterday"; }
    var opts = { day: "numeric", month: "short" };
    if (date.getFullYear() !== now.getFullYear()) { opts.year = "numeric"; }
    try {
      return date.toLocaleDateString(undefined, opts);
    } catch (e) {
      return date.toISOString().slice(0, 10);
    }
  }

  function relativeTimes() {
    var now = new Date();
    var times = document.querySelectorAll(".post time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var date = new Date(times[i].getAttribute("datetime"));
      if (isNaN(date.getTime())) { continue; }
      var text = relative(date, now);
      if (times[i].textContent !== text) { times[i].textContent = text; }
    }
  }

  window.setInterval(relativeTimes, 60 * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { relativeTimes(); }
  });

  /* ---------- Avatars: drop Gravatar images that fail, the initials show instead ---------- */

  document.addEventListener("error", function (evt) {
    var el = evt.target;
    if (el && el.classList && el.classList.contains("avatar-img")) { el.remove(); }
  }, true);

  function sweepBrokenAvatars() {
    // Images that failed before this script ran.
    var imgs = document.querySelectorAll("img.avatar-img");
    for (var i = 0; i < imgs.length; i++) {
      if (imgs[i].complete && imgs[i].naturalWidth === 0) { imgs[i].remove(); }
    }
  }

  /* ---------- start ---------- */

  function start() {
    initComposers(document);
    sweepBrokenAvatars();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
