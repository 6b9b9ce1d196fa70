/**
 * The Kysely `Database` interface: one entry per table, keyed `schema.table`. Tables arrive with
 * the migrations that create them; today the migrations only create the `medreport` and
 * `ptitspas` schemas.
 */
export interface Database {}
