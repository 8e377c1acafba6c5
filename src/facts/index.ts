/** Reusable facts: each is a POSIX sh command plus a pure parser (see src/core/module.ts). */
export { keys, normPath, unitName, debName } from './keys.js';
export { stat, type StatFact, type PathType } from './stat.js';
export { fileContent, sha256, decodeUtf8, CONTENT_LIMIT, type FileContentFact } from './file-content.js';
export { debPackage, debPackages, aptCandidate, aptCacheAge, type DebPackageFact, type AptCandidateFact, type AptCacheFact } from './deb.js';
export { systemdUnit, ENABLED_STATES, type SystemdUnitFact } from './systemd.js';
export { sysvService, type SysvServiceFact } from './sysv.js';
export { user, type UserFact } from './user.js';
export { group, type GroupFact } from './group.js';
export { authorizedKeys, type AuthorizedKeysFact, type PathAttrs } from './authorized-keys.js';
export { hostFacts, parseHostFacts, type HostFactsData } from './gather.js';
export { treeMismatch, type TreeWant, type TreeMismatchFact } from './tree.js';
