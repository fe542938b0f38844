/* GeriQC page behaviour shared by every page (loaded after htmx and Bootstrap). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function loginUrl() {
    var base = document.body.dataset.loginUrl || "/accounts/login/";
    var next = window.location.pathname + window.location.search;
    return base + "?expired=1&next=" + encodeURIComponent(next);
  }

  // HTMX: send Django's CSRF token with every non-GET request.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  // HTMX: an expired session answers 401 (IdleTimeoutMiddleware); go to the login page instead
  // of leaving a half-updated page behind. Other failures show a short notice.
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 401) {
      window.location.assign(loginUrl());
      return;
    }
    showNotice(document.body.dataset.errorText || "请求失败，请稍后重试。");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showNotice(document.body.dataset.offlineText || "无法连接服务器，请检查网络。");
  });

  function showNotice(text) {
    var box = document.getElementById("page-notices");
    if (!box) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-warning alert-dismissible fade show shadow-sm";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "×");
    alert.appendChild(close);
    box.appendChild(alert);
  }

  // Navigation: mark the entry whose address is the longest prefix of the current page.
  function markActiveNav() {
    var path = window.location.pathname;
    var best = null;
    var bestLength = -1;
    document.querySelectorAll("[data-nav-link]").forEach(function (link) {
      var href = link.getAttribute("href");
      var matches = href === "/" ? path === "/" : path.indexOf(href) === 0;
      if (matches && href.length > bestLength) {
        best = href;
        bestLength = href.length;
      }
    });
    if (best === null) return;
    document.querySelectorAll('[data-nav-link][href="' + best + '"]').forEach(function (link) {
      link.classList.add("active");
      link.setAttribute("aria-current", "page");
      var section = link.closest("[data-nav-section]");
      var toggle = section && section.querySelector(".dropdown-toggle");
      if (toggle) toggle.classList.add("active");
    });
  }

  // Forms marked data-confirm ask before submitting (e.g. starting a long job).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markActiveNav);
  } else {
    markActiveNav();
  }
})();
