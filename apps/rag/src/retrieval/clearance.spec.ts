import { clearanceOfRoles, readableClassifications } from './clearance';

describe(clearanceOfRoles.name, () => {
  it.each([
    [['tenant-owner'], 'restricted'],
    [['tenant-admin'], 'restricted'],
    [['developer'], 'confidential'],
    [['analyst'], 'confidential'],
    [['service-account'], 'internal'],
    [['viewer'], 'internal'],
    [['billing'], 'public'],
    [['auditor'], 'public'],
    [[], 'public'],
  ])('gives %j a clearance of %s', (roles, clearance) => {
    expect(clearanceOfRoles(roles)).toBe(clearance);
  });

  it('takes the highest clearance any of the roles gives', () => {
    expect(clearanceOfRoles(['viewer', 'developer', 'billing'])).toBe('confidential');
    expect(clearanceOfRoles(['billing', 'tenant-admin'])).toBe('restricted');
  });

  it('lets a tenant grant clearance by a role named clearance-<level>', () => {
    expect(clearanceOfRoles(['billing', 'clearance-confidential'])).toBe('confidential');
    expect(clearanceOfRoles(['clearance-restricted'])).toBe('restricted');
  });

  it('gives nothing for names that merely look like a clearance', () => {
    expect(clearanceOfRoles(['clearance-top-secret', 'my-clearance-restricted'])).toBe('public');
    expect(clearanceOfRoles(['Tenant-Admin', 'restricted'])).toBe('public');
  });
});

describe(readableClassifications.name, () => {
  it('reads every classification at or under the clearance', () => {
    expect(readableClassifications('public')).toEqual(['public']);
    expect(readableClassifications('confidential')).toEqual(['public', 'internal', 'confidential']);
  });

  it('narrows to those asked for, never widens past the clearance', () => {
    expect(readableClassifications('internal', ['internal', 'restricted'])).toEqual(['internal']);
    expect(readableClassifications('public', ['restricted'])).toEqual([]);
  });
});
