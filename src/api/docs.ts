import { createRequire } from 'node:module';
import path from 'node:path';
import type { OpenApiDocument } from './openapi-parts';
import type { RouteHandler } from './route';

/** The OpenAPI document and Swagger UI's page, both served by the API itself, without any CDN. */

export const openApiPath = '/openapi.json';
export const docsPath = '/docs';
export const docsInitializerPath = `${docsPath}/init.js`;
export const docsAssetsPath = `${docsPath}/assets`;

/** The files of swagger-ui-dist the page loads; nothing else of the package is served. */
export const docsAssets = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'] as const;

const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

function docsPage(title: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="stylesheet" href="${docsAssetsPath}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${docsAssetsPath}/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="${docsAssetsPath}/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${docsAssetsPath}/swagger-ui-bundle.js"></script>
    <script src="${docsInitializerPath}"></script>
  </body>
</html>
`;
}

// validatorUrl null: Swagger UI would otherwise send the document to an online validator.
const docsInitializer = `window.ui = SwaggerUIBundle(${JSON.stringify({
  url: openApiPath,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
})});
`;

/** The page may load only what the API serves, so the docs work offline and leak nothing to third parties. */
const docsContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

/** GET /openapi.json. */
export function openApiDocumentHandler(document: OpenApiDocument): RouteHandler {
  return ({ response }) => {
    response.json(document);
  };
}

/** GET /docs: Swagger UI's page. */
export function docsPageHandler(document: OpenApiDocument): RouteHandler {
  const page = docsPage(document.info.title);
  return ({ response }) => {
    response.setHeader('Content-Security-Policy', docsContentSecurityPolicy);
    response.type('html').send(page);
  };
}

/** GET /docs/init.js: the page's script, which loads the document. */
export const docsInitializerHandler: RouteHandler = ({ response }) => {
  response.type('text/javascript').send(docsInitializer);
};

/** GET /docs/assets/{asset}: one of Swagger UI's files; another name is not found. */
export const docsAssetHandler: RouteHandler = ({ request, response, next }) => {
  const asset = docsAssets.find((name) => name === request.params.asset);
  if (!asset) {
    next();
    return;
  }
  response.sendFile(asset, { root: swaggerUiDir, maxAge: '1h' }, (error) => {
    if (error) next(error);
  });
};
