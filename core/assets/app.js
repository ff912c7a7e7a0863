/* Posthaste — small progressive enhancements. The site works without this file.
   No dependencies; cooperates with htmx when it is present. */
(function () {
  "use strict";

  var DRAFT_PREFIX = "posthaste:draft:";
  var PENDING_KEY = "posthaste:pending-submit";
  var NEW_POST_MS = 2400;

  // Forms whose text is kept as a draft in localStorage (edit forms are not: the saved text
  // is the reference there, and restoring an old edit over newer text would be wrong).
  var DRAFT_FORMS = "form.composer, form.reply-form";
  // Forms whose unsaved text makes leaving the page ask first.
  var TRACKED_FORMS = "form.composer, form.reply-form, form.edit-form";
  // Forms that Ctrl/Cmd+Enter submits.
  var SHORTCUT_FORMS = "form.composer, form.js-shortcut-submit";

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

  function closestOf(el, selector) {
    return el && el.closest ? el.closest(selector) : null;
  }
  function is(el, selector) {
    return !!(el && el.matches && el.matches(selector));
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
  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  // Focus a textarea with the cursor after its text.
  function focusEnd(textarea) {
    if (!textarea) { return; }
    textarea.focus();
    var n = textarea.value.length;
    try { textarea.setSelectionRange(n, n); } catch (e) { /* not a text control */ }
  }

  // Focus an element that is not normally focusable (a reply, a thread), without scrolling.
  function focusBlock(el) {
    if (!el) { return; }
    if (!el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "-1"); }
    try { el.focus({ preventScroll: true }); } catch (e) { el.focus(); }
  }

  function scrollIntoViewIfNeeded(el) {
    var r = el.getBoundingClientRect();
    var h = window.innerHeight || document.documentElement.clientHeight;
    if (r.top >= 0 && r.bottom <= h) { return; }
    el.scrollIntoView({ block: r.height > h ? "start" : "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
  }

  // The item (post or reply) an element belongs to, and one of that item's own action links.
  function itemOf(el) {
    return closestOf(el, ".reply, .post");
  }
  function itemAction(item, cls) {
    if (!item) { return null; }
    var scope = item.classList.contains("reply") ? ":scope > .reply-main > .item-actions " : ":scope > .item-actions ";
    try { return item.querySelector(scope + cls); } catch (e) { return item.querySelector(cls); }
  }

  // Text a form sent that the server has not answered yet (or that was saved): leaving the
  // page with exactly that text does not need a warning.
  function markSubmitted(form, value) { form.phSubmitted = value; }
  function submittedText(form) { return form.phSubmitted === undefined ? null : form.phSubmitted; }

  /* ---------- Ctrl/Cmd+Enter submits the composer, reply and edit forms ---------- */

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter" || !(evt.ctrlKey || evt.metaKey) || evt.isComposing) { return; }
    var target = evt.target;
    if (!target || target.tagName !== "TEXTAREA") { return; }
    var form = closestOf(target, SHORTCUT_FORMS);
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

  function initDraftForm(form) {
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

  function initDraftForms(root) {
    var scope = root || document;
    if (is(scope, DRAFT_FORMS)) { initDraftForm(scope); }
    var forms = scope.querySelectorAll(DRAFT_FORMS);
    for (var i = 0; i < forms.length; i++) { initDraftForm(forms[i]); }
  }

  document.addEventListener("input", function (evt) {
    if (!evt.target || evt.target.tagName !== "TEXTAREA") { return; }
    var form = closestOf(evt.target, DRAFT_FORMS);
    if (!form) { return; }
    var key = draftKey(form);
    if (!key) { return; }
    if (evt.target.value.trim() === "") {
      del(local, key);
    } else {
      set(local, key, evt.target.value);
    }
  });

  document.addEventListener("submit", function (evt) {
    var form = closestOf(evt.target, TRACKED_FORMS);
    if (!form) { return; }
    var textarea = bodyOf(form);
    markSubmitted(form, textarea ? textarea.value : null);
    if (is(form, DRAFT_FORMS)) {
      var key = draftKey(form);
      if (key) { set(session, PENDING_KEY, key); }
    }
  });

  function isDirty(form) {
    var textarea = bodyOf(form);
    if (!textarea) { return false; }
    var value = textarea.value;
    if (value === submittedText(form)) { return false; }
    if (form.classList.contains("edit-form")) {
      return value !== textarea.defaultValue; // changed from the text it was opened with
    }
    return value.trim() !== "";
  }

  window.addEventListener("beforeunload", function (evt) {
    var forms = document.querySelectorAll(TRACKED_FORMS);
    for (var i = 0; i < forms.length; i++) {
      if (isDirty(forms[i])) {
        evt.preventDefault();
        evt.returnValue = ""; // older browsers need this to show the prompt
        return "";
      }
    }
    return undefined;
  });

  /* ---------- Inline reply forms: Cancel ---------- */

  document.addEventListener("click", function (evt) {
    var button = closestOf(evt.target, ".js-cancel-reply");
    if (!button) { return; }
    var form = closestOf(button, "form");
    if (!form) { return; }
    evt.preventDefault();
    var key = draftKey(form);
    if (key) { del(local, key); }
    var item = itemOf(form);
    form.remove();
    var reply = itemAction(item, ".action-reply");
    if (reply) { reply.focus(); }
  });

  /* ---------- Failures of links and buttons (not forms): a short message ---------- */

  var toastTimer = null;
  function toast(message) {
    var box = document.getElementById("ph-toast");
    if (!box) {
      box = document.createElement("div");
      box.id = "ph-toast";
      box.className = "toast";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.textContent = message;
    box.classList.add("is-visible");
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { box.classList.remove("is-visible"); }, 6000);
  }

  function failureText(status, what) {
    if (status === 0) { return "Could not reach the server. " + what; }
    if (status === 401 || status === 403) { return "Your session may have expired. Reload the page and sign in again."; }
    if (status === 404) { return "That item no longer exists. Reload the page to see the current state."; }
    if (status >= 500) { return "Something went wrong on the server (" + status + "). " + what; }
    return "That did not work (error " + status + "). " + what;
  }

  /* ---------- htmx integration ---------- */

  function requestElt(detail) {
    return (detail && detail.requestConfig && detail.requestConfig.elt) || (detail && detail.elt) || null;
  }

  function showError(form, message) {
    var box = errorBoxOf(form);
    if (box) { box.textContent = message; }
  }

  // What to focus once the response of a request is in the page.
  var pendingFocus = null; // { id: element id that will be swapped in, then: function(el) }

  // Send the CSRF token as a header too, for htmx requests that are not forms.
  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content && evt.detail && evt.detail.headers) {
      evt.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var detail = evt.detail || {};
    var elt = detail.elt;
    var target = detail.target;
    if (!elt || !elt.matches) { return; }

    // "Reply" again while its form is open: keep the form (and its text), focus it. The same
    // form may also be open elsewhere: on a permalink page the box at the bottom answers the
    // post (or the ?reply_to item) and has the id the inline form would get; use that one.
    if (is(elt, ".action-reply") && target && target.querySelector) {
      var open = target.querySelector("form.reply-form") ||
        (target.id ? document.getElementById(target.id.replace(/^reply-slot-/, "reply-form-")) : null);
      if (open && is(open, "form.reply-form")) { evt.preventDefault(); focusEnd(bodyOf(open)); return; }
    }
    if (is(elt, ".action-edit") && is(target, "form.edit-form")) {
      evt.preventDefault(); focusEnd(bodyOf(target)); return;
    }

    // Saving or cancelling an edit puts the content back: focus goes to the item's Edit link.
    var editForm = closestOf(elt, "form.edit-form");
    if (editForm && editForm.id) {
      var item = itemOf(editForm);
      pendingFocus = {
        id: editForm.id,
        then: function () {
          var link = itemAction(item, ".action-edit");
          if (link) { link.focus({ preventScroll: true }); }
        }
      };
      return;
    }

    // "Show all N replies": the link goes away; focus the first reply of the full thread.
    if (is(elt, ".show-all") && target && target.id) {
      pendingFocus = {
        id: target.id,
        then: function (section) { focusBlock(section.querySelector(".reply-main") || section); }
      };
    }
  });

  // 422 from a form = validation message; the server retargets it (error box or the whole form).
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var detail = evt.detail;
    if (!detail || !detail.xhr || detail.xhr.status !== 422) { return; }
    var elt = requestElt(detail);
    if (!elt || !(elt.tagName === "FORM" || closestOf(elt, "form"))) { return; }
    detail.shouldSwap = true;
    detail.isError = false;
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var detail = evt.detail;
    var elt = requestElt(detail);
    var status = detail && detail.xhr ? detail.xhr.status : 0;

    if (!is(elt, TRACKED_FORMS)) {
      // A link or button (Reply, Edit, Delete, Cancel, Show all): say so when it failed.
      if (elt && !isOk(status) && evt.target === elt && closestOf(elt, ".item-actions, .edit-form, .replies")) {
        pendingFocus = null;
        toast(failureText(status, "Please try again."));
      }
      return;
    }
    var form = elt;
    // Once per request: from the form itself, or (when the swap replaced the form, as a saved
    // edit does) from the nearest ancestor still in the page, which is where htmx sends it.
    if (form.isConnected && evt.target !== form) { return; }

    var textarea = bodyOf(form);
    var key = is(form, DRAFT_FORMS) ? draftKey(form) : null;
    del(session, PENDING_KEY); // no page reload happens on the htmx path

    if (isOk(status)) {
      if (key) { del(local, key); }
      if (form.classList.contains("reply-form")) {
        var hadFocus = form.contains(document.activeElement);
        if (closestOf(form, ".reply-slot")) {
          form.remove();
        } else {
          if (textarea) { textarea.value = ""; }
          showError(form, "");
        }
        markSubmitted(form, null);
        markNewReply(detail.target, hadFocus);
      } else if (form.classList.contains("composer")) {
        if (textarea) { textarea.value = ""; }
        showError(form, "");
        markSubmitted(form, null);
        markNewPost(detail.target);
      } else {
        markSubmitted(form, null); // edit saved: the content block replaced the form
      }
      relativeTimes();
      return;
    }

    markSubmitted(form, null); // the text was not saved: asking before leaving applies again
    if (status === 422 || !form.isConnected) { return; } // the server's message is in the page
    var what = form.classList.contains("edit-form") ? "save" : form.classList.contains("reply-form") ? "send the reply" : "post";
    if (status === 0) {
      showError(form, "Could not reach the server. Your text is still here, try again in a moment.");
    } else if (status >= 500) {
      showError(form, "Something went wrong on the server (" + status + "). Your text is still here, please try again.");
    } else if (status === 401 || status === 403) {
      showError(form, is(form, DRAFT_FORMS)
        ? "Your session may have expired. Reload the page and sign in again; your text is kept as a draft."
        : "Your session may have expired. Copy your text, then reload the page and sign in again.");
    } else if (status === 404) {
      showError(form, "Could not " + what + ": this item no longer exists. Copy your text before reloading.");
    } else {
      showError(form, "Could not " + what + " (error " + status + "). Your text is still here.");
    }
  });

  function flash(el) {
    el.classList.remove("is-new");
    void el.offsetWidth; // restart the animation if it is running
    el.classList.add("is-new");
    window.setTimeout(function () { el.classList.remove("is-new"); }, NEW_POST_MS);
  }

  function markNewPost(container) {
    if (!container || !container.querySelector) { return; }
    var post = container.querySelector(".post");
    if (post) { flash(post); }
  }

  // The reply the server just appended to `container` (its last .reply child).
  function markNewReply(container, takeFocus) {
    if (!container || !container.lastElementChild) { return; }
    var reply = container.lastElementChild;
    while (reply && !reply.classList.contains("reply")) { reply = reply.previousElementSibling; }
    if (!reply) { return; }
    flash(reply);
    var active = document.activeElement;
    if (takeFocus || !active || active === document.body) {
      focusBlock(reply.querySelector(".reply-main") || reply);
    }
    scrollIntoViewIfNeeded(reply);
  }

  // Content added by htmx: reply and edit forms get their draft and the focus.
  document.addEventListener("htmx:load", function (evt) {
    var el = evt.target;
    if (!el || !el.querySelectorAll) { return; }
    initDraftForms(el);
    if (is(el, "form.reply-form, form.edit-form")) {
      pendingFocus = null;
      focusEnd(bodyOf(el));
      return;
    }
    if (pendingFocus && el.id && el.id === pendingFocus.id) {
      var then = pendingFocus.then;
      pendingFocus = null;
      then(el);
    }
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
    var times = document.querySelectorAll(".post time[datetime], .reply time[datetime]");
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

  /* ---------- @-mention autocomplete in the posting, reply and edit boxes ---------- */

  // After `@` and one name character (the `@` at the start or after a space or opening
  // punctuation, as the server decides what is a mention), a list of matching members shows
  // under the caret: arrows move, Enter or Tab inserts `@username `, Escape closes, a click or
  // tap inserts. Suggestions come from /api/members (debounced, cached per prefix).
  var MENTION_FIELDS = "form.composer textarea, form.reply-form textarea, form.edit-form textarea";
  var MENTION_MAX = 30; // longest username
  var MENTION_LIMIT = 8; // the API's maximum number of results
  var MENTION_DEBOUNCE_MS = 120;
  // `@` + a partial name ending at the caret, after the start or whitespace/opening punctuation.
  var MENTION_BEFORE = /(?:^|[\s(\[{"'\u201c\u2018\u00ab,;!?*~>\u00a1\u00bf])@([A-Za-z0-9_]{1,30})$/;
  var NAME_RUN = /^[A-Za-z0-9_]*/;

  var mention = {
    list: null,      // the ul[role=listbox] (one for the page, moved next to the active box)
    status: null,    // a polite live region: "3 suggestions"
    field: null,     // the textarea being completed
    tok: null,       // { start, end, query } of the `@name` at the caret
    items: [],       // [{ username, display_name }] shown
    active: -1,      // index of the highlighted option
    timer: 0,
    seq: 0,          // request counter: only the latest answer counts
    abort: null,
    dismissed: null, // { field, start }: Escape closed the list for that `@`
    cache: {},       // lowercase prefix -> results
    cached: 0,
    announced: ""
  };

  function isMentionField(el) {
    return !!(el && el.tagName === "TEXTAREA" && is(el, MENTION_FIELDS));
  }

  function ensureMentionList() {
    if (mention.list) { return mention.list; }
    var list = document.createElement("ul");
    list.id = "ph-mention-list";
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People to mention");
    list.hidden = true;
    // Keep the focus (and the caret) in the textarea when an option is pressed.
    list.addEventListener("mousedown", function (evt) { evt.preventDefault(); });
    list.addEventListener("click", function (evt) {
      var option = closestOf(evt.target, "[role=option]");
      if (!option) { return; }
      evt.preventDefault();
      chooseMention(Number(option.getAttribute("data-index")));
    });
    list.addEventListener("mousemove", function (evt) {
      var option = closestOf(evt.target, "[role=option]");
      if (option) { setActiveMention(Number(option.getAttribute("data-index")), false); }
    });
    document.body.appendChild(list);
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    document.body.appendChild(status);
    mention.list = list;
    mention.status = status;
    return list;
  }

  function prepareMentionField(field) {
    ensureMentionList();
    if (field.getAttribute("aria-autocomplete") === "list") { return; }
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", mention.list.id);
    field.setAttribute("aria-expanded", "false");
  }

  function mentionOpen() {
    return !!(mention.list && !mention.list.hidden && mention.field);
  }

  // Whether `pos` is inside a code span (odd number of backticks before it on its line) or a
  // fenced code block (odd number of fence lines before it): no mentions there.
  function inCode(value, pos) {
    var before = value.slice(0, pos);
    var line = before.slice(before.lastIndexOf("\n") + 1);
    if ((line.match(/`/g) || []).length % 2 === 1) { return true; }
    var fences = before.match(/^[ \t]{0,3}(```|~~~)/gm);
    return !!fences && fences.length % 2 === 1;
  }

  // The `@name` the caret is in or right after, or null.
  function mentionToken(field) {
    var caret = field.selectionStart;
    if (caret === null || caret !== field.selectionEnd) { return null; }
    var value = field.value;
    var m = MENTION_BEFORE.exec(value.slice(Math.max(0, caret - 40), caret));
    if (!m) { return null; }
    var rest = NAME_RUN.exec(value.slice(caret))[0];
    if (m[1].length + rest.length > MENTION_MAX) { return null; }
    var start = caret - m[1].length - 1;
    if (value.charAt(caret + rest.length) === "@" || inCode(value, start)) { return null; }
    return { start: start, end: caret + rest.length, query: m[1] };
  }

  // The same test as the server: username prefix, or display-name (word) prefix.
  function memberMatches(member, key) {
    var name = String(member.display_name || "").toLowerCase();
    return String(member.username || "").toLowerCase().indexOf(key) === 0 ||
      name.indexOf(key) === 0 || name.indexOf(" " + key) !== -1;
  }

  // Results for `key` without asking the server: cached for it, or narrowed down from a
  // shorter prefix whose answer was complete (fewer than the limit).
  function knownMembers(key) {
    if (Object.prototype.hasOwnProperty.call(mention.cache, key)) { return mention.cache[key]; }
    for (var n = key.length - 1; n >= 1; n--) {
      var shorter = mention.cache[key.slice(0, n)];
      if (shorter && shorter.length < MENTION_LIMIT) {
        return shorter.filter(function (m) { return memberMatches(m, key); });
      }
    }
    return null;
  }

  function cacheMembers(key, members) {
    if (mention.cached > 200) { mention.cache = {}; mention.cached = 0; }
    mention.cache[key] = members;
    mention.cached++;
  }

  function cancelMentionFetch() {
    window.clearTimeout(mention.timer);
    mention.timer = 0;
    mention.seq++;
    if (mention.abort) { try { mention.abort.abort(); } catch (e) { /* ignore */ } mention.abort = null; }
  }

  function hideMentionList() {
    var list = mention.list;
    if (list && !list.hidden) {
      list.hidden = true;
      list.textContent = "";
    }
    mention.items = [];
    mention.active = -1;
    mention.announced = "";
    if (mention.field) {
      mention.field.setAttribute("aria-expanded", "false");
      mention.field.removeAttribute("aria-activedescendant");
    }
  }

  function closeMentions() {
    cancelMentionFetch();
    hideMentionList();
    mention.tok = null;
  }

  function fetchMembers(field, key) {
    cancelMentionFetch();
    if (typeof window.fetch !== "function") { return; }
    var seq = mention.seq;
    mention.timer = window.setTimeout(function () {
      mention.timer = 0;
      var controller = typeof window.AbortController === "function" ? new window.AbortController() : null;
      mention.abort = controller;
      window.fetch("/api/members?q=" + encodeURIComponent(key), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (res) {
        if (!res.ok) { throw new Error("status " + res.status); }
        return res.json();
      }).then(function (data) {
        var members = Array.isArray(data) ? data.filter(function (m) {
          return m && typeof m.username === "string" && m.username !== "";
        }) : [];
        cacheMembers(key, members);
        if (seq !== mention.seq || mention.field !== field || !mention.tok) { return; } // stale
        if (mention.tok.query.toLowerCase() !== key) { return; }
        mention.abort = null;
        renderMentions(members);
      }).catch(function () {
        if (seq === mention.seq) { mention.abort = null; hideMentionList(); }
      });
    }, MENTION_DEBOUNCE_MS);
  }

  // Looks at the text around the caret. Typing (`typed`) may open the list; moving the caret
  // only updates or closes a list that is open (or about to be).
  function updateMentions(field, typed) {
    var tok = mentionToken(field);
    if (!tok) {
      if (mention.field === field || typed) { closeMentions(); }
      if (typed) { mention.dismissed = null; }
      return;
    }
    if (typed) {
      mention.dismissed = null;
    } else {
      var busy = mention.field === field && mention.tok && (mentionOpen() || mention.timer || mention.abort);
      if (!busy) { return; }
      if (mention.tok.start !== tok.start) { closeMentions(); return; }
    }
    if (mention.field && mention.field !== field) { closeMentions(); }
    mention.field = field;
    mention.tok = tok;
    prepareMentionField(field);
    var key = tok.query.toLowerCase();
    var known = knownMembers(key);
    if (known) {
      cancelMentionFetch();
      renderMentions(known);
      return;
    }
    // While the answer is on its way, keep showing the earlier names that still match.
    if (mentionOpen()) {
      renderMentions(mention.items.filter(function (m) { return memberMatches(m, key); }));
    }
    fetchMembers(field, key);
  }

  function renderMentions(members) {
    var field = mention.field;
    var list = ensureMentionList();
    if (!field || !field.isConnected || !mention.tok || members.length === 0) {
      hideMentionList();
      return;
    }
    var previous = mention.items[mention.active];
    var active = 0;
    list.textContent = "";
    for (var i = 0; i < members.length; i++) {
      var m = members[i];
      if (previous && previous.username === m.username) { active = i; }
      var li = document.createElement("li");
      li.id = "ph-mention-" + i;
      li.className = "mention-option";
      li.setAttribute("role", "option");
      li.setAttribute("data-index", String(i));
      li.setAttribute("aria-selected", "false");
      var name = document.createElement("span");
      name.className = "mention-name";
      name.textContent = m.display_name || m.username;
      var handle = document.createElement("span");
      handle.className = "mention-handle";
      handle.textContent = "@" + m.username;
      li.appendChild(name);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(handle);
      list.appendChild(li);
    }
    mention.items = members.slice();
    list.hidden = false;
    field.setAttribute("aria-expanded", "true");
    setActiveMention(active, true);
    positionMentionList();
    var say = members.length === 1 ? "1 suggestion: " + (members[0].display_name || members[0].username)
      : members.length + " suggestions";
    if (say !== mention.announced) {
      mention.announced = say;
      mention.status.textContent = say + ". Up and down arrows to choose, Enter to insert.";
    }
  }

  function setActiveMention(index, scroll) {
    var list = mention.list;
    var n = mention.items.length;
    if (!list || n === 0) { return; }
    index = ((index % n) + n) % n;
    mention.active = index;
    var options = list.children;
    for (var i = 0; i < options.length; i++) {
      var on = i === index;
      options[i].setAttribute("aria-selected", on ? "true" : "false");
      options[i].classList.toggle("is-active", on);
    }
    var option = options[index];
    if (mention.field && option) { mention.field.setAttribute("aria-activedescendant", option.id); }
    if (scroll && option) {
      // Scroll the list only (scrollIntoView could move the page).
      if (option.offsetTop < list.scrollTop) {
        list.scrollTop = option.offsetTop;
      } else if (option.offsetTop + option.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = option.offsetTop + option.offsetHeight - list.clientHeight;
      }
    }
  }

  // Where the `@` of the token is drawn, in viewport coordinates: a hidden copy of the
  // textarea's text up to it, with the same font, padding and wrapping.
  var MIRROR_PROPS = ["boxSizing", "fontFamily", "fontSize", "fontStyle", "fontVariant", "fontWeight",
    "fontStretch", "lineHeight", "letterSpacing", "wordSpacing", "textTransform", "textIndent",
    "tabSize", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "direction"];
  function caretBox(field, pos) {
    var cs = window.getComputedStyle(field);
    var mirror = document.createElement("div");
    for (var i = 0; i < MIRROR_PROPS.length; i++) {
      mirror.style[MIRROR_PROPS[i]] = cs[MIRROR_PROPS[i]];
    }
    mirror.style.position = "absolute";
    mirror.style.visibility = "hidden";
    mirror.style.top = "0";
    mirror.style.left = "-9999px";
    mirror.style.boxSizing = "border-box";
    mirror.style.border = "0";
    mirror.style.width = field.clientWidth + "px"; // padding box, without a scrollbar
    mirror.style.whiteSpace = "pre-wrap";
    mirror.style.overflowWrap = "break-word";
    mirror.style.overflow = "hidden";
    mirror.textContent = field.value.slice(0, pos);
    var mark = document.createElement("span");
    mark.textContent = field.value.slice(pos, pos + 1) || "@";
    mirror.appendChild(mark);
    document.body.appendChild(mirror);
    var top = mark.offsetTop;
    var left = mark.offsetLeft;
    var height = mark.offsetHeight;
    mirror.remove();
    var r = field.getBoundingClientRect();
    var bt = parseFloat(cs.borderTopWidth) || 0;
    var bl = parseFloat(cs.borderLeftWidth) || 0;
    // The span's box is the font's height; the line box is the line-height, centred on it.
    var line = parseFloat(cs.lineHeight) || height;
    return {
      top: r.top + bt + top - (line - height) / 2 - field.scrollTop,
      left: r.left + bl + left - field.scrollLeft,
      height: line
    };
  }

  function positionMentionList() {
    var list = mention.list;
    var field = mention.field;
    if (!mentionOpen() || !mention.tok) { return; }
    if (!field.isConnected) { closeMentions(); return; }
    var r = field.getBoundingClientRect();
    var vv = window.visualViewport;
    var viewTop = vv ? vv.offsetTop : 0;
    var viewBottom = vv ? vv.offsetTop + vv.height : window.innerHeight;
    var viewWidth = document.documentElement.clientWidth || window.innerWidth;
    var narrow = !!(window.matchMedia && window.matchMedia("(max-width: 560px)").matches);
    var caret = caretBox(field, mention.tok.start);
    // Keep the line inside the box even when the text is scrolled.
    var lineTop = Math.min(Math.max(caret.top, r.top), r.bottom - caret.height);
    var left;
    if (narrow) {
      // Phones: as wide as the box, under the line being typed.
      list.style.width = r.width + "px";
      left = r.left;
    } else {
      list.style.width = "";
      var width = list.offsetWidth;
      var maxLeft = Math.min(r.right, viewWidth - 8) - width;
      left = Math.max(Math.min(caret.left - 12, maxLeft), Math.min(r.left, maxLeft));
      left = Math.max(left, 8);
    }
    var height = list.offsetHeight;
    var top = lineTop + caret.height + 4;
    // Phones: a list as wide as the box would hide its bottom edge a few pixels under the
    // line; when the line is near the bottom, open right under the box instead.
    if (narrow && r.bottom - top < 3 * caret.height) { top = r.bottom + 4; }
    if (top + height > viewBottom && lineTop - 4 - height >= viewTop) {
      top = lineTop - 4 - height; // no room below (e.g. a phone's keyboard): above the line
    }
    list.style.left = Math.round(left + window.scrollX) + "px";
    list.style.top = Math.round(top + window.scrollY) + "px";
  }

  function insertIntoField(field, start, end, text) {
    field.focus();
    field.setSelectionRange(start, end);
    var done = false;
    try {
      // Goes through the browser's editing (undo works) and fires "input" itself.
      done = document.execCommand("insertText", false, text) &&
        field.value.slice(start, start + text.length) === text;
    } catch (e) { done = false; }
    if (!done) {
      field.value = field.value.slice(0, start) + text + field.value.slice(end);
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function chooseMention(index) {
    var field = mention.field;
    var member = mention.items[index];
    var tok = field && mentionToken(field);
    if (!member || !tok) { closeMentions(); return; }
    var text = "@" + member.username;
    var next = field.value.charAt(tok.end);
    if (next !== " ") { text += " "; }
    closeMentions();
    insertIntoField(field, tok.start, tok.end, text);
    var caret = tok.start + text.length + (next === " " ? 1 : 0);
    field.setSelectionRange(caret, caret);
    closeMentions(); // the "input" of the insertion may have looked again
  }

  document.addEventListener("keydown", function (evt) {
    if (!mentionOpen() || evt.target !== mention.field || evt.isComposing) { return; }
    var plain = !evt.ctrlKey && !evt.metaKey && !evt.altKey;
    switch (evt.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (!plain || evt.shiftKey) { return; }
        evt.preventDefault();
        setActiveMention(mention.active + (evt.key === "ArrowDown" ? 1 : -1), true);
        return;
      case "Enter":
        if (!plain || evt.shiftKey) { closeMentions(); return; } // Ctrl+Enter still submits
        evt.preventDefault();
        chooseMention(mention.active);
        return;
      case "Tab":
        if (!plain || evt.shiftKey) { return; }
        evt.preventDefault();
        chooseMention(mention.active);
        return;
      case "Escape":
        evt.preventDefault();
        mention.dismissed = { field: mention.field, start: mention.tok ? mention.tok.start : -1 };
        closeMentions();
        return;
    }
  }, true);

  document.addEventListener("input", function (evt) {
    if (isMentionField(evt.target)) { updateMentions(evt.target, true); }
  });

  document.addEventListener("keyup", function (evt) {
    if (!isMentionField(evt.target) || evt.isComposing) { return; }
    var k = evt.key;
    if ((k === "ArrowUp" || k === "ArrowDown") && mentionOpen()) { return; }
    if (k === "ArrowLeft" || k === "ArrowRight" || k === "ArrowUp" || k === "ArrowDown" ||
        k === "Home" || k === "End" || k === "PageUp" || k === "PageDown") {
      updateMentions(evt.target, false);
    }
  });

  document.addEventListener("click", function (evt) {
    if (isMentionField(evt.target)) { updateMentions(evt.target, false); }
  });

  document.addEventListener("focusin", function (evt) {
    if (isMentionField(evt.target)) { prepareMentionField(evt.target); }
  });

  document.addEventListener("focusout", function (evt) {
    if (evt.target === mention.field) { closeMentions(); }
  });

  document.addEventListener("submit", function () { closeMentions(); }, true);
  document.addEventListener("htmx:beforeRequest", function () { if (mentionOpen()) { closeMentions(); } });

  window.addEventListener("resize", function () { if (mentionOpen()) { positionMentionList(); } });
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", function () { if (mentionOpen()) { positionMentionList(); } });
  }

  /* ---------- start ---------- */

  function start() {
    initDraftForms(document);
    // The full-page edit form (no JavaScript needed) autofocuses its textarea: cursor at the end.
    var editing = document.querySelector("form.edit-form textarea[autofocus]");
    var current = document.activeElement;
    if (editing && (!current || current === document.body || current === editing)) { focusEnd(editing); }
    sweepBrokenAvatars();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
