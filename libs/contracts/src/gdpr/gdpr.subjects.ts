import { subject } from '../subject';
import { GdprServiceData, GdprServiceErasure, GdprServiceRequest } from './gdpr.schema';

/**
 * Scatter-gather subjects: every service that holds personal data answers them (one reply per
 * service, through its queue group), and the audit service gathers the replies.
 */
export const GdprSubjectAccess = subject(
  'gdpr.v1.subject-access',
  GdprServiceRequest,
  GdprServiceData,
);
export const GdprErase = subject('gdpr.v1.erase', GdprServiceRequest, GdprServiceErasure);
