import type { ServiceAccess } from './service-access';

/**
 * Subjects allowed; an empty list is spelled as denying everything too, since nats-server
 * reads a missing or empty allow list as no restriction at all.
 */
export interface NatsRule {
  allow: string[];
  deny?: string[];
}

const rule = (subjects: Set<string>): NatsRule =>
  subjects.size > 0 ? { allow: [...subjects].sort() } : { allow: [], deny: ['>'] };

/** One service's rights on the NATS server, as nats-server's `permissions` block spells them. */
export interface NatsPermissions {
  service: string;
  publish: NatsRule;
  subscribe: NatsRule;
  /** It may answer the requests it received (on their reply subjects), and nothing more. */
  allow_responses?: boolean;
}

export interface NatsPermissionsDocument {
  users: NatsPermissions[];
}

/** Where callers hear their replies (nats.js's inbox prefix). */
export const REPLY_INBOXES = '_INBOX.>';

/**
 * The subjects, streams and durables of one installation, as `SubjectNamespace` prefixes
 * them (`<ns>.subject`, `<ns>_STREAM`, `<ns>_durable`).
 */
class Names {
  constructor(private readonly prefix?: string) {}
  subject = (name: string) => (this.prefix ? `${this.prefix}.${name}` : name);
  stream = (name: string) => (this.prefix ? `${this.prefix}_${name}` : name);
}

/**
 * The least a service needs to do what it declares. Request/reply: the handler subscribes to
 * its subjects in its own queue group and may answer what it received; the caller publishes
 * the subject and hears its inbox. JetStream: publishers publish the message's subject (the
 * ack comes to their inbox); whoever creates a stream may read and change that stream only;
 * a consumer may create, read, pull from and ack its own durable only.
 */
export function natsPermissions(access: ServiceAccess, namespace?: string): NatsPermissions {
  const n = new Names(namespace);
  const publish = new Set<string>();
  const subscribe = new Set<string>();
  let jetStream = false;

  for (const rpc of access.handles) subscribe.add(`${n.subject(rpc.subject)} ${access.service}`);
  for (const rpc of access.calls) publish.add(n.subject(rpc.subject));
  for (const event of access.emits) publish.add(n.subject(event.filter));
  for (const event of access.listens) subscribe.add(n.subject(event.filter));
  for (const message of access.publishes) publish.add(n.subject(message.filter));
  for (const stream of access.streams) {
    jetStream = true;
    const name = n.stream(stream.name);
    for (const op of ['INFO', 'CREATE', 'UPDATE']) publish.add(`$JS.API.STREAM.${op}.${name}`);
  }
  for (const { contract, durable } of access.consumes) {
    jetStream = true;
    const target = `${n.stream(contract.stream.name)}.${n.stream(durable)}`;
    publish.add(`$JS.API.CONSUMER.INFO.${target}`);
    publish.add(`$JS.API.CONSUMER.CREATE.${target}`);
    publish.add(`$JS.API.CONSUMER.CREATE.${target}.>`);
    publish.add(`$JS.API.CONSUMER.DURABLE.CREATE.${target}`);
    publish.add(`$JS.API.CONSUMER.MSG.NEXT.${target}`);
    publish.add(`$JS.ACK.${target}.>`);
  }
  if (access.inspectsConsumers) {
    jetStream = true;
    publish.add('$JS.API.CONSUMER.INFO.*.*');
  }
  // a JetStream client asks the account's limits first
  if (jetStream) publish.add('$JS.API.INFO');
  if (jetStream || access.calls.length > 0 || access.publishes.length > 0) {
    subscribe.add(REPLY_INBOXES);
  }

  return {
    service: access.service,
    publish: rule(publish),
    subscribe: rule(subscribe),
    ...(access.handles.length > 0 ? { allow_responses: true } : {}),
  };
}

/** Every service's rights, in the order declared: the document the chart and launcher use. */
export function natsPermissionsDocument(
  services: readonly ServiceAccess[],
  namespace?: string,
): NatsPermissionsDocument {
  const seen = new Set<string>();
  for (const { service } of services) {
    if (seen.has(service)) throw new Error(`the service ${service} is declared twice`);
    seen.add(service);
  }
  return { users: services.map((access) => natsPermissions(access, namespace)) };
}
