import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OPENAPI_DOCUMENT_PATH, generateApiDocument, renderApiDocument } from './openapi.document';

// run from the repository root: `npm run generate:openapi`
void generateApiDocument().then((document) => {
  const target = resolve(OPENAPI_DOCUMENT_PATH);
  writeFileSync(target, renderApiDocument(document));
  console.log(`wrote ${target}`);
});
