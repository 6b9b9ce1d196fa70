-- The role the API instances connect as through PgBouncer (DATABASE_APP_URL), with the grants
-- db/app-role.ts gives it when the server manages the role itself (DATABASE_APP_URL unset):
-- LOGIN and a password only (never SUPERUSER or BYPASSRLS: row-level security must apply), DML on
-- the API's schemas. Run by deploy/compose.yaml as the owner after the migrations:
--   psql -v ON_ERROR_STOP=1 -v app_password=... -f app-role.sql

select 'create role medreport_app login'
 where not exists (select from pg_roles where rolname = 'medreport_app') \gexec

alter role medreport_app with login password :'app_password';

grant usage on schema medreport, ptitspas, ops to medreport_app;
grant select, insert, update, delete on all tables in schema medreport, ptitspas, ops to medreport_app;
grant usage, select on all sequences in schema medreport, ptitspas, ops to medreport_app;
-- The few SECURITY DEFINER functions that cross organizations (migration 0007) are not PUBLIC.
grant execute on all functions in schema medreport, ptitspas, ops to medreport_app;
