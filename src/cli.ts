import { Command } from 'commander';
import type { Kysely } from 'kysely';
import { connect } from '../db/connection.js';
import { migrate, migrationStatus } from '../db/migrate.js';
import { provisionDatabase } from '../db/provision.js';
import { passwords } from '../plugins/passwords.js';
import { createAdmin } from '../routes/medreport/users/admin.js';
import { ConfigError, loadConfig, loadDotEnv } from './config.js';

/**
 * Runs `task` against the server's database: DATABASE_URL, or the embedded cluster under DATA_DIR
 * (the running server's when there is one, otherwise started for the duration of the command).
 */
async function withDatabase<T>(task: (db: Kysely<any>) => Promise<T>): Promise<T> {
  loadDotEnv();
  const config = loadConfig();
  const database = await provisionDatabase(config, 'attach');
  const { db } = connect(database.url, { max: 1 });
  try {
    return await task(db);
  } finally {
    await db.destroy();
    await database.release();
  }
}

const program = new Command('cli').description('Operations on the MedReport & PtitsPas server').showHelpAfterError();

const migrations = program.command('migrate').description('database migrations');

migrations
  .command('up')
  .description('apply every pending migration')
  .action(() =>
    withDatabase(async (db) => {
      const { results = [] } = await migrate(db, 'latest');
      for (const r of results) console.log(`applied ${r.migrationName}`);
      if (results.length === 0) console.log('already up to date');
    }),
  );

migrations
  .command('down')
  .description('revert the most recent migration')
  .action(() =>
    withDatabase(async (db) => {
      const { results = [] } = await migrate(db, 'down');
      for (const r of results) console.log(`reverted ${r.migrationName}`);
      if (results.length === 0) console.log('nothing to revert');
    }),
  );

migrations
  .command('status')
  .description('list migrations and when each was applied')
  .action(() =>
    withDatabase(async (db) => {
      for (const m of await migrationStatus(db)) {
        console.log(`${m.executedAt ? m.executedAt.toISOString() : 'pending                 '}  ${m.name}`);
      }
    }),
  );

program
  .command('admin:create')
  .description('create a platform administrator, or promote the existing account with that e-mail')
  .requiredOption('--email <email>', 'e-mail address')
  .requiredOption('--password <password>', 'password for a new account (8 characters at least)')
  .requiredOption('--name <name>', 'display name for a new account')
  .action((options: { email: string; password: string; name: string }) =>
    withDatabase(async (db) => {
      const config = loadConfig();
      const outcome = await createAdmin(db, options, passwords(config.passwordHashing));
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
