/** Docker modules: compose-deploy (with its exposure policy). */
import type { AnyModule } from '../define.js';
import composeDeploy from './compose-deploy.js';

export const DOCKER_MODULES: AnyModule[] = [composeDeploy];
