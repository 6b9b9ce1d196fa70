import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import type { Kysely } from 'kysely';
import { connect } from '../db/connection.js';
import { lossesOfRevert, migrate, migrationStatus } from '../db/migrate.js';
import { provisionDatabase } from '../db/provision.js';
import { passwords } from '../plugins/passwords.js';
import { createAdmin } from '../routes/medreport/users/admin.js';
import { ConfigError, loadConfig, loadDotEnv } from './config.js';

/**
 * Runs `task` against the server's database: DATABASE_URL, or the embedded cluster under DATA_DIR
 * (the running server's when there is one, otherwise started for the duration of the command).
 * `migrated`: pending migrations are applied first, as `npm start` does, so the command works on a
 * fresh data directory.
 */
async function withDatabase<T>(task: (db: Kysely<any>) => Promise<T>, { migrated = true } = {}): Promise<T> {
  loadDotEnv();
  const config = loadConfig();
  const database = await provisionDatabase(config, 'attach');
  const { db } = connect(database.url, { max: 1 });
  try {
    if (migrated) {
      const { results = [] } = await migrate(db, 'latest');
      for (const r of results) console.log(`applied ${r.migrationName}`);
    }
    return await task(db);
  } finally {
    await db.destroy();
    await database.release();
  }
}

/** A secret typed at a prompt that does not echo it, or the first line of a piped stdin. */
async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    return input.split(/\r?\n/)[0] ?? '';
  }
  const ask = async (question: string) => {
    process.stderr.write(question);
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
    const answer = await new Promise<string>((resolve) => rl.question('', resolve));
    rl.close();
    process.stderr.write('\n');
    return answer;
  };
  const first = await ask(prompt);
  if ((await ask('Once more: ')) !== first) throw new Error('the two passwords differ');
  return first;
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('npm run cli --')
  .description('Operations on the MedReport & PtitsPas server (same database as `npm start`)')
  .version(version)
  .showHelpAfterError();

const migrations = program.command('migrate').description('database migrations');

migrations
  .command('up')
  .description('apply every pending migration')
  .action(() =>
    withDatabase(
      async (db) => {
        const { results = [] } = await migrate(db, 'latest');
        for (const r of results) console.log(`applied ${r.migrationName}`);
        if (results.length === 0) console.log('already up to date');
      },
      { migrated: false },
    ),
  );

migrations
  .command('down')
  .description('revert the most recent migration (refused when it would drop data, unless --force)')
  .option('--force', 'revert even if tables or columns holding data are dropped')
  .action((options: { force?: boolean }) =>
    withDatabase(
      async (db) => {
        const { name, losses } = await lossesOfRevert(db);
        if (!name) return console.log('nothing to revert');
        if (losses.length > 0 && !options.force) {
          const lines = losses.map(
            (l) => `  ${l.table}${l.column ? `.${l.column}` : ''}: ${l.rows} row(s)${l.column ? ' with a value' : ''}`,
          );
          throw new Error(
            `reverting ${name} would delete data:\n${lines.join('\n')}\nNothing was changed. Run with --force to revert anyway.`,
          );
        }
        const { results = [] } = await migrate(db, 'down');
        for (const r of results) console.log(`reverted ${r.migrationName}`);
      },
      { migrated: false },
    ),
  );

migrations
  .command('status')
  .description('list migrations and when each was applied')
  .action(() =>
    withDatabase(
      async (db) => {
        for (const m of await migrationStatus(db)) {
          console.log(`${m.executedAt ? m.executedAt.toISOString() : 'pending                 '}  ${m.name}`);
        }
      },
      { migrated: false },
    ),
  );

program
  .command('admin:create')
  .description('create a MedReport platform administrator, or promote the existing account with that e-mail')
  .requiredOption('--email <email>', 'e-mail address')
  .requiredOption('--name <name>', 'display name for a new account')
  .option('--password <password>', 'password for a new account; omit it to type it at a prompt or pipe it on stdin')
  .action((options: { email: string; password?: string; name: string }) =>
    withDatabase(async (db) => {
      const config = loadConfig();
      const outcome = await createAdmin(
        db,
        {
          email: options.email,
          name: options.name,
          password: async () => options.password ?? (await readSecret('Password: ')),
        },
        passwords(config.passwordHashing, config.passwordHashConcurrency),
      );
      console.log(
        outcome === 'created'
          ? `created administrator ${options.email}`
          : outcome === 'promoted'
            ? `promoted existing account ${options.email} to administrator (its password is unchanged)`
            : `${options.email} is already an administrator (nothing changed)`,
      );
    }),
  );

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(err instanceof ConfigError ? `Configuration error: ${message}` : `Error: ${message}`);
  process.exit(1);
});
