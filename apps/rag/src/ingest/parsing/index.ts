export * from './parsed-document';
export { parseDocument, SUPPORTED_CONTENT_TYPES } from './parse-document';
