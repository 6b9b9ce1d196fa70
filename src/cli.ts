import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Kysely } from 'kysely';
import type { ListedObject, Storage } from '../adapters/storage/index.js';
import { connect } from '../db/connection.js';
import { APP_SCHEMAS, lossesOfRevert, migrate, migrationStatus, resetDatabase } from '../db/migrate.js';
import type { Database } from '../db/schema.js';
import { DEMO_PASSWORD } from '../db/seed-demo.js';
import { refuseWhileServerConnected } from '../db/server-connections.js';
import type { StorageReference } from '../domain/shared/storage-check.js';
import { ConfigError, loadConfig, loadDotEnv } from './config.js';
import { parseDuration, resolveNirKeys } from './config-values.js';
import { confirmOrAbort } from './confirm.js';
import { provisionDatabase } from './provision.js';
import { VERSION } from './version.js';

// A command loads its own modules when it runs (`await import`), not at start: `--version`,
// `migrate` and the small commands do not pay for the storage SDK, the PDF renderer or argon2.

/** Stops `command` before it touches anything when NODE_ENV=production, unless `--force`. */
function refuseInProduction(command: string, force: boolean | undefined, why: string): void {
  loadDotEnv();
  if (loadConfig().env === 'production' && !force) throw new Error(`${command} refused: ${why}`);
}

/** Not a server's (db/server-connections.ts): the CLI's own connection never counts as one. */
const CLI_APPLICATION_NAME = 'medreport-ptitspas-cli';

/**
 * Runs `task` against the server's database: DATABASE_URL, or the embedded cluster under DATA_DIR
 * (the running server's when there is one, otherwise started for the duration of the command).
 * `migrated`: pending migrations are applied first, as `npm start` does, so the command works on a
 * fresh data directory.
 */
async function withDatabase<T>(
  task: (db: Kysely<Database>, where: string) => Promise<T>,
  { migrated = true } = {},
): Promise<T> {
  loadDotEnv();
  const config = loadConfig();
  const database = await provisionDatabase(config, 'attach');
  const { db } = connect(database.url, { max: 1, applicationName: CLI_APPLICATION_NAME });
  try {
    if (migrated) {
      const { results = [] } = await migrate(db, 'latest');
      for (const r of results) console.log(`applied ${r.migrationName}`);
    }
    return await task(db, database.where);
  } finally {
    await db.destroy();
    await database.release();
  }
}

/** Refuses, in one line naming the option, a file the command could not read (before any database work). */
async function readableFile(option: string, file: string): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    throw new Error(
      info.code === 'ENOENT'
        ? `${option}: no file ${file} (looked in ${process.cwd()})`
        : `${option}: ${file} cannot be read (${info.code ?? info.message})`,
    );
  }
  if (!info.isFile()) throw new Error(`${option}: ${file} is not a file`);
  await access(file, constants.R_OK).catch(() => {
    throw new Error(`${option}: ${file} cannot be read (permission denied)`);
  });
}

/** Runs `task` with the server's storage (STORAGE and its variables), closed afterwards. */
async function withStorage<T>(task: (storage: Storage) => Promise<T>): Promise<T> {
  const { createStorage } = await import('../adapters/storage/index.js');
  const storage = await createStorage(loadConfig().storage);
  try {
    return await task(storage);
  } finally {
    await storage.close();
  }
}

/** The server's password hasher, as configured (argon2 loads only for the commands that hash). */
async function passwordHasher(concurrency?: number) {
  const { passwords, queueBounds } = await import('../plugins/passwords.js');
  const config = loadConfig();
  return passwords(config.passwordHashing, queueBounds(concurrency ?? config.passwordHashConcurrency)).internal;
}

