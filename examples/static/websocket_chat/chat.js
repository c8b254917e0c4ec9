// The WebSocket chat client: Tornado's demos/websocket/static/chat.js without jQuery. Messages go
// out over the socket as JSON ({"body": ...}) and every message, ours included, comes back to
// each open page rendered by the server.
"use strict";

(function () {
  var form = document.getElementById("messageform");
  var input = document.getElementById("message");
  var inbox = document.getElementById("inbox");

  var updater = {
    socket: null,

    start: function () {
      // wss:// when the page came over https://, as the demo's TLS mode serves it.
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      updater.socket = new WebSocket(scheme + location.host + "/chatsocket");
      updater.socket.onmessage = function (event) {
        updater.showMessage(JSON.parse(event.data));
      };
      updater.socket.onopen = function () {
        document.body.dataset.socket = "open";
      };
      updater.socket.onclose = function () {
        document.body.dataset.socket = "closed";
      };
    },

    showMessage: function (message) {
      if (document.getElementById("m" + message.id)) {
        return;
      }
      var template = document.createElement("template");
      template.innerHTML = message.html.trim();
      inbox.appendChild(template.content);
    },
  };

  function newMessage() {
    var text = input.value;
    if (!text) {
      return;
    }
    updater.socket.send(JSON.stringify({ body: text }));
    input.value = "";
    input.select();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    newMessage();
  });
  input.select();
  updater.start();
})();
