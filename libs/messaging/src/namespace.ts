/**
 * Prefixes subjects and stream names so several installations (or parallel test files) can
 * share one NATS server without hearing each other.
 */
export class SubjectNamespace {
  constructor(readonly prefix?: string) {}

  subject(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  stream(name: string): string {
    return this.prefix ? `${this.prefix}_${name}` : name;
  }

  durable(name: string): string {
    return this.stream(name);
  }
}
