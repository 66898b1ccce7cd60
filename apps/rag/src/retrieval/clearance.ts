import { CLASSIFICATIONS, type Classification } from '@lattice/contracts';

/**
 * The highest classification each system role may read. Roles that are not listed clear
 * `public` only; a tenant grants more to a role of its own by naming it `clearance-<level>`
 * (`clearance-confidential`), so clearance is given on purpose, never by accident.
 */
export const ROLE_CLEARANCE: Readonly<Record<string, Classification>> = {
  'tenant-owner': 'restricted',
  'tenant-admin': 'restricted',
  developer: 'confidential',
  analyst: 'confidential',
  'service-account': 'internal',
  viewer: 'internal',
};

const CLEARANCE_ROLE = /^clearance-(public|internal|confidential|restricted)$/;

const level = (c: Classification) => CLASSIFICATIONS.indexOf(c);

/** The highest classification the holder of these roles may read: the most any role gives. */
export function clearanceOfRoles(roles: readonly string[]): Classification {
  let best: Classification = 'public';
  for (const role of roles) {
    const named = CLEARANCE_ROLE.exec(role)?.[1] as Classification | undefined;
    const given = named ?? ROLE_CLEARANCE[role];
    if (given && level(given) > level(best)) best = given;
  }
  return best;
}

/** The classifications a clearance reads, narrowed to those asked for when a filter names some. */
export function readableClassifications(
  clearance: Classification,
  asked?: readonly Classification[],
): Classification[] {
  const within = CLASSIFICATIONS.filter((c) => level(c) <= level(clearance));
  return asked ? within.filter((c) => asked.includes(c)) : within;
}
