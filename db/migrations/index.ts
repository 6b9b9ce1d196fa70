import type { Migration } from 'kysely';
import * as apiSchemas from './0001_api_schemas.js';
import * as medreportAccounts from './0002_medreport_accounts.js';
import * as medreportOrganizations from './0003_medreport_organizations.js';
import * as medreportRecords from './0004_medreport_records.js';
import * as medreportAvatarIndex from './0005_medreport_avatar_index.js';
import * as medreportHotPath from './0006_medreport_hot_path.js';
import * as medreportSync from './0007_medreport_sync.js';
import * as medreportActivityLogKeys from './0008_medreport_activity_log_keys.js';
import * as medreportPlatformAdmin from './0009_medreport_platform_admin.js';
import * as ptitspasAccounts from './0010_ptitspas_accounts.js';
import * as ptitspasFamilles from './0011_ptitspas_familles.js';
import * as medreportRlsOncePerStatement from './0012_medreport_rls_once_per_statement.js';
import * as medreportAccountEvents from './0013_medreport_account_events.js';
import * as medreportSyncHorizonTime from './0014_medreport_sync_horizon_time.js';
import * as ptitspasUploadsDossiers from './0015_ptitspas_uploads_dossiers.js';
import * as ptitspasContrats from './0016_ptitspas_contrats.js';
import * as medreportDocuments from './0017_medreport_documents.js';
import * as ptitspasNotificationsDelivery from './0018_ptitspas_notifications_delivery.js';
import * as ptitspasEvenements from './0019_ptitspas_evenements.js';
import * as ptitspasMessages from './0020_ptitspas_messages.js';
import * as ptitspasLive from './0021_ptitspas_live.js';
import * as opsJobs from './0022_ops_jobs.js';
import * as medreportDistributionKeys from './0023_medreport_distribution_keys.js';
import * as ptitspasProfileAnnounced from './0024_ptitspas_profile_announced.js';
import * as medreportRecordCounts from './0025_medreport_record_counts.js';
import * as ptitspasRowCounts from './0026_ptitspas_row_counts.js';
import * as medreportRecordSessionKeys from './0027_medreport_record_session_keys.js';
import * as medreportOtherOrganizationsStatic from './0028_medreport_other_organizations_static.js';

/**
 * Every migration, by name; names sort in the order they run. Listed explicitly (not read from
 * the directory) so the same code runs from TypeScript sources and from the compiled `dist/`.
 */
export const migrations: Record<string, Migration> = {
  '0001_api_schemas': apiSchemas,
  '0002_medreport_accounts': medreportAccounts,
  '0003_medreport_organizations': medreportOrganizations,
  '0004_medreport_records': medreportRecords,
  '0005_medreport_avatar_index': medreportAvatarIndex,
  '0006_medreport_hot_path': medreportHotPath,
  '0007_medreport_sync': medreportSync,
  '0008_medreport_activity_log_keys': medreportActivityLogKeys,
  '0009_medreport_platform_admin': medreportPlatformAdmin,
  '0010_ptitspas_accounts': ptitspasAccounts,
  '0011_ptitspas_familles': ptitspasFamilles,
  '0012_medreport_rls_once_per_statement': medreportRlsOncePerStatement,
  '0013_medreport_account_events': medreportAccountEvents,
  '0014_medreport_sync_horizon_time': medreportSyncHorizonTime,
  '0015_ptitspas_uploads_dossiers': ptitspasUploadsDossiers,
  '0016_ptitspas_contrats': ptitspasContrats,
  '0017_medreport_documents': medreportDocuments,
  '0018_ptitspas_notifications_delivery': ptitspasNotificationsDelivery,
  '0019_ptitspas_evenements': ptitspasEvenements,
  '0020_ptitspas_messages': ptitspasMessages,
  '0021_ptitspas_live': ptitspasLive,
  '0022_ops_jobs': opsJobs,
  '0023_medreport_distribution_keys': medreportDistributionKeys,
  '0024_ptitspas_profile_announced': ptitspasProfileAnnounced,
  '0025_medreport_record_counts': medreportRecordCounts,
  '0026_ptitspas_row_counts': ptitspasRowCounts,
  '0027_medreport_record_session_keys': medreportRecordSessionKeys,
  '0028_medreport_other_organizations_static': medreportOtherOrganizationsStatic,
};
