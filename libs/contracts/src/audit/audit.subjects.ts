import { z } from 'zod';
import { subject } from '../subject';
import {
  AuditEventPage,
  AuditHealth,
  ChainReport,
  ConsentPage,
  ConsentView,
  ExportAuditEventsPage,
  ListAuditEventsQuery,
  ListConsentsQuery,
  RecordConsentRequest,
  VerifyChainRequest,
} from './audit.schema';
import { GdprAccessDocument, GdprErasureReport, GdprSubjectRequest } from '../gdpr/gdpr.schema';

export const AuditQuery = subject('audit.v1.query', ListAuditEventsQuery, AuditEventPage);
export const AuditExportPage = subject(
  'audit.v1.export.page',
  ExportAuditEventsPage,
  AuditEventPage,
);
export const AuditVerify = subject('audit.v1.verify', VerifyChainRequest, ChainReport);
export const AuditConsentsRecord = subject(
  'audit.v1.consents.record',
  RecordConsentRequest,
  ConsentView,
);
export const AuditConsentsList = subject('audit.v1.consents.list', ListConsentsQuery, ConsentPage);
/** Gathers what every service holds about a subject into one document. */
export const AuditGdprAccess = subject(
  'audit.v1.gdpr.access',
  GdprSubjectRequest,
  GdprAccessDocument,
);
/** Erases a subject's personal data in every service, the audit trail included. */
export const AuditGdprErase = subject('audit.v1.gdpr.erase', GdprSubjectRequest, GdprErasureReport);
export const AuditHealthCheck = subject('audit.v1.health', z.object({}).strict(), AuditHealth);
