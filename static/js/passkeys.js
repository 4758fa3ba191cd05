/* Passkeys: the browser's half of the WebAuthn ceremonies (twofactor/passkey_views.py).
 *
 * Every passkey control is a block marked data-passkey="register|verify|sign-in", hidden in the
 * HTML. This script shows it only where the browser supports passkeys, so without JavaScript (or
 * without WebAuthn) the page is the same as before: the password form, the code form.
 *
 * A ceremony: POST the begin URL, hand its options to navigator.credentials, POST the answer to
 * the complete URL, follow the redirect it answers. Refusals are shown in the block's status line.
 */
(function () {
  "use strict";

  function toBuffer(text) {
    var base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      user: Object.assign({}, options.user, { id: toBuffer(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function answer(credential) {
    var response = credential.response;
    var data = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: { clientDataJSON: toText(response.clientDataJSON) },
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
    if (credential.authenticatorAttachment) data.authenticatorAttachment = credential.authenticatorAttachment;
    if (response.attestationObject) {
      data.response.attestationObject = toText(response.attestationObject);
      data.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      data.response.authenticatorData = toText(response.authenticatorData);
      data.response.signature = toText(response.signature);
      data.response.userHandle = toText(response.userHandle);
    }
    return data;
  }

  function post(block, url, body) {
    var token = block.querySelector("input[name=csrfmiddlewaretoken]");
    return window
      .fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": token ? token.value : "",
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify(body || {}),
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (response.ok) return data;
            var fallback =
              response.status === 429
                ? "Too many failed sign-ins. Wait a while and try again."
                : "Something went wrong. Reload the page and try again.";
            throw new Error(data.error || fallback);
          });
      });
  }

  function browserMessage(error) {
    if (error && error.name === "NotAllowedError") return "The passkey request was cancelled or timed out. Try again.";
    if (error && error.name === "InvalidStateError") return "This passkey is already added to your account.";
    if (error && error.name === "SecurityError") return "Passkeys do not work at this address. Ask your administrator.";
    return (error && error.message) || "Something went wrong. Try again.";
  }

  function run(block, button, extra) {
    var status = block.querySelector("[data-passkey-status]");
    var mode = block.getAttribute("data-passkey");
    var creating = mode === "register";
    button.disabled = true;
    status.textContent = creating ? "Follow your browser's steps to make the passkey…" : "Follow your browser's steps to use your passkey…";
    post(block, block.getAttribute("data-begin-url"))
      .then(function (data) {
        return creating
          ? navigator.credentials.create({ publicKey: creationOptions(data.options) })
          : navigator.credentials.get({ publicKey: requestOptions(data.options) });
      })
      .then(function (credential) {
        var body = Object.assign({ credential: answer(credential), next: block.getAttribute("data-next") || "" }, extra);
        return post(block, block.getAttribute("data-complete-url"), body);
      })
      .then(function (data) {
        status.textContent = creating ? "Passkey added." : "Signed in.";
        window.location.assign(data.redirect);
      })
      .catch(function (error) {
        status.textContent = browserMessage(error);
        button.disabled = false;
      });
  }

  function setUp(block) {
    block.hidden = false;
    var form = block.querySelector("form");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var name = form.querySelector("input[name=name]");
        if (!name.value.trim()) {
          block.querySelector("[data-passkey-status]").textContent = "Give the passkey a name first.";
          name.focus();
          return;
        }
        run(block, form.querySelector("button"), { name: name.value });
      });
    } else {
      var button = block.querySelector("button");
      button.addEventListener("click", function () {
        run(block, button, {});
      });
    }
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    var blocks = document.querySelectorAll("[data-passkey]");
    for (var i = 0; i < blocks.length; i++) setUp(blocks[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