/** A progress bar on stderr (`what` [bar] percentage value/total rows). */
async function progressBar(what: string) {
  const { SingleBar } = await import('cli-progress');
  return new SingleBar({ format: `${what} [{bar}] {percentage}% {value}/{total} rows`, stream: process.stderr });
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

const program = new Command('npm run cli --')
  .description('Operations on the MedReport & PtitsPas server (same database as `npm start`)')
  .version(VERSION)
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
  .description(
    'revert the most recent migration; on a terminal, asks first (--yes: no question); refused while a server is connected, and when it would drop data (unless --force)',
  )
  .option('--force', 'revert even if tables or columns holding data are dropped')
  .option('--yes', 'do not ask for confirmation on a terminal')
  .action((options: { force?: boolean; yes?: boolean }) =>
    withDatabase(
      async (db) => {
        const plan = async () => {
          await refuseWhileServerConnected(db, 'migrate down');
          return lossesOfRevert(db);
        };
        const { name, losses } = await plan();
        if (!name) return console.log('nothing to revert');
        const lost = losses.map(
          (l) => `${l.table}${l.column ? `.${l.column}` : ''}: ${l.rows} row(s)${l.column ? ' with a value' : ''}`,
        );
        if (losses.length > 0 && !options.force) {
          throw new Error(
            `reverting ${name} would delete data:\n${lost.map((l) => `  ${l}`).join('\n')}\nNothing was changed. Run with --force to revert anyway.`,
          );
        }
        const deleting = losses.length > 0 ? ` (deletes ${lost.join(', ')})` : '';
        const asked = await confirmOrAbort(
          `Revert migration ${name}${deleting}?`,
          options.yes,
          `${name} was not reverted (not confirmed)`,
        );
        // The answer may come long after the question: the database must still be as described.
        const now = asked ? await plan() : { name, losses };
        if (now.name !== name || (now.losses.length > 0 && !options.force)) {
          throw new Error(`the database changed while waiting for the answer: ${name} was not reverted; run again`);
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
  .command('db:reset')
  .description(
    `empty the database: drop the schemas ${APP_SCHEMAS.join(', ')} and the migration history, then apply every migration; on a terminal, asks first (--yes: no question); refused while a server is connected, and when NODE_ENV=production (unless --force)`,
  )
  .option('--force', 'reset even when NODE_ENV=production')
  .option('--yes', 'do not ask for confirmation on a terminal')
  .action(async (options: { force?: boolean; yes?: boolean }) => {
    refuseInProduction('db:reset', options.force, 'NODE_ENV=production; nothing was changed (--force resets anyway)');
    return withDatabase(
      async (db, where) => {
        await refuseWhileServerConnected(db, 'db:reset');
        const asked = await confirmOrAbort(
          `Reset ${where}, deleting every row of both APIs?`,
          options.yes,
          'the database was not reset (not confirmed)',
        );
        if (asked) await refuseWhileServerConnected(db, 'db:reset');
        const { results = [] } = await resetDatabase(db);
        console.log(`dropped the schemas ${APP_SCHEMAS.join(', ')} and the migration history of ${where}`);
        console.log(`applied ${results.length} migrations, up to ${results.at(-1)?.migrationName}`);
      },
      { migrated: false },
    );
  });

program
  .command('admin:create')
  .description('create a MedReport platform administrator, or promote the existing account with that e-mail')
  .requiredOption('--email <email>', 'e-mail address')
  .requiredOption('--name <name>', 'display name for a new account')
  .option('--password <password>', 'password for a new account; omit it to type it at a prompt or pipe it on stdin')
  .action((options: { email: string; password?: string; name: string }) =>
    withDatabase(async (db) => {
      const { createAdmin } = await import('../domain/medreport/admin/create-admin.js');
      const outcome = await createAdmin(
        db,
        {
          email: options.email,
          name: options.name,
          password: async () => options.password ?? (await readSecret('Password: ')),
        },
        await passwordHasher(),
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

program
  .command('ptitspas:create-admin')
  .description('create the PtitsPas super admin (idempotent: an existing super admin is left unchanged)')
  .requiredOption('--email <email>', 'e-mail address')
  .requiredOption('--prenom <prenom>', 'first name')
  .requiredOption('--nom <nom>', 'last name')
  .option('--password <password>', 'password (8 to 128 characters); omit it to type it at a prompt or pipe it on stdin')
  .action((options: { email: string; prenom: string; nom: string; password?: string }) =>
    withDatabase(async (db) => {
      const { createSuperAdmin } = await import('../domain/ptitspas/users/admin.js');
      const outcome = await createSuperAdmin(
        db,
        { ...options, password: async () => options.password ?? (await readSecret('Password: ')) },
        await passwordHasher(),
      );
      console.log(
        outcome === 'created'
          ? `created PtitsPas super admin ${options.email}`
          : `${options.email} is already a PtitsPas super admin (nothing changed)`,
      );
    }),
  );

program
  .command('ptitspas:import')
  .description(
    'import PtitsPas families (parents and children) and childminders from CSV (columns: docs/ptitspas.md); idempotent',
  )
  .requiredOption('--users <file>', 'parents (with their famille) and childminders')
  .option('--enfants <file>', 'children, each with the famille of its parents')
  .action(async (options: { users: string; enfants?: string }) => {
    await readableFile('--users', options.users);
    if (options.enfants !== undefined) await readableFile('--enfants', options.enfants);
    return withDatabase(async (db) => {
      const { importPtitsPas } = await import('../domain/ptitspas/import/index.js');
      const started = performance.now();
      const bar = await progressBar('importing');
      bar.start(1, 0);
      const summary = await importPtitsPas(db, options, (done, total) => {
        bar.setTotal(Math.max(total, 1));
        bar.update(done);
      }).finally(() => bar.stop());
      for (const e of summary.errors) console.error(`${e.file}:${e.line}: ${e.message}`);
      console.log(
        `${summary.families} families (${summary.parents} parents, ${summary.enfants} children) and ` +
          `${summary.childminders} childminders imported, ${summary.alreadyPresent} already present, ` +
          `${summary.errors.length} rows rejected, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      if (summary.errors.length > 0) process.exitCode = 1;
    });
  });

program
  .command('ptitspas:rotate-nir-key')
  .description('re-encrypt every stored NIR under the current key (the first of PTITSPAS_NIR_KEYS)')
  .action(() =>
    withDatabase(async (db) => {
      const { NirCipher } = await import('../domain/ptitspas/assistantes-maternelles/nir.js');
      const { reencryptNirs } = await import('../domain/ptitspas/assistantes-maternelles/nir-rotation.js');
      const cipher = new NirCipher(await resolveNirKeys(loadConfig()));
      const count = await reencryptNirs(db, cipher);
      console.log(`${count} NIR(s) re-encrypted under key ${cipher.current.id}`);
    }),
  );

const count = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) > 10_000_000) throw new InvalidArgumentError('a whole number');
  return Number(value);
};

program
  .command('ptitspas:watch')
  .description(
    'log in to a running server as a PtitsPas account and print its notifications as they arrive (the live socket)',
  )
  .requiredOption('--email <email>', 'the account')
  .option('--password <password>', 'its password; omit it to type it at a prompt or pipe it on stdin')
  .option('--url <url>', 'the server (default: PUBLIC_URL, as `npm start` serves it)')
  .option('--depuis <id>', 'first replay the notifications after this one')
  .option('--count <n>', 'stop after this many', count)
  .action(async (options: { email: string; password?: string; url?: string; depuis?: string; count?: number }) => {
    loadDotEnv();
    const { watchNotifications } = await import('./watch-notifications.js');
    await watchNotifications({
      url: (options.url ?? loadConfig().publicUrl).replace(/\/+$/, ''),
      email: options.email,
      password: options.password ?? (await readSecret('Password: ')),
      depuis: options.depuis,
      count: options.count,
      print: (line) => console.log(line),
    });
  });

interface SeedOptions {
  orgs: number;
  usersPerOrg: number;
  patients: number;
  largeOrg: number;
  seed: number;
  dossiers: number;
  force?: boolean;
}

program
  .command('seed:demo')
  .description(
    `add demo data to both APIs, an account of each role (password "${DEMO_PASSWORD}"), and print them: a MedReport platform administrator, organizations with their owner, doctors and patients; PtitsPas staff of each role, families whose children have a dossier with its pieces (their bytes written to the storage), a childminder with contracts, a journal and messages; idempotent, deterministic (PtitsPas ids aside)`,
  )
  .option('--orgs <n>', 'organizations', count, 50)
  .option('--users-per-org <n>', 'users per organization, the owner included', count, 10)
  .option('--patients <n>', 'patients in all, spread over the organizations', count, 100_000)
  .option('--large-org <n>', 'patients of one more organization, "Clinique Démo Export"', count, 0)
  .option('--seed <n>', 'seed of the generator: the same seed gives the same rows', count, 42)
  .option('--dossiers <n>', 'PtitsPas children with a dossier d’inscription, in its four states in turn', count, 5)
  .option('--force', 'seed even when NODE_ENV=production (accounts with a published password)')
  .action((options: SeedOptions) => {
    refuseInProduction(
      'seed:demo',
      options.force,
      'NODE_ENV=production, and its accounts (administrators included) share a published password; nothing was changed (--force seeds anyway)',
    );
    return withDatabase(async (db) => {
      if (options.orgs < 1 || options.usersPerOrg < 1) throw new Error('--orgs and --users-per-org must be at least 1');
      if (options.dossiers > 1_000) throw new Error('--dossiers must be at most 1000');
      const config = loadConfig();
      const { seedDemo } = await import('../db/seed-demo.js');
      const demo = await import('../domain/ptitspas/demo.js');
      const { contratDocuments } = await import('../domain/ptitspas/contrats/writes.js');
      const { demoAccountLines } = await import('./demo-accounts.js');
      const passwordHash = await (await passwordHasher(1)).hash(DEMO_PASSWORD);
      const bar = await progressBar('seeding');
      bar.start(1, 0);
      const summary = await seedDemo(
        db,
        { ...options, largeOrgPatients: options.largeOrg },
        passwordHash,
        (done, total) => {
          bar.setTotal(total);
          bar.update(done);
        },
      ).finally(() => bar.stop());
      console.log(
        `${summary.organizations} organizations of ${options.usersPerOrg} users each (an owner and doctors), ` +
          `a platform administrator, ${summary.patients} patients (${summary.insertedPatients} added by this run)`,
      );
      const staff = await demo.seedDemoStaff(db, { passwordHash });
      console.log(
        `${staff.staff} PtitsPas staff accounts, one per role above the childminders (${staff.inserted} added by this run)`,
      );
      // The pieces' bytes go to the server's storage (STORAGE), as an upload's do.
      const { ptitspas, contrats } = await withStorage(async (storage) => ({
        ptitspas: await demo.seedDemoDossiers(db, storage, { children: options.dossiers, passwordHash }),
        // Signed contracts' documents are rendered and stored as a signature through the API would.
        contrats: await demo.seedDemoContrats(db, contratDocuments(storage, config.publicUrl), {
          families: options.dossiers,
          passwordHash,
        }),
      }));
      const states = Object.entries(ptitspas.dossiers).map(([statut, n]) => `${statut} ${n}`);
      console.log(
        `${options.dossiers} PtitsPas dossiers (${states.join(', ')}; ${ptitspas.inserted} added by this run, ` +
          `${ptitspas.storedPieces} pieces stored) of the children of parent.N@${demo.PTITSPAS_DEMO_DOMAIN}, ` +
          `reviewed by ${demo.PTITSPAS_DEMO_GESTIONNAIRE}`,
      );
      console.log(
        `${contrats.signe} signed and ${contrats.propose} proposed PtitsPas contracts with ${demo.PTITSPAS_DEMO_ASSISTANTE} ` +
          `(${contrats.inserted} added by this run)`,
      );
      const journal = await demo.seedDemoJournal(db, { passwordHash });
      console.log(
        `${journal.evenements} events (the week before today) in the journal of parent.1@${demo.PTITSPAS_DEMO_DOMAIN}'s ` +
          `child and ${journal.messages} messages between that parent and ${demo.PTITSPAS_DEMO_ASSISTANTE} added by this run`,
      );
      for (const line of demoAccountLines({ ...options, largeOrgPatients: options.largeOrg })) console.log(line);
    });
  });

const duration = (value: string) => {
  if (!/^[1-9][0-9]*[smhd]?$/.test(value)) throw new InvalidArgumentError('a duration such as 90s, 30m, 1h or 2d');
  return parseDuration(value);
};

const bytes = (n: number) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(1)} ${units[unit]}`;
};
const totalSize = (objects: ListedObject[]) => bytes(objects.reduce((sum, o) => sum + o.size, 0));
const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

/** The first `limit` lines, and how many more there are. */
function listed<T>(items: T[], limit: number, line: (item: T) => string) {
  for (const item of items.slice(0, limit)) console.log(`  ${line(item)}`);
  if (items.length > limit) console.log(`  … and ${items.length - limit} more (--limit to show more)`);
}

/** What to do about a row whose bytes are gone, by table. */
const MISSING_ADVICE: Record<string, string> = {
  'medreport.files':
    'restore the object from a backup under the same key; if it is lost for good, ask the organization to upload the document again, then delete the row (a soft delete keeps pointing at the key)',
  'medreport.users': 'restore the avatar from a backup, or set the column to null so the user uploads a new one',
  'ptitspas.uploads':
    'restore the object from a backup under the same key; if it is lost for good, ask its author for the document again, then delete the upload (DELETE /api/v1/uploads/{id}, once no dossier lists it)',
};

program
  .command('storage:check')
  .description(
    'compare the storage (STORAGE) with the rows pointing at it: objects no row references (orphans) and rows whose object is gone; exit code 1 when either is found (after --fix, when objects are missing)',
  )
  .option('--fix', 'remove the orphan objects (never a row)')
  .addOption(
    new Option('--grace <duration>', 'objects modified more recently are never orphans (uploads in progress)')
      .argParser(duration)
      .default(3600, '1h'),
  )
  .option('--limit <n>', 'keys shown of each kind', count, 20)
  .action((options: { fix?: boolean; grace: number; limit: number }) =>
    withDatabase((db) =>
      withStorage(async (storage) => {
        const { checkStorage, fixStorage } = await import('../domain/shared/storage-check.js');
        const { storage: settings } = loadConfig();
        const where =
          settings.backend === 'local' ? `local directory ${settings.root}` : `S3 bucket ${settings.bucket}`;
        const olderThan = new Date(Date.now() - options.grace * 1000);
        const report = await checkStorage(db, storage, { olderThan });
        const { orphanObjects: orphans, missingObjects: missing } = report;
        console.log(
          `${where}: ${plural(report.scanned, 'object')} listed, ${plural(report.rows, 'row')} pointing at objects; ` +
            `objects modified since ${olderThan.toISOString()} left out of the orphans`,
        );
        if (orphans.length === 0 && missing.length === 0) {
          console.log('storage is consistent: every object has its row, every row its object');
          return;
        }
        if (orphans.length > 0) {
          console.log(`\n${plural(orphans.length, 'orphan object')} (no row references them), ${totalSize(orphans)}:`);
          listed(orphans, options.limit, (o) => `${o.key}  ${bytes(o.size)}  modified ${o.modified.toISOString()}`);
        }
        if (missing.length > 0) {
          console.log(`\n${plural(missing.length, 'missing object')} (rows whose object is not in storage):`);
          listed(missing, options.limit, (m: StorageReference) => `${m.table} ${m.id}  ${m.key}`);
          console.log('These cannot be fixed here:');
          for (const table of new Set(missing.map((m) => m.table)))
            console.log(`  ${table}: ${MISSING_ADVICE[table]}.`);
        }
        let unresolved = missing.length > 0;
        if (orphans.length > 0 && options.fix) {
          const fixed = await fixStorage(db, storage, report);
          console.log(`\nremoved ${plural(fixed.removed.length, 'orphan object')}, ${totalSize(fixed.removed)}`);
          if (fixed.kept.length > 0) {
            console.log(`kept ${plural(fixed.kept.length, 'object')} a row references by now`);
          }
          for (const { object, error } of fixed.failed) console.error(`could not remove ${object.key}: ${error}`);
          if (fixed.failed.length > 0) unresolved = true;
        } else if (orphans.length > 0) {
          console.log('\nrun again with --fix to remove the orphan objects');
          unresolved = true;
        }
        if (unresolved) process.exitCode = 1;
      }),
    ),
  );

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(err instanceof ConfigError ? `Configuration error: ${message}` : `Error: ${message}`);
  process.exit(1);
});
