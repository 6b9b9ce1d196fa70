import { setTimeout as sleep } from 'node:timers/promises';
import type { MedReportUser, PtitsPasAccount } from './accounts.js';
import type { Budgets } from './budgets.js';
import { MEDREPORT_SCENARIOS } from './medreport-workload.js';
import { PTITSPAS_SCENARIOS } from './ptitspas-workload.js';
import type { Client, Scenario } from './scenario.js';
import type { Traffic } from './traffic.js';

export interface WorkloadOptions {
  seconds: number;
  clients: number;
}

/** A scenario and the actors it may run as (one virtual client's own users or accounts). */
type Choice = { scenario: Scenario<never>; actors: unknown[] };

/**
 * `clients` virtual clients, each with its own share of the users and accounts, run scenarios
 * for `seconds`: each picks one by weight, runs it if the rate limits leave room for all its
 * requests, and alternates its requests between the instances.
 */
export async function runWorkload(
  traffic: Traffic,
  budgets: Budgets,
  options: WorkloadOptions,
  actors: { medreport: MedReportUser[]; ptitspas: PtitsPasAccount[] },
): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + options.seconds * 1000;
  const share = <T>(list: T[], i: number) => list.filter((_, j) => j % options.clients === i);
  await Promise.all(
    Array.from({ length: options.clients }, (_, i) => {
      let next = i % 2;
      const client: Client = { traffic, budgets, side: () => next++ % 2 };
      const choices: Choice[] = [
        ...MEDREPORT_SCENARIOS.map((scenario) => ({ scenario, actors: share(actors.medreport, i) })),
        ...PTITSPAS_SCENARIOS.map((scenario) => ({ scenario, actors: share(actors.ptitspas, i) })),
      ].filter((c) => c.actors.length > 0) as Choice[];
      return virtualClient(client, choices, deadline);
    }),
  );
  return performance.now() - started;
}

async function virtualClient(client: Client, choices: Choice[], deadline: number): Promise<void> {
  const total = choices.reduce((n, c) => n + c.scenario.weight, 0);
  while (Date.now() < deadline) {
    const ran = await runOne(client, choices, total);
    // Every user of this client is at a limit: wait for a window to reopen.
    if (!ran) await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
  }
}

/** Tries a few weighted picks; runs the first whose requests all fit the limits. */
async function runOne(client: Client, choices: Choice[], total: number): Promise<boolean> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const choice = weightedPick(choices, total);
    const actor = choice.actors[Math.floor(Math.random() * choice.actors.length)] as never;
    const charges = choice.scenario.charges(actor);
    if (charges && client.budgets.take(charges)) {
      await choice.scenario.run(client, actor);
      return true;
    }
  }
  return false;
}

function weightedPick(choices: Choice[], total: number): Choice {
  let roll = Math.random() * total;
  for (const choice of choices) {
    roll -= choice.scenario.weight;
    if (roll < 0) return choice;
  }
  return choices[0]!;
}
