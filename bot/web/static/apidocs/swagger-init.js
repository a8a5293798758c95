// Starts Swagger UI on the /docs page. A file rather than an inline script, so the page runs under the server's
// Content-Security-Policy (script-src 'self'). Its settings come from the data- attributes of #swagger-ui.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    filter: true, // a box that narrows the operations by tag (ReDoc's own search is off: see bot/web/apidocs.py)
    showExtensions: true,
    showCommonExtensions: true,
    // The default asks an online validator for a badge image: offline it fails, and the policy forbids it.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
