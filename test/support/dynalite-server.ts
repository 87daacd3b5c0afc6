import { type EmbeddedDynalite, startEmbeddedDynalite } from '../../lambdas/local/embedded-dynalite';

export type DynaliteServer = EmbeddedDynalite;

/** An independent, empty in-memory dynalite on a free loopback port; stop it in afterAll. */
export const startDynalite = (): Promise<DynaliteServer> => startEmbeddedDynalite();
