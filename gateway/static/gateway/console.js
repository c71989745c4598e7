// The try-it console of /__doc__/{service}/{version}/: Swagger UI over the served contract,
// whose servers URL is this gateway, so "Try it out" calls go through it with the consumer key
// given to "Authorize". A file, not an inline script, so the page's CSP needs no 'unsafe-inline'.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    showExtensions: true,
    // The spec comes from data-spec-url alone: no ?url= or ?configUrl= from a link.
    queryConfigEnabled: false,
    // No badge fetched from the public validator: nothing leaves this origin.
    validatorUrl: null,
    // A key typed into "Authorize" lives as long as the page, never in localStorage.
    persistAuthorization: false,
  });
})();
