// The chat client: posts messages and long-polls for new ones. Tornado's demos/chat/static/chat.js
// without jQuery: fetch() and the DOM.
"use strict";

(function () {
  var form = document.getElementById("messageform");
  var input = document.getElementById("message");
  var inbox = document.getElementById("inbox");

  // The XSRF token of the page's form (xsrf_form_html), sent with every POST.
  function xsrfToken() {
    var field = form.querySelector("input[name=_xsrf]");
    return field ? field.value : "";
  }

  // POSTs `fields` as a form and resolves to the JSON answer.
  function postForm(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("_xsrf", xsrfToken());
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).then(
      function (response) {
        if (!response.ok) {
          throw new Error(url + ": HTTP " + response.status);
        }
        return response.json();
      }
    );
  }

  // Adds a message to the inbox unless it is there already (our own message comes back from
  // the long-poll too).
  function showMessage(message) {
    if (document.getElementById("m" + message.id)) {
      return;
    }
    var template = document.createElement("template");
    template.innerHTML = message.html.trim();
    inbox.appendChild(template.content);
  }

  function newMessage() {
    var text = input.value;
    if (!text) {
      return;
    }
    var submit = form.querySelector("input[type=submit]");
    submit.disabled = true;
    postForm(form.action, { body: text })
      .then(function (message) {
        showMessage(message);
        input.value = "";
      })
      .catch(function (error) {
        console.log("post failed:", error);
      })
      .then(function () {
        submit.disabled = false;
        input.select();
      });
  }

  var updater = {
    errorSleepTime: 500,
    cursor: inbox.dataset.cursor || null,

    poll: function () {
      var args = {};
      if (updater.cursor) {
        args.cursor = updater.cursor;
      }
      postForm("/a/message/updates", args).then(updater.onSuccess, updater.onError);
    },

    onSuccess: function (response) {
      updater.newMessages(response);
      updater.errorSleepTime = 500;
      window.setTimeout(updater.poll, 0);
    },

    onError: function (error) {
      updater.errorSleepTime = Math.min(updater.errorSleepTime * 2, 60000);
      console.log("poll error:", error, "; retrying in", updater.errorSleepTime, "ms");
      window.setTimeout(updater.poll, updater.errorSleepTime);
    },

    newMessages: function (response) {
      var messages = response.messages || [];
      if (messages.length === 0) {
        return;
      }
      updater.cursor = messages[messages.length - 1].id;
      messages.forEach(showMessage);
    },
  };

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    newMessage();
  });
  input.select();
  updater.poll();
})();
