/** The actions of `meta` (modules/control/meta.ts checks them; engine/meta.ts applies them). */
export const META_ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'end_batch', 'clear_facts', 'clear_host_errors', 'noop'] as const;
export type MetaAction = (typeof META_ACTIONS)[number];
