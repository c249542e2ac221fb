// Starts Swagger UI on the API docs page. A file of its own, not an inline script: the page's
// Content-Security-Policy has no 'unsafe-inline'.
(function () {
  'use strict';
  window.addEventListener('load', function () {
    window.ui = window.SwaggerUIBundle({
      url: '/api/openapi.json',
      dom_id: '#swagger-ui',
      deepLinking: true,
      // Keep the bearer token entered under Authorize across reloads (local storage of this origin).
      persistAuthorization: true,
      tryItOutEnabled: false,
      displayRequestDuration: true,
      displayOperationId: false,
      filter: true,
      showExtensions: true,
      showCommonExtensions: true,
      defaultModelsExpandDepth: 1,
      defaultModelExpandDepth: 2,
      docExpansion: 'list',
      // Nothing is sent elsewhere: no validator badge.
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
      layout: 'BaseLayout'
    });
  });
})();
